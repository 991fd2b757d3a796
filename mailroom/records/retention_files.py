"""Removing an erased case's folders from the storage tree.

A folder named by an erasure record comes from the database, so it is checked as
hostile input before anything is removed: it must have one of the shapes erasure
writes (the case's own folder, a mail's folder, a staged mail, a letter's preview),
stay inside the storage root and go through no symlink (``filing.Storage.resolve``).
Anything else is refused with one line and removes nothing.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import PurePosixPath

from mailroom.filing import Storage, StorageError

_CASE_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}")  # a complaint id
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TOKEN = re.compile(r"[A-Za-z0-9]{1,64}")
_MAIL_FOLDER = re.compile(r"[a-z]+-\d{8}T\d{6}Z-[A-Za-z0-9]{1,64}")  # filing.folder_name


@dataclass(frozen=True)
class Removed:
    files: int
    bytes: int


def check_folder(relative: str, complaint_id: str) -> str:
    """``relative`` if it is a folder an erasure of ``complaint_id`` may remove, else
    StorageError naming it."""
    parts = PurePosixPath(relative).parts
    plain = bool(parts) and "/".join(parts) == relative and all(p not in ("", ".", "..") for p in parts)
    if plain and len(parts) == 1 and relative == complaint_id and _CASE_FOLDER.fullmatch(relative):
        return relative
    if plain and len(parts) == 2 and parts[0] == ".previews" and _SHA256.fullmatch(parts[1]):
        return relative
    if plain and len(parts) == 2 and parts[0] == ".staging" and _TOKEN.fullmatch(parts[1]):
        return relative
    # A mail's own folder: <case>/mail-<stamp>-<token>, _automatic/<yyyy-mm>/mail-<stamp>-<token>...
    if plain and len(parts) in (2, 3) and not parts[0].startswith(".") and _MAIL_FOLDER.fullmatch(parts[-1]):
        return relative
    raise StorageError(
        f"erasure of {complaint_id}: refusing to remove {relative!r} (not a folder of the case)"
    )


def remove_folders(storage: Storage, folders: list[str], complaint_id: str) -> Removed:
    """Remove each folder (a missing one is already gone); the files and bytes removed.
    Raises StorageError if one is refused or still there afterwards."""
    checked = [check_folder(folder, complaint_id) for folder in folders]  # all, before removing any
    files = size = 0
    for relative in checked:
        path = storage.resolve(relative)  # inside the root, through no symlink
        counted = _count(path)
        storage.remove_tree(relative)
        if os.path.lexists(path):
            raise StorageError(f"erasure of {complaint_id}: could not remove {relative}")
        files, size = files + counted.files, size + counted.bytes
    storage.sync()
    return Removed(files, size)


def _count(path: os.PathLike[str] | str) -> Removed:
    """Regular files and their bytes under ``path``, never following a link."""
    files = size = 0
    for folder, _dirs, names in os.walk(path, followlinks=False):
        for name in names:
            info = os.lstat(os.path.join(folder, name))
            if stat.S_ISREG(info.st_mode):
                files, size = files + 1, size + info.st_size
    return Removed(files, size)
