"""Hostile mail for the parse budget (issue 9): one builder per class of attack,
and random structural mutations of real mails (the fuzz corpus).

Every builder is deterministic. Sizes are those the review measured (150,000
encoded-words, 2 MB of CDATA, 1.6 MB of parameters, 300,000 parts), so a test
over them shows the fix at the scale of the attack.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator, Sequence

from tests.support.tnef_builder import attribute

_HEAD = (
    b"From: Robert Finch <bob.finch@example.com>\r\n"
    b"To: complaints@northgatehomes.org.uk\r\n"
    b"Message-ID: <hostile-%s@mail.example.com>\r\n"
    b"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
)
_TNEF_SIGNATURE = b"\x78\x9f\x3e\x22\x00\x00"
_ATT_MAPI_PROPS = 0x00069003


def _mail(name: str, headers: bytes, body: bytes) -> bytes:
    return _HEAD % name.encode() + headers + b"\r\n" + body


def _with_attachment(name: str, content_type: bytes, filename: bytes, payload: bytes) -> bytes:
    import base64

    body = (
        b"--b1\r\nContent-Type: text/plain\r\n\r\nSee the attached file.\r\n"
        b"--b1\r\nContent-Type: " + content_type + b'\r\nContent-Disposition: attachment; filename="'
        + filename + b'"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64.encodebytes(payload).replace(b"\n", b"\r\n")
        + b"--b1--\r\n"
    )
    headers = b"Subject: " + name.encode() + b"\r\nContent-Type: multipart/mixed; boundary=b1\r\n"
    return _mail(name, headers, body)


def tnef_blob(mapi: bytes) -> bytes:
    return _TNEF_SIGNATURE + attribute(0x01, _ATT_MAPI_PROPS, mapi)


def tnef_property_count() -> bytes:
    """A winmail.dat of 21 bytes claiming 2^32 MAPI properties (tnefparse: ~16 h of warnings)."""
    return _with_attachment(
        "tnef-property-count",
        b"application/ms-tnef",
        b"winmail.dat",
        tnef_blob(struct.pack("<I", 0xFFFFFFFF)),
    )


def tnef_value_count() -> bytes:
    """A winmail.dat claiming 2^32 values of a 2-byte type (tnefparse: 4.9 GB in 45 s)."""
    mapi = struct.pack("<IHHI", 1, 0x1002, 0x3001, 0xFFFFFFFF)
    return _with_attachment("tnef-value-count", b"application/ms-tnef", b"winmail.dat", tnef_blob(mapi))


def encoded_words(count: int = 150_000) -> bytes:
    """A Subject of 150,000 encoded-words (email.header.decode_header: 66 s)."""
    return _mail("encoded-words", b"Subject: " + b" ".join([b"=?utf-8?q?damp?="] * count) + b"\r\n", b"x\r\n")


def html_cdata(size: int = 2_000_000) -> bytes:
    """2 MB of ``<![CDATA[>`` in an HTML body (HTMLParser: 78 s)."""
    body = b"<p>The mould is back.</p>" + b"<![CDATA[>" * (size // 10)
    return _mail("html-cdata", b"Subject: cdata\r\nContent-Type: text/html; charset=utf-8\r\n", body)


def content_type_params(size: int = 1_600_000) -> bytes:
    """1.6 MB of Content-Type parameters (the stdlib's _parseparam: 84 s)."""
    params = b"; ".join(b"p%d=v" % i for i in range(size // 10))
    headers = b"Subject: params\r\nContent-Type: text/plain; " + params + b"\r\n"
    return _mail("content-type-params", headers, b"text\r\n")


def mime_parts(count: int = 300_000) -> bytes:
    """300,000 empty MIME parts in 8.7 MB (152 s, 1.1 GB, 300,000 files)."""
    body = b"--p\r\n\r\n" * count + b"--p--\r\n"
    return _mail("mime-parts", b"Subject: parts\r\nContent-Type: multipart/mixed; boundary=p\r\n", body)


def deep_nesting(depth: int = 5_000) -> bytes:
    level = b"--n%d\r\nContent-Type: multipart/mixed; boundary=n%d\r\n\r\n"
    body = b"".join(level % (i, i + 1) for i in range(depth))
    return _mail("deep-nesting", b"Subject: nesting\r\nContent-Type: multipart/mixed; boundary=n0\r\n", body)


def unclosed_tags(count: int = 100_000) -> bytes:
    headers = b"Subject: tags\r\nContent-Type: text/html\r\n"
    return _mail("unclosed-tags", headers, b"<a" * count + b"<p>end</p>")


def rich_markup() -> bytes:
    """Terminal markup and escape sequences in the headers (shown as data, never markup)."""
    subject = (
        "[link=https://evil.example]Click[/link] [/x] [bold red]urgent \x1b]8;;https://evil\x07 \u202egnp.exe"
    )
    return _mail(
        "rich-markup",
        b"Subject: " + subject.encode() + b"\r\n",
        "Body with [/x] and \u202e bidi.\r\n".encode(),
    ).replace(b"From: Robert Finch", b"From: \"[link=https://evil.example]Robert[/link]\"")


def dated(year: int) -> bytes:
    """A complaint whose Date: the sender set to ``year`` (1970: epoch; 2097: far future)."""
    return (
        _mail(f"date-{year}", b"Subject: Damp in my flat\r\n", b"The damp is back in my bedroom.\r\n")
        .replace(b"Mon, 23 Nov 2026", b"Mon, 23 Nov %d" % year)
    )


def oversize(size: int) -> bytes:
    """A plain mail of about ``size`` bytes."""
    line = b"x" * 76 + b"\r\n"
    return _mail("oversize", b"Subject: big\r\n", line * (size // len(line) + 1))


def hostile_classes() -> dict[str, bytes]:
    """One mail per class of attack on the parser (issue 9), at the measured scale."""
    return {
        "tnef_property_count": tnef_property_count(),
        "tnef_value_count": tnef_value_count(),
        "encoded_words": encoded_words(),
        "html_cdata": html_cdata(),
        "content_type_params": content_type_params(),
        "mime_parts": mime_parts(),
        "deep_nesting": deep_nesting(),
        "unclosed_tags": unclosed_tags(),
        "rich_markup": rich_markup(),
        "date_1970": dated(1970),
        "date_2097": dated(2097),
    }


# --------------------------------------------------------------------------- structural mutations

_CONTENT_TYPES = (
    b"multipart/mixed",
    b"multipart/mixed; boundary=",
    b"multipart/alternative; boundary=m1",
    b"multipart/related; boundary=m1; start=<x>",
    b"multipart/digest; boundary=m1",
    b"message/rfc822",
    b"message/delivery-status",
    b"application/ms-tnef",
    b"text/html; charset=bogus-8",
    b"text/plain; charset=utf-7",
    b"text/plain; " + b"; ".join(b"q%d=1" % i for i in range(300)),
)
_ENCODINGS = (b"base64", b"quoted-printable", b"8bit", b"x-uuencode", b"base64; junk")


def _lines(raw: bytes) -> list[bytes]:
    return raw.splitlines(keepends=True) or [b""]


def _truncate(raw: bytes, rng: random.Random) -> bytes:
    return raw[: rng.randrange(len(raw) + 1)]


def _duplicate_lines(raw: bytes, rng: random.Random) -> bytes:
    lines = _lines(raw)
    start = rng.randrange(len(lines))
    end = min(len(lines), start + rng.randint(1, 20))
    return b"".join(lines[:end] + lines[start:end] * rng.randint(1, 50) + lines[end:])


def _nest(raw: bytes, rng: random.Random) -> bytes:
    boundary = b"nest%d" % rng.randrange(10_000)
    kind = rng.choice((b"multipart/mixed", b"message/rfc822"))
    if kind == b"message/rfc822":
        return b"From: a@b.example\r\nContent-Type: message/rfc822\r\n\r\n" + raw
    return (
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n--"
        + boundary + b"\r\n" + raw + b"\r\n--" + boundary + b"--\r\n"
    )


def _set_header(raw: bytes, name: bytes, value: bytes) -> bytes:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    return name + b": " + value + b"\r\n" + head + (sep or b"\r\n\r\n") + body


def _content_type(raw: bytes, rng: random.Random) -> bytes:
    return _set_header(raw, b"Content-Type", rng.choice(_CONTENT_TYPES))


def _encoding(raw: bytes, rng: random.Random) -> bytes:
    return _set_header(raw, b"Content-Transfer-Encoding", rng.choice(_ENCODINGS))


def _encoded_words(raw: bytes, rng: random.Random) -> bytes:
    word = rng.choice((b"=?utf-8?q?a?=", b"=?utf-8?b?w6k=?=", b"=?bogus?q?x?=", b"=?utf-8?q?=FF?="))
    header = rng.choice((b"Subject", b"From", b"To"))
    return _set_header(raw, header, b" ".join([word] * rng.randint(1, 3000)))


def _boundary_lines(raw: bytes, rng: random.Random) -> bytes:
    lines = _lines(raw)
    marker = rng.choice((b"--b1\r\n", b"--b1--\r\n", b"--p\r\n", b"--\r\n", b"--=_mailroom\r\n"))
    for _ in range(rng.randint(1, 200)):
        lines.insert(rng.randrange(len(lines) + 1), marker)
    return b"".join(lines)


def _line_ends(raw: bytes, rng: random.Random) -> bytes:
    return raw.replace(b"\r\n", rng.choice((b"\n", b"\r", b"\r\r\n")))


def _flip_bytes(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 20)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _repeat_header(raw: bytes, rng: random.Random) -> bytes:
    header = rng.choice(
        (b"Received: from x by y; Mon, 23 Nov 2026 09:00:00 +0000", b"X-Spam: yes", b"To: a@b")
    )
    return (header + b"\r\n") * rng.randint(2, 2000) + raw


def _many_parts(raw: bytes, rng: random.Random) -> bytes:
    count = rng.randint(1, 3000)
    return (
        b"Content-Type: multipart/mixed; boundary=mp\r\n\r\n--mp\r\n" + raw + b"\r\n"
        + b"--mp\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n" * count + b"--mp--\r\n"
    )


def _tnef(raw: bytes, rng: random.Random) -> bytes:
    mapi = struct.pack("<I", rng.choice((0, 1, 7, 0xFFFFFFFF))) + rng.randbytes(rng.randint(0, 40))
    dat = _with_attachment("fuzz", b"application/ms-tnef", b"winmail.dat", tnef_blob(mapi))
    return _nest(raw, rng) + b"\r\n" + dat


Mutation = Callable[[bytes, random.Random], bytes]
MUTATIONS: tuple[Mutation, ...] = (
    _truncate,
    _duplicate_lines,
    _nest,
    _content_type,
    _encoding,
    _encoded_words,
    _boundary_lines,
    _line_ends,
    _flip_bytes,
    _repeat_header,
    _many_parts,
    _tnef,
)
_MAX_MUTANT_BYTES = 4 * 2**20  # keeps the fuzz set quick to parse at scale


def mutate(raw: bytes, rng: random.Random) -> bytes:
    """One to three random structural mutations of ``raw``."""
    for _ in range(rng.randint(1, 3)):
        raw = rng.choice(MUTATIONS)(raw, rng)[:_MAX_MUTANT_BYTES]
    return raw


def mutations(bases: Sequence[bytes], count: int, seed: int) -> Iterator[bytes]:
    """``count`` mutants of the ``bases`` (real mails), reproducible from ``seed``."""
    rng = random.Random(seed)
    for _ in range(count):
        yield mutate(rng.choice(bases), rng)
