"""Keep secrets out of error lines and logs.

A password or OAuth token rarely comes back verbatim: servers and libraries
echo it escaped (``repr`` of bytes, JSON, an IMAP quoted string), URL-encoded
or base64-encoded (SMTP AUTH PLAIN/LOGIN, and IMAP ``AUTHENTICATE XOAUTH2``
sends ``base64("user=...\\x01auth=Bearer TOKEN\\x01\\x01")``). ``redact`` replaces
every such form with ``***``; ``scrub_credentials`` additionally hides
credential-looking text whose value we do not know (a token command's stderr).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable

MASK = "***"

# A secret echoed inside base64 sits at one of three bit alignments; these are
# the characters that depend on the secret alone at each. Shorter runs than this
# would match ordinary text, so a secret of one or two bytes has no base64 form.
_MIN_BASE64_CORE = 4
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")

_ESCAPES: tuple[Callable[[str], str], ...] = (
    lambda s: repr(s)[1:-1],  # Python str repr: \\ \' \x01
    lambda s: repr(s.encode("utf-8"))[2:-1],  # bytes repr, as imaplib errors show them
    lambda s: json.dumps(s)[1:-1],  # JSON: \" \\ \u0001
    lambda s: s.replace("\\", "\\\\").replace('"', '\\"'),  # IMAP/SMTP quoted string
    lambda s: urllib.parse.quote(s, safe=""),
    lambda s: urllib.parse.quote_plus(s, safe=""),
)


def _escaped_forms(secret: str) -> set[str]:
    """``secret`` and its escaped forms, escaped up to twice (a bytes repr inside
    a JSON error, say)."""
    forms = {secret}
    for _ in range(2):
        forms |= {escape(form) for form in forms for escape in _ESCAPES}
    return {form for form in forms if form}


def _base64_cores(secret: str) -> set[str]:
    """Substrings that any base64 (standard or URL-safe) of text containing
    ``secret`` must contain, whatever bytes come before it."""
    data = secret.encode("utf-8")
    cores = set()
    for lead in range(3):
        encoded = base64.b64encode(b"\0" * lead + data).decode("ascii").rstrip("=")
        skip = -(-lead * 8 // 6)  # characters that carry bits of the lead bytes
        end = (lead + len(data)) * 8 // 6  # after this, bits of whatever follows
        core = encoded[skip:end]
        if len(core) >= _MIN_BASE64_CORE:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


class Redactor:
    """Replaces every known form of the given secrets with ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        cores: set[str] = set()
        for secret in secrets:
            if secret:
                forms |= _escaped_forms(secret)
                cores |= _base64_cores(secret)
        # Longest first, so a secret's escaped form is not half-replaced by the bare one.
        self._forms = sorted(forms, key=len, reverse=True)
        self._cores = tuple(cores)

    def __call__(self, text: str) -> str:
        if self._cores:
            # The whole base64 run goes: its other characters encode the user
            # name and framing around the token, and a partial run is no use to anyone.
            text = _BASE64_RUN.sub(self._mask_base64, text)
        for form in self._forms:
            text = text.replace(form, MASK)
        return text

    def _mask_base64(self, match: re.Match[str]) -> str:
        run = match.group(0)
        return MASK if any(core in run for core in self._cores) else run


def redact(text: str, *secrets: str) -> str:
    """``text`` with every escaped, quoted, URL- or base64-encoded form of each secret
    replaced by ``***``."""
    return Redactor(secrets)(text)


# Values we cannot know in advance but recognise by their shape.
_CREDENTIAL_PATTERNS = (
    # key=value / key: value / "key": "value" for the usual credential names
    re.compile(
        r"""(?ix)
        (\b(?:access|refresh|id)?_?token|client_?secret|password|passwd|secret|api_?key|assertion)
        (["']?\s*[:=]\s*["']?)
        [^\s"'&,;]+
        """
    ),
    re.compile(r"(?i)(\bbearer\s+)[^\s\"',;]+"),
    # JWTs (Microsoft and Google access and ID tokens)
    re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
)
# Long opaque runs of token characters with both letters and digits (refresh
# tokens, client secrets); ordinary words, paths and error codes are shorter or lack one.
_TOKEN_CHARS = r"[A-Za-z0-9._~+/=-]"
_OPAQUE = re.compile(
    rf"(?<!{_TOKEN_CHARS})(?={_TOKEN_CHARS}*\d)(?={_TOKEN_CHARS}*[A-Za-z]){_TOKEN_CHARS}{{32,}}"
)


def scrub_credentials(text: str) -> str:
    """``text`` with credential-looking values (``token=...``, ``Bearer ...``, JWTs,
    long opaque strings) replaced by ``***``: for output of programs we do not
    control, such as a token command's stderr."""
    for pattern in _CREDENTIAL_PATTERNS:
        text = pattern.sub(lambda m: "".join(m.groups()) + MASK if m.groups() else MASK, text)
    return _OPAQUE.sub(MASK, text)
