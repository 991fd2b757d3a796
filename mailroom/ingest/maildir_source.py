"""Read mail from files on disk: a Maildir, a folder of ``.eml`` files, or named files.

Used by ``mailroom run`` (the ``[maildir] path`` setting, the bundled demo
mailbox by default) and by ``mailroom ingest PATH...``. The files are a
read-only source: the ledger, not the files, records what was ingested.

Keys (``SourceKey``) must stay the same for the life of a mail on disk, so that
re-scanning never re-ingests it:

* Maildir (a folder with ``cur/`` and/or ``new/``): ``folder`` is the Maildir
  itself and ``uid`` the unique part of the file name, before ``:2,``. A mail
  moves from new/ to cur/ and gains flags (``:2,S``) when a mail client reads
  it; neither changes the key. Maildir++ subfolders (``.Sent/``) are not read,
  and tmp/ never is (deliveries in progress).
* ``.eml`` files (in a folder, searched recursively, or named one by one):
  ``folder`` is the file's own parent folder and ``uid`` its file name, so the
  same file gets the same key whether it was found through its folder or named.

Symbolic links are never followed: a link in a mail folder could make any
file the worker can read (``/etc/shadow``) into a filed "mail". Links are
skipped with a logged reason, and files are opened with ``O_NOFOLLOW``. A
file over ``max_message_bytes`` is not read whole: its first 64 KiB are
handed on for quarantine, with its real size.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import email.utils
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailroom.domain.models import FetchedMail, SourceKey
from mailroom.ingest.source import Checkpoint

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 100
DEFAULT_MAX_BATCH_BYTES = 32 * 1024 * 1024

# A header block longer than this is not a mail anyone sent on purpose; stop
# reading there rather than load a huge non-mail file just to find a date.
_HEADER_READ_LIMIT = 1024 * 1024
_HEADER_READ_CHUNK = 64 * 1024

# Maildir delivery names start with the delivery time in Unix seconds:
# "1700000000.M1P2Q3.host". Nine or more digits: any time after March 1973.
_MAILDIR_TIMESTAMP = re.compile(r"^(\d{9,})\.")
_MAILDIR_SUBFOLDERS = ("cur", "new")

# Receipt times outside this window are taken as garbage (see _plausible).
_EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# A Received: stamp is believed only if it is no later than the file's own time
# (plus clock skew) and not far older: anyone can write an .eml's headers.
_RECEIVED_SKEW = timedelta(days=1)
_RECEIVED_MAX_AGE = timedelta(days=730)

DEFAULT_MAX_MESSAGE_BYTES = 100 * 1024 * 1024
# What is kept of a file over the size limit: its headers, for a person to see.
OVERSIZE_PREFIX_BYTES = 64 * 1024
_READ_CHUNK = 1024 * 1024
_SYMLINK = "symbolic link: not followed"


@dataclass(frozen=True)
class _Found:
    """A mail file found by a scan: where it is now and when it was received."""

    key: SourceKey
    path: Path
    received_at: datetime


class MaildirSource:
    """A ``MailSource`` over files: Maildirs, folders of ``.eml`` files, single files."""

    def __init__(
        self,
        paths: Sequence[Path],
        account: str = "files",
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if batch_size < 1 or max_batch_bytes < 1:
            raise ValueError("batch_size and max_batch_bytes must be positive")
        self.account = account
        self.paths = [Path(p) for p in paths]
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        # Files skipped since the last scan began, with the reason; the CLI
        # reports them. Reset by each scan so a long `run` does not grow it forever.
        self.errors: list[tuple[Path, str]] = []
        # Files larger than this are not read whole (the worker sets it from
        # storage.max_message_bytes): the first 64 KiB go on to quarantine.
        self.max_message_bytes = DEFAULT_MAX_MESSAGE_BYTES
        self._sleep = sleep
        self._found: dict[SourceKey, _Found] = {}

    # -- MailSource -----------------------------------------------------------

    def scan(self, checkpoints: Mapping[str, Checkpoint]) -> list[SourceKey]:
        """Every mail file's key, oldest receipt first, then by name.

        ``checkpoints`` are ignored: file names carry no ordered UID, so every
        file is listed and the worker drops those already in its ledger.
        """
        self.errors = []
        found: dict[SourceKey, _Found] = {}
        for path, is_maildir_file in self._candidates():
            item = self._describe(path, is_maildir_file)
            # setdefault: the same file named twice (folder and file) is listed once.
            if item is not None:
                found.setdefault(item.key, item)
        self._found = found
        ordered = sorted(found.values(), key=lambda f: (f.received_at, f.key.folder, f.key.uid))
        return [f.key for f in ordered]

    def fetch(self, keys: Sequence[SourceKey]) -> Iterator[list[FetchedMail]]:
        """Yield the mails in batches of at most ``batch_size`` mails and, unless
        one mail alone is larger, ``max_batch_bytes`` bytes. Raw bytes are exactly
        the file's; unreadable files are skipped and recorded in ``errors``."""
        batch: list[FetchedMail] = []
        batch_bytes = 0
        for key in keys:
            mail = self._fetch_one(key)
            if mail is None:
                continue
            if batch and batch_bytes + mail.size > self.max_batch_bytes:
                yield batch
                batch, batch_bytes = [], 0
            batch.append(mail)
            batch_bytes += mail.size
            if len(batch) >= self.batch_size:
                yield batch
                batch, batch_bytes = [], 0
        if batch:
            yield batch

    def acknowledge(self, keys: Sequence[SourceKey]) -> None:
        """Do nothing. Files are a read-only source: the demo mailbox ships with
        the code, and `mailroom ingest` may be pointed at evidence that must stay
        as it was. The ledger remembers what was ingested instead."""

    def wait_for_new_mail(self, timeout: float) -> None:
        """Sleep for ``timeout`` seconds: plain files offer no change notification
        that works the same on every platform, so the worker simply polls."""
        self._sleep(max(0.0, timeout))

    def close(self) -> None:
        """Nothing to release: every file is closed as soon as it is read."""

    # -- finding files ----------------------------------------------------------

    def _candidates(self) -> Iterator[tuple[Path, bool]]:
        """(path, is a Maildir file) for every mail file under the configured paths."""
        for path in self.paths:
            # A configured folder may itself be a link (the operator's choice);
            # nothing found inside it is followed.
            if path.is_dir():
                yield from _walk(path, self._skip)
            elif path.is_symlink():
                self._skip(path, _SYMLINK)
            elif path.is_file():
                yield from self._named_file(path)
            else:
                self._skip(path, "no such file or folder")

    def _named_file(self, path: Path) -> Iterator[tuple[Path, bool]]:
        if _in_maildir_subfolder(path):
            yield path, True
        else:
            # The operator named this file: take it as a mail whatever its name
            # (old exports and scanners do not all write .eml).
            yield path, False

    def _describe(self, path: Path, is_maildir_file: bool) -> _Found | None:
        try:
            if is_maildir_file:
                key = _maildir_key(self.account, path)
                received_at = _maildir_received_at(path)
            else:
                key = _eml_key(self.account, path)
                received_at = _eml_received_at(path, _read_header_block(path))
        except OSError as exc:
            self._skip(path, _reason(exc))
            return None
        return _Found(key, path, received_at)

    # -- reading files ----------------------------------------------------------

    def _fetch_one(self, key: SourceKey) -> FetchedMail | None:
        path = self._locate(key)
        if path is None:
            self._skip(Path(key.folder) / key.uid, "file vanished before it was read")
            return None
        try:
            raw, size = read_mail_file(path, self.max_message_bytes)
            received_at = (
                _maildir_received_at(path)
                if _in_maildir_subfolder(path)
                else _eml_received_at(path, _header_block(raw))
            )
        except OSError as exc:
            self._skip(path, _reason(exc))
            return None
        return FetchedMail(key=key, raw=raw, received_at=received_at, size=size)

    def path_of(self, key: SourceKey) -> Path | None:
        """Where the mail file for ``key`` is now (quarantine retry re-reads a
        file that was over the size limit), or None."""
        return self._locate(key)

    def _locate(self, key: SourceKey) -> Path | None:
        """The file for ``key`` now. A Maildir file may have moved new/ -> cur/ or
        changed flags since the scan, so look it up again by its unique name."""
        found = self._found.get(key)
        if found is not None and _is_plain_file(found.path):
            return found.path
        folder = Path(key.folder)
        if _is_maildir(folder):
            return _find_in_maildir(folder, key.uid)
        path = folder / key.uid
        return path if _is_plain_file(path) else None

    def _skip(self, path: Path, reason: str) -> None:
        log.warning("skipping %s: %s", path, reason)
        self.errors.append((path, reason))


