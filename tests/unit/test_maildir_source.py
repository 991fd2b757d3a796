"""MaildirSource: Maildirs, folders of .eml files, named files."""

from __future__ import annotations

import email
import os
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

from mailroom.domain.models import SourceKey
from mailroom.ingest import maildir_source
from mailroom.ingest.maildir_source import MaildirSource
from mailroom.ingest.source import Checkpoint, MailSource

EXAMPLE_MAILBOX = Path(__file__).resolve().parents[2] / "examples" / "mailbox"

# 2026-11-14 13:33:20 UTC: the delivery time in the Maildir names below.
T0 = 1_794_663_200
MTIME = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)


def mail(subject: str = "Damp", *, headers: str = "", body: str = "The mould is back.\n") -> bytes:
    return f"From: a@example.com\nSubject: {subject}\n{headers}\n{body}".encode()


def write(path: Path, raw: bytes, mtime: datetime = MTIME) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def fetch_all(source: MaildirSource, keys: list[SourceKey]) -> list[list[bytes]]:
    return [[m.raw for m in batch] for batch in source.fetch(keys)]


def test_is_a_mail_source() -> None:
    source: MailSource = MaildirSource([])  # checked by mypy: the protocol is satisfied
    assert source.account == "files"


# -- what is found, and with which key ---------------------------------------------


def test_maildir_reads_cur_and_new_and_ignores_tmp_dotfiles_and_strays(tmp_path: Path) -> None:
    box = maildir(tmp_path / "box")
    write(box / "new" / f"{T0}.M1P2Q3.host", mail("one"))
    write(box / "cur" / f"{T0 + 60}.M4P5Q6.host:2,S", mail("two"))
    write(box / "tmp" / f"{T0 + 120}.M7P8.host", mail("half-delivered"))
    write(box / "cur" / ".DS_Store", b"\0\0\0\1Bud1")
    write(box / "cur" / "notes.txt", b"not mail")
    write(box / "README", b"not mail")
    write(box / "dovecot-uidlist", b"3 V1 N2")

    source = MaildirSource([box])
    keys = source.scan({})

    folder = str(box.resolve())
    assert keys == [
        SourceKey("files", folder, 0, f"{T0}.M1P2Q3.host"),
        SourceKey("files", folder, 0, f"{T0 + 60}.M4P5Q6.host"),
    ]
    assert source.errors == []


def test_maildir_key_survives_move_to_cur_and_flag_changes(tmp_path: Path) -> None:
    box = maildir(tmp_path / "box")
    unique = f"{T0}.M1P2Q3.host"
    write(box / "new" / unique, mail())
    source = MaildirSource([box], account="demo")
    [key] = source.scan({})

    # A mail client reads it: moved to cur/ with the Seen flag, then replied to.
    (box / "new" / unique).rename(box / "cur" / f"{unique}:2,S")
    assert source.scan({}) == [key]
    (box / "cur" / f"{unique}:2,S").rename(box / "cur" / f"{unique}:2,RS")
    assert source.scan({}) == [key]
    assert key == SourceKey("demo", str(box.resolve()), 0, unique)


def test_fetch_finds_a_maildir_file_that_moved_after_the_scan(tmp_path: Path) -> None:
    box = maildir(tmp_path / "box")
    unique = f"{T0}.M1P2Q3.host"
    write(box / "new" / unique, mail("moved"))
    source = MaildirSource([box])
    keys = source.scan({})
    (box / "new" / unique).rename(box / "cur" / f"{unique}:2,S")

    assert fetch_all(source, keys) == [[mail("moved")]]
    # A fresh source (e.g. after a restart) finds it from the key alone.
    assert fetch_all(MaildirSource([box]), keys) == [[mail("moved")]]
    assert source.errors == []


def test_folder_of_eml_is_read_recursively_and_ignores_everything_else(tmp_path: Path) -> None:
    root = tmp_path / "scans"
    write(root / "a.eml", mail("a", headers="Date: Mon, 02 Nov 2026 09:00:00 +0000\n"))
    write(root / "2026-11" / "b.EML", mail("b", headers="Date: Mon, 02 Nov 2026 10:00:00 +0000\n"))
    for stray in ("README", "c.msg", "notes.txt", ".hidden.eml", ".DS_Store", ".git/d.eml", "x/._e.eml"):
        write(root / stray, mail("stray"))
    (root / "dir.eml").mkdir()  # a folder with a mail-like name is not a file

    source = MaildirSource([root])
    keys = source.scan({})

    assert keys == [
        SourceKey("files", str(root.resolve()), 0, "a.eml"),
        SourceKey("files", str((root / "2026-11").resolve()), 0, "b.EML"),
    ]
    assert fetch_all(source, keys) == [
        [(root / "a.eml").read_bytes(), (root / "2026-11" / "b.EML").read_bytes()]
    ]


