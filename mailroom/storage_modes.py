"""Start-up check: personal data is readable by mailroom's own user only.

Filing creates folders 0700 and files 0600 and the SQLite database 0600 (its
``-wal`` and ``-shm`` take the database's mode). Data written by an older
version, or copied in with a loose umask, is fixed here at start-up with one
warning line for each thing changed.

The whole tree is walked only when the storage root itself was open to others:
while the root is 0700 nobody else can reach anything below it, so a start-up
costs a few stat calls however much is filed. A walk also reports each
symlink it finds (filing refuses to write through them; they are not removed).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from mailroom.filing import PRIVATE, Modes


def _allowed(modes: Modes, folder: bool) -> int:
    """The bits a path may keep: the owner's, and read (and search) for a records group."""
    if modes.gid is None:
        return 0o700
    return 0o2750 if folder else 0o740


def _fix(path: Path, info: os.stat_result, modes: Modes) -> str | None:
    """Tighten ``path``'s mode (and group); the warning line, or None if it was fine."""
    folder = stat.S_ISDIR(info.st_mode)
    mode = stat.S_IMODE(info.st_mode)
    wanted = mode & _allowed(modes, folder)
    wrong_group = modes.gid is not None and info.st_gid != modes.gid
    if wanted == mode and not wrong_group:
        return None
    if wrong_group and modes.gid is not None:
        os.chown(path, -1, modes.gid, follow_symlinks=False)
    if modes.gid is not None:
        wanted = modes.folder if folder else modes.file
    os.chmod(path, wanted, follow_symlinks=False)
    what = "folder" if folder else "file"
    return f"storage: {what} {path} was mode {mode:04o}, readable beyond mailroom; now {wanted:04o}"


def make_private(root: Path, database: Path | None = None, modes: Modes = PRIVATE) -> list[str]:
    """Fix loose modes under ``root`` and on ``database`` (with -wal/-shm);
    returns one warning line per change and per symlink found."""
    warnings: list[str] = []
    for path in _database_files(database):
        line = _fix(path, path.stat(), modes)
        if line:
            warnings.append(line.replace("storage: file", "storage: database file", 1))
    try:
        root_info = os.lstat(root)
    except FileNotFoundError:
        return warnings
    line = _fix(root, root_info, modes) if stat.S_ISDIR(root_info.st_mode) else None
    if line is None:
        return warnings
    warnings.append(line)
    folders = files = 0
    for path, info in _walk(root):
        if stat.S_ISLNK(info.st_mode):
            warnings.append(f"storage: {path} is a symlink: mailroom will not file through it; remove it")
        elif _fix(path, info, modes) is not None:
            if stat.S_ISDIR(info.st_mode):
                folders += 1
            else:
                files += 1
    if folders or files:
        warnings.append(
            f"storage: {folders} folders and {files} files under {root} were readable beyond mailroom; "
            "now private"
        )
    return warnings


def _database_files(database: Path | None) -> list[Path]:
    if database is None:
        return []
    candidates = [
        database,
        database.with_name(database.name + "-wal"),
        database.with_name(database.name + "-shm"),
    ]
    return [path for path in candidates if path.is_file() and not path.is_symlink()]


def _walk(root: Path) -> Iterable[tuple[Path, os.stat_result]]:
    """Every entry below ``root`` with its lstat, never following a symlink."""
    pending = [root]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                info = entry.stat(follow_symlinks=False)
                yield Path(entry.path), info
                if stat.S_ISDIR(info.st_mode):
                    pending.append(Path(entry.path))