# -- file classification (pure helpers) --------------------------------------------


Skip = Callable[[Path, str], None]  # (path, reason): logged and reported


def _walk(folder: Path, skip: Skip) -> Iterator[tuple[Path, bool]]:
    """Mail files under ``folder``, sorted, recursing into plain subfolders.

    A subfolder that is itself a Maildir is read as one, so a folder holding
    several Maildirs (or scanned post in dated subfolders) works as expected.
    Links are skipped, with the reason: no loops, no escaping the tree.
    """
    if _is_maildir(folder):
        yield from _maildir_files(folder, skip)
        return
    if folder.name in _MAILDIR_SUBFOLDERS and _is_maildir(folder.parent):
        # `mailroom ingest box/new`: the files are Maildir files, keyed by the Maildir.
        yield from ((p, True) for p in _sorted_files(folder, skip) if _is_maildir_name(p.name))
        return
    for entry in _sorted_entries(folder):
        if _is_hidden(entry):
            continue
        if entry.is_symlink():
            if entry.is_dir() or _is_eml(entry):
                skip(entry, _SYMLINK)
        elif entry.is_dir():
            yield from _walk(entry, skip)
        elif entry.is_file() and _is_eml(entry):
            yield entry, False


def _maildir_files(maildir: Path, skip: Skip) -> Iterator[tuple[Path, bool]]:
    for sub in _MAILDIR_SUBFOLDERS:
        folder = maildir / sub
        if folder.is_symlink():
            skip(folder, _SYMLINK)
        elif folder.is_dir():
            yield from ((p, True) for p in _sorted_files(folder, skip) if _is_maildir_name(p.name))