def test_a_maildir_inside_a_plain_folder_is_read_as_a_maildir(tmp_path: Path) -> None:
    box = maildir(tmp_path / "all" / "box")
    write(box / "cur" / f"{T0}.M1.host:2,S", mail())
    write(tmp_path / "all" / "loose.eml", mail())

    keys = MaildirSource([tmp_path / "all"]).scan({})

    assert {(k.folder, k.uid) for k in keys} == {
        (str(box.resolve()), f"{T0}.M1.host"),
        (str((tmp_path / "all").resolve()), "loose.eml"),
    }


def test_named_files_get_the_same_key_as_through_their_folder(tmp_path: Path) -> None:
    box = maildir(tmp_path / "box")
    maildir_file = write(box / "cur" / f"{T0}.M1.host:2,S", mail())
    eml = write(tmp_path / "scans" / "sub" / "a.eml", mail())

    by_folder = MaildirSource([box, tmp_path / "scans"]).scan({})
    by_name = MaildirSource([maildir_file, eml]).scan({})
    by_new_subfolder = MaildirSource([box / "cur"]).scan({})

    assert by_folder == by_name
    assert by_new_subfolder == [k for k in by_folder if k.folder == str(box.resolve())]


def test_a_file_named_twice_is_listed_once(tmp_path: Path) -> None:
    eml = write(tmp_path / "a.eml", mail())
    assert len(MaildirSource([tmp_path, eml, eml]).scan({})) == 1


def test_a_named_file_is_taken_whatever_its_name_and_a_missing_one_is_reported(tmp_path: Path) -> None:
    good = write(tmp_path / "a.eml", mail())
    export = write(tmp_path / "scan-0001", mail("b"))  # the operator named it: it is mail
    # found by a folder scan: not mail
    stray_in_folder = write(tmp_path / "sub" / "photo.jpg", b"\xff\xd8\xff")
    missing = tmp_path / "gone.eml"

    source = MaildirSource([good, export, tmp_path / "sub", missing])

    assert sorted(k.uid for k in source.scan({})) == ["a.eml", "scan-0001"]
    assert [path for path, _ in source.errors] == [missing]
    assert all(reason for _, reason in source.errors)
    assert stray_in_folder.exists()


def test_scan_ignores_checkpoints(tmp_path: Path) -> None:
    box = maildir(tmp_path / "box")
    write(box / "new" / f"{T0}.M1.host", mail())
    source = MaildirSource([box])
    expected = source.scan({})
    assert source.scan({str(box.resolve()): Checkpoint(uidvalidity=0, last_uid=10**9)}) == expected


# -- receipt time ---------------------------------------------------------------------


def received_at(path: Path) -> datetime:
    source = MaildirSource([path])
    [[fetched]] = source.fetch(source.scan({}))
    assert fetched.received_at.tzinfo is not None
    assert fetched.received_at.utcoffset() == UTC.utcoffset(None)
    return fetched.received_at


def test_maildir_receipt_time_is_the_delivery_time_in_the_name(tmp_path: Path) -> None:
    box = maildir(tmp_path / "box")
    write(box / "new" / f"{T0}.M1P2.host", mail(headers="Date: Mon, 1 Jan 2001 00:00:00 +0000\n"))
    assert received_at(box) == datetime.fromtimestamp(T0, UTC)


@pytest.mark.parametrize(
    "name", ["mail-without-time", "99999999999999999999.M1.host", "99999999999.M1.host", "000000000.M1.host"]
)
def test_maildir_receipt_time_falls_back_to_mtime(tmp_path: Path, name: str) -> None:
    box = maildir(tmp_path / "box")
    write(box / "new" / name, mail())
    assert received_at(box) == MTIME


RECEIVED_TOP = "Received: from mx2 by mx1; Tue, 03 Nov 2026 10:00:05 +0100\n"
RECEIVED_LOWER = "Received: from client by mx2; Tue, 03 Nov 2026 08:59:00 +0000\n"
DATE = "Date: Mon, 02 Nov 2026 23:59:00 -0500\n"


