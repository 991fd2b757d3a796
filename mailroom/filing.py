"""The only writer of the storage tree.

Every mail gets its own folder holding ``message.eml`` (byte-identical to what
the source held), its attachments under sanitised names, and ``manifest.json``
with the SHA-256 of each file. A folder is first written under
``.staging/<token>/``, made durable, and only renamed into place after the
database has committed the mail: a crash before the commit leaves a staging
folder that recovery deletes; a crash after it leaves one that recovery
publishes. Nothing is ever written outside the storage root.

Layout (relative to the root)::

    <complaint-id>/manifest.json                      every file of the case
    <complaint-id>/mail-<stamp>-<token>/...           complaint, reply, MP mail
    <complaint-id>/documents-<stamp>-<token>/...      scans logged by staff
    _automatic/<yyyy-mm>/<stamp>-<token>/...          bounces, out-of-office, lists
    _duplicates/<yyyy-mm>/<stamp>-<token>/...
    _triage/<stamp>-<token>/...
    _quarantine/<stamp>-<token>/...                   plus error.txt

Private by default: folders are created 0700 and files 0600 whatever the
umask (library users and tests do not go through ``mailroom``'s main). With
a records group (docs/records.md) folders are 2750 and files 0640, owned by
that group. Symlinks inside the tree are never written through: every path
is checked component by component and files are opened with ``O_NOFOLLOW``;
a symlink makes the operation fail with one line naming it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import logging
import os
import shutil
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mailroom.domain.models import ParsedAttachment
from mailroom.safe_names import safe_filename

STAGING = ".staging"
MANIFEST = "manifest.json"
RAW_NAME = "message.eml"
ERROR_NAME = "error.txt"

log = logging.getLogger(__name__)


class StorageError(Exception):
    """A storage operation failed or would have left the storage root."""


@dataclass(frozen=True)
class FiledFile:
    path: str  # relative to the mail's own folder
    sha256: str
    size: int
    kind: str  # raw_mail, attachment, attached_mail, tnef_part, scan, error
    original_name: str = ""
    content_type: str = ""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def folder_name(received_at: datetime, token: str, kind: str = "mail") -> str:
    """``mail-20261102T081417Z-<token>``: sorts by receipt time; the token keeps
    two mails of the same second apart."""
    return f"{kind}-{received_at.strftime('%Y%m%dT%H%M%SZ')}-{token}"


@dataclass(frozen=True)
class Modes:
    """Modes of what filing creates, and the group that may read it (None: nobody)."""

    folder: int = 0o700
    file: int = 0o600
    gid: int | None = None


PRIVATE = Modes()


def records_group_modes(gid: int) -> Modes:
    """Group-readable, and setgid folders so that what is created inside
    keeps the group even where filing does not set it (renames, SQLite)."""
    return Modes(folder=0o2750, file=0o640, gid=gid)


class Storage:
    def __init__(self, root: Path, modes: Modes = PRIVATE) -> None:
        # The root itself may be a symlink (a mount elsewhere): resolved once here.
        self.root = root.resolve()
        self.modes = modes
        if not self.root.is_dir():
            for missing in reversed([self.root, *self.root.parents]):
                if not missing.exists():
                    self._mkdir(missing)

    # -- staging -------------------------------------------------------------

    def stage_mail(
        self,
        token: str,
        name: str,
        raw: bytes,
        attachments: Sequence[ParsedAttachment] = (),
        meta: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> list[FiledFile]:
        """Write a mail's folder ``name`` under ``.staging/<token>/``; returns what
        it holds. On any error the partial folder is removed before the error
        propagates."""
        wrapper = self._staging_dir(token)
        self.discard_staged(token)  # left by a crashed attempt at this same token
        try:
            return self._stage_mail_files(wrapper / _plain(name), raw, attachments, meta or {}, error)
        except BaseException:
            shutil.rmtree(wrapper, ignore_errors=True)
            raise

    def _stage_mail_files(
        self,
        folder: Path,
        raw: bytes,
        attachments: Sequence[ParsedAttachment],
        meta: dict[str, Any],
        error: str | None,
    ) -> list[FiledFile]:
        files = [self._write(folder, RAW_NAME, raw, "raw_mail", content_type="message/rfc822")]
        for index, attachment in enumerate(attachments, start=1):
            name = f"attachments/{index:02d}-{safe_filename(attachment.filename, fallback='attachment')}"
            files.append(
                self._write(
                    folder,
                    name,
                    attachment.payload,
                    attachment.kind.value,
                    original_name=attachment.filename,
                    content_type=attachment.content_type,
                )
            )
        if error is not None:
            files.append(self._write(folder, ERROR_NAME, error.encode("utf-8"), "error", "", "text/plain"))
        self._write_manifest(folder, files, meta)
        return files

    def stage_files(
        self, token: str, name: str, sources: Iterable[tuple[str, bytes]], kind: str
    ) -> list[FiledFile]:
        """Stage documents given by staff (scans of letters, notes of calls)."""
        wrapper = self._staging_dir(token)
        self.discard_staged(token)
        folder = wrapper / _plain(name)
        files = []
        for index, (name, data) in enumerate(sources, start=1):
            safe = f"{index:02d}-{safe_filename(name, fallback='document')}"
            files.append(self._write(folder, safe, data, kind, original_name=name))
        self._write_manifest(folder, files, {})
        return files

    def stage_file(self, token: str, name: str, data: bytes, kind: str, content_type: str = "") -> FiledFile:
        """Stage one file as ``.staging/<token>/<name>``; ``publish(token, "<folder>/<name>")``
        then moves it into ``<folder>`` (letters: each revision a file of its own)."""
        wrapper = self._staging_dir(token)
        self.discard_staged(token)
        try:
            return self._write(wrapper, _plain(name), data, kind, name, content_type)
        except BaseException:
            shutil.rmtree(wrapper, ignore_errors=True)
            raise

    def staged_tokens(self) -> list[tuple[str, float]]:
        """(token, age in seconds) of each staged folder. The age lets recovery
        leave alone folders another process is still filling."""
        staging = self.root / STAGING
        self._refuse_symlinks(staging)
        if not staging.exists():
            return []
        now = time.time()
        found = []
        with os.scandir(staging) as entries:
            for entry in entries:
                if entry.is_symlink():
                    # Never ours (staging folders are made by mkdir): removing the
                    # link itself, never its target, keeps recovery going.
                    log.warning("storage: removed symlink %s from the staging area", entry.path)
                    os.unlink(entry.path)
                elif entry.is_dir(follow_symlinks=False):
                    found.append((entry.name, now - entry.stat(follow_symlinks=False).st_mtime))
        return sorted(found)

    def discard_staged(self, token: str) -> None:
        wrapper = self._staging_dir(token)
        if wrapper.is_symlink():
            wrapper.unlink()  # the link, not what it points at
            return
        shutil.rmtree(wrapper, ignore_errors=True)

    def sync(self) -> None:
        """Make every write so far durable: one syncfs for a whole batch instead of
        an fsync per file (the per-file cost dominated ingestion time)."""
        _syncfs(self.root)

    # -- publishing ------------------------------------------------------------

    def publish(self, token: str, target: str) -> bool:
        """Move a staged folder to ``target``. False if it was already published.

        Where the target's parent does not exist yet (a new complaint's folder),
        the staging wrapper itself is renamed to become it: creating directories
        is the dearest thing this module does, and a rename is nearly free."""
        wrapper = self._staging_dir(token)
        self._refuse_symlinks(wrapper)
        destination = self.resolve(target)
        staged = wrapper / destination.name
        if not staged.exists():
            if destination.exists():  # published before a crash; clear what is left
                shutil.rmtree(wrapper, ignore_errors=True)
                return False
            raise StorageError(f"staged folder for {token} is missing and {target} does not exist")
        if not destination.parent.exists() and self._rename_into_place(wrapper, destination.parent):
            return True
        try:
            os.replace(staged, destination)
        except OSError:  # another process published it a moment ago
            if not destination.exists():
                raise
            return False
        wrapper.rmdir()
        return True

    def _rename_into_place(self, wrapper: Path, new_parent: Path) -> bool:
        if not new_parent.parent.is_dir():
            self._make_dirs(new_parent.parent)
        try:
            os.rename(wrapper, new_parent)
        except OSError:  # created meanwhile (another mail of the same case): move the folder alone
            return False
        return True

    def move(self, source: str, target: str) -> None:
        """Move a published folder (triage resolved, quarantine retried)."""
        origin, destination = self.resolve(source), self.resolve(target)
        self._make_dirs(destination.parent)
        os.replace(origin, destination)
        _fsync_dir(destination.parent)
        _fsync_dir(origin.parent)

    def remove_tree(self, relative: str) -> None:
        path = self.resolve(relative)
        if path == self.root:
            raise StorageError("refusing to remove the storage root")
        shutil.rmtree(path, ignore_errors=True)

    def remove_file(self, relative: str) -> bool:
        """Remove one file (a link is removed, never followed); False if it was not there."""
        try:
            os.unlink(self.resolve(relative))
        except FileNotFoundError:
            return False
        return True

    def write_case_manifest(self, complaint_id: str, documents: Sequence[dict[str, Any]]) -> None:
        """Rewrite ``<id>/manifest.json`` listing every filed file of the case."""
        body = {"complaint_id": complaint_id, "files": list(documents)}
        self.write_atomic(f"{complaint_id}/{MANIFEST}", _json_bytes(body), durable=False)

    def write_atomic(self, relative: str, data: bytes, durable: bool = True) -> Path:
        """Temp file, then rename. ``durable=False`` leaves the fsyncs to a
        later ``sync()`` covering a whole batch."""
        path = self.resolve(relative)
        self._make_dirs(path.parent)
        temporary = path.with_name(f".{path.name}.tmp")
        # Left by a crash, maybe: replaced, but never followed if it is a link.
        self._create_file(temporary, data, exclusive=False, durable=durable)
        os.replace(temporary, path)
        if durable:
            _fsync_dir(path.parent)
        return path

    def read(self, relative: str) -> bytes:
        path = self.resolve(relative)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    def resolve(self, relative: str) -> Path:
        """``relative`` under the root; refuses anything that would leave it,
        and any path through a symlink inside the tree."""
        # Lexical, not Path.resolve(): following symlinks is what must not happen.
        path = Path(os.path.normpath(self.root / relative))
        if path != self.root and self.root not in path.parents:
            raise StorageError(f"path {relative!r} leaves the storage root")
        self._refuse_symlinks(path)
        return path

    # -- helpers ----------------------------------------------------------------

    def _staging_dir(self, token: str) -> Path:
        if not token.isalnum():
            raise StorageError(f"bad staging token {token!r}")
        return self.root / STAGING / token

    def _write(
        self,
        folder: Path,
        name: str,
        data: bytes,
        kind: str,
        original_name: str = "",
        content_type: str = "",
    ) -> FiledFile:
        path = Path(os.path.normpath(folder / name))
        if folder not in path.parents:
            raise StorageError(f"file name {name!r} leaves its folder")
        if not path.parent.is_dir() or path.parent.is_symlink():
            self._make_dirs(path.parent)
        self._create_file(path, data)  # exclusive: never overwrite inside a fresh folder
        return FiledFile(name, sha256_hex(data), len(data), kind, original_name, content_type)

    def _write_manifest(self, folder: Path, files: Sequence[FiledFile], meta: dict[str, Any]) -> None:
        body = {**meta, "files": [asdict(f) for f in files]}
        self._create_file(folder / MANIFEST, _json_bytes(body))

    def _create_file(self, path: Path, data: bytes, *, exclusive: bool = True, durable: bool = False) -> None:
        """Write ``data`` to a new file with the filing mode, never through a symlink."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_EXCL if exclusive else os.O_TRUNC)
        try:
            fd = os.open(path, flags, self.modes.file)
        except OSError as exc:
            if path.is_symlink():
                raise StorageError(self._symlink_message(path)) from None
            raise exc
        with os.fdopen(fd, "wb") as handle:
            self._apply_modes(handle.fileno(), self.modes.file)
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())

    def _make_dirs(self, path: Path) -> None:
        """``path`` and any missing parents under the root, with the filing mode;
        refuses to go through a symlink."""
        self._refuse_symlinks(path)
        missing = []
        for folder in [path, *path.parents]:
            if folder == self.root or folder.is_dir():
                break
            missing.append(folder)
        for folder in reversed(missing):
            self._mkdir(folder)

    def _mkdir(self, folder: Path) -> None:
        try:
            os.mkdir(folder, self.modes.folder & 0o777)
        except FileExistsError:  # made meanwhile by another mail of the same case
            if folder.is_symlink():
                raise StorageError(self._symlink_message(folder)) from None
            return
        if self.modes != PRIVATE:  # the umask took the group bits; setgid needs chmod anyway
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            try:
                self._apply_modes(fd, self.modes.folder)
            finally:
                os.close(fd)

    def _apply_modes(self, fd: int, mode: int) -> None:
        if self.modes.gid is not None:
            os.fchown(fd, -1, self.modes.gid)
            os.fchmod(fd, mode)

    def _refuse_symlinks(self, path: Path) -> None:
        """StorageError if any existing component of ``path`` below the root is a symlink."""
        current = self.root
        for part in path.relative_to(self.root).parts:
            current = current / part
            try:
                if stat.S_ISLNK(os.lstat(current).st_mode):
                    raise StorageError(self._symlink_message(current))
            except FileNotFoundError:
                return  # the rest does not exist yet: nothing to follow

    def _symlink_message(self, link: Path) -> str:
        return (
            f"storage: refusing to write through symlink {link} "
            f"(mailroom files only into real folders under {self.root}: remove the link)"
        )


def _plain(name: str) -> str:
    if not name or "/" in name or name in (".", ".."):
        raise StorageError(f"bad folder name {name!r}")
    return name


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, indent=2, ensure_ascii=False, default=str).encode("utf-8") + b"\n"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _syncfs(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if not hasattr(_libc, "syncfs") or _libc.syncfs(fd) != 0:
            os.sync()  # no syncfs (non-Linux): flush everything instead
    finally:
        os.close(fd)