def _find_in_maildir(maildir: Path, unique: str) -> Path | None:
    for sub in _MAILDIR_SUBFOLDERS:
        folder = maildir / sub
        if folder.is_symlink() or not folder.is_dir():
            continue
        for path in _sorted_files(folder, lambda path, reason: None):
            if _maildir_unique(path.name) == unique:
                return path
    return None


def _sorted_entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError as exc:  # a folder we may not list: log it, read the rest
        log.warning("cannot list %s: %s", folder, _reason(exc))
        return []


def _sorted_files(folder: Path, skip: Skip) -> list[Path]:
    files = []
    for path in _sorted_entries(folder):
        if _is_hidden(path):
            continue
        if path.is_symlink():
            skip(path, _SYMLINK)
        elif path.is_file():
            files.append(path)
    return files


def _is_plain_file(path: Path) -> bool:
    return not path.is_symlink() and path.is_file()


def _is_maildir(folder: Path) -> bool:
    return any((folder / sub).is_dir() for sub in _MAILDIR_SUBFOLDERS)


def _in_maildir_subfolder(path: Path) -> bool:
    return path.parent.name in _MAILDIR_SUBFOLDERS and _is_maildir(path.parent.parent)


def _is_hidden(path: Path) -> bool:
    # Dotfiles: .DS_Store, ._AppleDouble, editor swap files, .git, Maildir++ folders.
    return path.name.startswith(".")


def _is_eml(path: Path) -> bool:
    return not _is_hidden(path) and path.suffix.lower() == ".eml"


def _is_maildir_name(name: str) -> bool:
    """A Maildir delivery name (``<time>.<unique>.<host>[:2,flags]``), an
    extensionless name, or ``.eml``; not ``notes.txt`` someone dropped in."""
    if name.startswith("."):
        return False
    unique = _maildir_unique(name)
    return bool(_MAILDIR_TIMESTAMP.match(unique)) or Path(unique).suffix.lower() in ("", ".eml")


def _maildir_unique(name: str) -> str:
    # The Maildir spec keeps ':' out of unique names; what follows it is the
    # info part ("2,S"), which changes when the mail is read or flagged.
    return name.split(":", 1)[0]