# Received: stamps are believed only up to the file's own time: these files were written after them.
WRITTEN = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param(
            RECEIVED_TOP + RECEIVED_LOWER + DATE, datetime(2026, 11, 3, 9, 0, 5, tzinfo=UTC), id="top"
        ),
        pytest.param(
            "Received: from x by y; not a date at all\n" + RECEIVED_LOWER + DATE,
            datetime(2026, 11, 3, 8, 59, tzinfo=UTC),
            id="first-datable-received",
        ),
        pytest.param(
            "Received: by mx1 with a ; semicolon ; Tue, 03 Nov 2026 10:00:00 -0000\n",
            datetime(2026, 11, 3, 10, 0, tzinfo=UTC),
            id="after-last-semicolon-and-unknown-zone",
        ),
        # The sender writes Date:; it never sets the receipt time (issue 9).
        pytest.param("Received: from x by y\n" + DATE, WRITTEN, id="date-is-ignored"),
        pytest.param("Received: ;\nDate: yesterday-ish\n", WRITTEN, id="garbage"),
        pytest.param("Date: Mon, 02 Nov 99999 23:59:00 +0000\n", WRITTEN, id="absurd-year"),
        pytest.param("Date: Sat, 01 Jan 2097 00:00:00 +0000\n", WRITTEN, id="date-in-2097"),
        pytest.param("Date: Thu, 01 Jan 1970 00:00:00 +0000\n", WRITTEN, id="epoch-zero"),
        pytest.param("Received: x; Sat, 01 Jan 2097 00:00:00 +0000\n", WRITTEN, id="forged-future-received"),
        pytest.param("Received: x; Fri, 01 Jan 2021 00:00:00 +0000\n", WRITTEN, id="forged-ancient-received"),
        pytest.param("Received: x; Sat, 21 Nov 2026 06:00:00 +0000\n", datetime(2026, 11, 21, 6, tzinfo=UTC),
                     id="received-within-a-day-of-skew"),
        pytest.param("", WRITTEN, id="none"),
    ],
)
def test_eml_receipt_time_rules(tmp_path: Path, headers: str, expected: datetime) -> None:
    path = write(tmp_path / "a.eml", mail(headers=headers), WRITTEN)
    assert received_at(path) == expected


def test_eml_receipt_time_reads_only_the_header_block(tmp_path: Path) -> None:
    body = "Date: Mon, 02 Nov 2026 09:00:00 +0000\nReceived: x; Mon, 02 Nov 2026 09:00:00 +0000\n"
    path = write(tmp_path / "a.eml", mail(body=body))
    assert received_at(path) == MTIME


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\n\nDate: Mon, 02 Nov 2026 09:00:00 +0000\n",
        bytes(range(256)) * 64,
        b"\x00\xff\xfe" * 100_000,  # no blank line anywhere: the header read stops at its limit
        b"Date: \xff\xfe\x00 Mon, 02 Nov 2026\r\nReceived: \x00;\x00\r\n\r\nbody",
        b"Subject: " + b"A" * 2_000_000,
    ],
)
def test_eml_receipt_time_never_fails_on_garbage(tmp_path: Path, raw: bytes) -> None:
    path = write(tmp_path / "junk.eml", raw)
    assert received_at(path) == MTIME


def test_crlf_headers_are_read(tmp_path: Path) -> None:
    raw = b"Subject: x\r\nReceived: x; Mon, 02 Nov 2026 09:00:00 +0000\r\n\r\n"
    raw += b"Received: x; Tue, 03 Nov 2026 09:00:00 +0000\r\n"
    assert received_at(write(tmp_path / "a.eml", raw, WRITTEN)) == datetime(2026, 11, 2, 9, tzinfo=UTC)


def test_scan_orders_by_receipt_time_then_name(tmp_path: Path) -> None:
    box = maildir(tmp_path / "box")
    write(box / "new" / f"{T0 + 10}.A.host", mail())
    write(box / "cur" / f"{T0}.B.host:2,S", mail())
    write(box / "cur" / f"{T0}.A.host:2,S", mail())
    write(box / "new" / "no-time", mail(), mtime=datetime.fromtimestamp(T0 + 5, UTC))

    uids = [k.uid for k in MaildirSource([box]).scan({})]

    assert uids == [f"{T0}.A.host", f"{T0}.B.host", "no-time", f"{T0 + 10}.A.host"]


# -- fetching ---------------------------------------------------------------------------


def test_fetch_returns_the_bytes_exactly_as_on_disk(tmp_path: Path) -> None:
    raw = b"Subject: x\r\nFrom: \x00\xff\r\n\r\nline\r\nlone LF\nlone CR\r\x00\xfe trailing"
    path = write(tmp_path / "a.eml", raw)
    source = MaildirSource([path])
    [[fetched]] = source.fetch(source.scan({}))
    assert fetched.raw == raw
    assert fetched.size == len(raw)
    assert fetched.key.uid == "a.eml"


def test_fetch_batches_by_count(tmp_path: Path) -> None:
    for i in range(7):
        write(tmp_path / f"{i}.eml", mail(str(i)))
    source = MaildirSource([tmp_path], batch_size=3)
    batches = list(source.fetch(source.scan({})))
    assert [len(b) for b in batches] == [3, 3, 1]


def test_fetch_batches_by_size_and_a_large_mail_travels_alone(tmp_path: Path) -> None:
    sizes = [400, 400, 400, 5000, 400]
    for i, size in enumerate(sizes):
        write(tmp_path / f"{i}.eml", b"X" * size)
    source = MaildirSource([tmp_path], max_batch_bytes=1000)
    batches = list(source.fetch(source.scan({})))
    assert [[m.size for m in b] for b in batches] == [[400, 400], [400], [5000], [400]]


def test_default_batch_bounds() -> None:
    source = MaildirSource([])
    assert (source.batch_size, source.max_batch_bytes) == (100, 32 * 1024 * 1024)


@pytest.mark.parametrize(("batch_size", "max_bytes"), [(0, 1), (1, 0)])
def test_batch_bounds_must_be_positive(batch_size: int, max_bytes: int) -> None:
    with pytest.raises(ValueError):
        MaildirSource([], batch_size=batch_size, max_batch_bytes=max_bytes)


# -- unreadable files ---------------------------------------------------------------------


def test_a_file_that_vanished_after_the_scan_is_skipped_and_reported(tmp_path: Path) -> None:
    write(tmp_path / "a.eml", mail("a"))
    gone = write(tmp_path / "b.eml", mail("b"))
    source = MaildirSource([tmp_path])
    keys = source.scan({})
    gone.unlink()

    assert fetch_all(source, keys) == [[mail("a")]]
    assert [path.name for path, _ in source.errors] == ["b.eml"]


def fail_for(name: str, original: Callable[..., int]) -> Callable[..., int]:
    """``_open_plain`` failing for one file name (tests may run as root, where chmod is no bar)."""

    def patched(path: Path) -> int:
        if path.name == name:
            raise PermissionError(13, "Permission denied", str(path))
        return original(path)

    return patched


def test_a_file_unreadable_at_fetch_is_skipped_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a.eml", mail("a"))
    write(tmp_path / "b.eml", mail("b"))
    source = MaildirSource([tmp_path])
    keys = source.scan({})
    monkeypatch.setattr(maildir_source, "_open_plain", fail_for("a.eml", maildir_source._open_plain))

    assert fetch_all(source, keys) == [[mail("b")]]
    assert source.errors == [(tmp_path / "a.eml", "Permission denied")]


def test_a_file_unreadable_at_scan_is_skipped_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a.eml", mail("a"))
    write(tmp_path / "b.eml", mail("b"))
    monkeypatch.setattr(maildir_source, "_open_plain", fail_for("a.eml", maildir_source._open_plain))
    source = MaildirSource([tmp_path])

    assert [k.uid for k in source.scan({})] == ["b.eml"]
    assert source.errors == [(tmp_path / "a.eml", "Permission denied")]
    # Each scan starts a fresh report, so a long-running worker's list stays bounded.
    monkeypatch.undo()
    source.scan({})
    assert source.errors == []


def test_unreadable_files_log_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = MaildirSource([tmp_path / "missing"])
    source.scan({})
    assert "missing" in caplog.text
    assert caplog.records[0].levelname == "WARNING"


# -- the rest of the protocol -------------------------------------------------------------


def test_acknowledge_and_close_leave_the_files_alone(tmp_path: Path) -> None:
    box = maildir(tmp_path / "box")
    path = write(box / "new" / f"{T0}.M1.host", mail())
    source = MaildirSource([box])
    keys = source.scan({})
    list(source.fetch(keys))
    source.acknowledge(keys)
    source.close()
    assert sorted(p.relative_to(box).as_posix() for p in box.rglob("*") if p.is_file()) == [
        f"new/{path.name}"
    ]
    assert path.read_bytes() == mail()