# -- keys and receipt times ------------------------------------------------------


def _maildir_key(account: str, path: Path) -> SourceKey:
    maildir = path.parent.parent.resolve()
    return SourceKey(account, str(maildir), 0, _maildir_unique(path.name))


def _eml_key(account: str, path: Path) -> SourceKey:
    return SourceKey(account, str(path.parent.resolve()), 0, path.name)


def _maildir_received_at(path: Path) -> datetime:
    """The delivery time at the start of the name, else the file's mtime."""
    match = _MAILDIR_TIMESTAMP.match(path.name)
    if match:
        try:
            when = _plausible(datetime.fromtimestamp(int(match.group(1)), UTC))
        except (OverflowError, OSError, ValueError):
            when = None  # a name like 99999999999999.x: not a real timestamp
        if when is not None:
            return when
    return _mtime(path)


def _eml_received_at(path: Path, header_block: bytes) -> datetime:
    """The receiving server's time (first dated ``Received:``) when it is
    trustworthy, else the file's mtime: the time comes from us, never the sender.

    ``Date:`` is never used: the sender writes it (2097 gave a CMP-2097 case
    with no Code clocks). A ``Received:`` stamp is believed only if it is no
    later than the file was written (plus a day of clock skew) and at most two
    years earlier: a forged one outside that is ignored."""
    mtime = _mtime(path)
    headers = _parse_headers(header_block)
    received = headers.get_all("Received") or []
    for value in received:  # topmost first: the hop nearest to us
        when = _parse_date(str(value).rpartition(";")[2])
        if when is not None:
            trusted = mtime - _RECEIVED_MAX_AGE <= when <= mtime + _RECEIVED_SKEW
            return when if trusted else mtime
    return mtime


def _parse_headers(header_block: bytes) -> email.message.Message:
    # latin-1 maps every byte to a character, so garbage never raises; the
    # compat32 policy is the lenient one that records defects instead of raising.
    text = header_block.decode("latin-1")
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)


def _parse_date(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": the zone is unknown; UTC is the convention
        when = when.replace(tzinfo=UTC)
    try:
        return _plausible(when.astimezone(UTC))
    except (OverflowError, ValueError):  # 31 Dec 9999 -0200 and the like
        return None


def _plausible(when: datetime) -> datetime | None:
    """``when`` if it could be a receipt time. A sender controls Date: in an
    .eml file; a year-9999 "receipt" would overflow the deadline arithmetic
    downstream, so such a date counts as no date at all."""
    return when if _EARLIEST <= when < _LATEST else None


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.lstat().st_mtime, UTC)


def _open_plain(path: Path) -> int:
    """An fd on ``path``, never through a link, never blocking on a FIFO;
    OSError for anything but a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_mail_file(path: Path, max_bytes: int) -> tuple[bytes, int]:
    """(bytes, size) of a mail file. Over ``max_bytes`` (by its size, or while
    reading if it grows) only the first 64 KiB are returned, with the size:
    the check happens while reading, never after loading the whole file."""
    fd = _open_plain(path)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            return handle.read(min(size, OVERSIZE_PREFIX_BYTES)), size
        chunks, total = [], 0
        while chunk := handle.read(_READ_CHUNK):
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # it grew since the stat: stop here
                data = b"".join(chunks)[:OVERSIZE_PREFIX_BYTES]
                return data, max(total, os.fstat(handle.fileno()).st_size)
    return b"".join(chunks), total


def _header_block(raw: bytes) -> bytes:
    """The bytes before the first blank line (LF or CRLF endings)."""
    ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n")) if i >= 0]
    return raw[: min(ends)] if ends else raw[:_HEADER_READ_LIMIT]


def _read_header_block(path: Path) -> bytes:
    """Read only as far as the blank line that ends the headers (at most 1 MB)."""
    data = b""
    with os.fdopen(_open_plain(path), "rb") as handle:
        while len(data) < _HEADER_READ_LIMIT:
            chunk = handle.read(_HEADER_READ_CHUNK)
            if not chunk:
                break
            data += chunk
            if b"\n\n" in data or b"\r\n\r\n" in data:
                break
    return _header_block(data)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