def test_wait_for_new_mail_sleeps_with_the_injected_sleep() -> None:
    slept: list[float] = []
    source = MaildirSource([], sleep=slept.append)
    source.wait_for_new_mail(30)
    source.wait_for_new_mail(-1)
    assert slept == [30, 0.0]


# -- the bundled demo mailbox -------------------------------------------------------------


def test_bundled_example_mailbox_holds_fourteen_distinct_parseable_mails() -> None:
    source = MaildirSource([EXAMPLE_MAILBOX], account="demo")
    keys = source.scan({})
    mails = [m for batch in source.fetch(keys) for m in batch]

    assert len(mails) == 14
    assert source.errors == []
    assert {m.key.folder for m in mails} == {str(EXAMPLE_MAILBOX.resolve())}
    parsed = [email.message_from_bytes(m.raw, policy=policy.default) for m in mails]
    assert len({p["Message-ID"] for p in parsed}) == 14
    assert all(p["Date"] and p["From"] and p["Subject"] for p in parsed)
    assert all(
        datetime(2026, 11, 1, tzinfo=UTC) <= m.received_at < datetime(2026, 12, 1, tzinfo=UTC) for m in mails
    )
    assert [m.received_at for m in mails] == sorted(m.received_at for m in mails)


# -- no symlinks, bounded reads (issue 9) ------------------------------------------------------------


def test_symlinked_files_and_folders_are_skipped_with_a_reason(tmp_path: Path) -> None:
    secret = write(tmp_path / "outside" / "shadow", b"root:$6$secret:19000:0:99999:7:::\n")
    root = tmp_path / "scans"
    write(root / "real.eml", mail("real"))
    (root / "shadow.eml").symlink_to(secret)
    (root / "linked").symlink_to(secret.parent, target_is_directory=True)
    box = maildir(tmp_path / "box")
    write(box / "new" / f"{T0}.A.host", mail("in the box"))
    (box / "new" / f"{T0 + 1}.B.host").symlink_to(secret)

    source = MaildirSource([root, box])
    mails = fetch_all(source, source.scan({}))

    assert sorted(m for batch in mails for m in batch) == sorted([mail("real"), mail("in the box")])
    assert sorted((path.name, reason) for path, reason in source.errors) == [
        (f"{T0 + 1}.B.host", "symbolic link: not followed"),
        ("linked", "symbolic link: not followed"),
        ("shadow.eml", "symbolic link: not followed"),
    ]


def test_a_file_swapped_for_a_link_after_the_scan_is_not_read(tmp_path: Path) -> None:
    secret = write(tmp_path / "shadow", b"root:secret\n")
    path = write(tmp_path / "in" / "a.eml", mail("a"))
    source = MaildirSource([tmp_path / "in"])
    keys = source.scan({})
    path.unlink()
    path.symlink_to(secret)
    assert fetch_all(source, keys) == []
    assert [p.name for p, _ in source.errors] == ["a.eml"]


def test_open_refuses_links_and_non_files(tmp_path: Path) -> None:
    secret = write(tmp_path / "shadow", b"secret")
    (tmp_path / "link.eml").symlink_to(secret)
    os.mkfifo(tmp_path / "fifo.eml")
    with pytest.raises(OSError):
        maildir_source.read_mail_file(tmp_path / "link.eml", 1000)
    with pytest.raises(OSError, match="not a regular file"):
        maildir_source.read_mail_file(tmp_path / "fifo.eml", 1000)  # and does not block


def test_a_file_over_the_limit_is_not_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = write(tmp_path / "in" / "big.eml", mail("big", body="x" * 300_000))
    source = MaildirSource([tmp_path / "in"])
    source.max_message_bytes = 100_000
    reads: list[int] = []
    real_fdopen = os.fdopen

    def counting_fdopen(fd: int, *args: object, **kwargs: object) -> object:
        handle = real_fdopen(fd, *args, **kwargs)  # type: ignore[call-overload]
        real_read = handle.read

        def read(n: int = -1) -> bytes:
            data: bytes = real_read(n)
            reads.append(len(data))
            return data

        handle.read = read
        return handle

    monkeypatch.setattr(maildir_source.os, "fdopen", counting_fdopen)
    ((fetched,),) = list(source.fetch(source.scan({})))
    assert fetched.size == big.stat().st_size
    assert fetched.raw == big.read_bytes()[: maildir_source.OVERSIZE_PREFIX_BYTES]
    assert max(reads) <= maildir_source.OVERSIZE_PREFIX_BYTES
