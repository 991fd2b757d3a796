"""Verifying the audit chain (docs/records.md, "Audit chain"); the entries of a case.

The chain (table ``audit_chain``, written by ``audit_capture`` at each commit) holds
one entry per version of each row of the case evidence. ``verify_chain``:

1. walks every entry in ``seq`` order: consecutive numbers, each naming the hash of
   the one before, each hash matching its contents (an entry edited, removed or
   inserted breaks this);
2. compares every chained row with its latest entry (one index probe a row): a row
   edited in the database no longer hashes to it; a row with no entry was written
   outside the application (or the chain's end was cut off: the rows its last
   entries covered are then unaccounted for); a row whose latest entry says it
   exists but that is gone was deleted outside it (counted first: only when the
   count differs are the entries searched for it);
3. optionally rehashes each filed file of ``documents`` against its ``sha256``
   (a file not yet moved out of the staging area is checked there).

It reports the first broken link, the lowest entry number, as one line, and how
many problems it found. With a complaint ID only that case's rows are compared,
but the links of the whole chain are still walked (cheap, and what every case's
entries hang from). Everything is read from one snapshot (``read_snapshot``) a
chunk at a time: memory stays bounded on a store of millions of rows, and a
writer committing meanwhile neither waits nor makes a false report.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, RowMapping, String, Table, cast, func, select
from sqlalchemy.orm import Session

from mailroom.filing import STAGING, Storage, StorageError
from mailroom.records.audit_append import (
    CHAIN,
    CHUNK,
    boolean_columns,
    chained_table,
    row_key,
    rows_by_id,
)
from mailroom.records.audit_canonical import (
    CHAINED_TABLES,
    CHANGES,
    DELETE,
    GENESIS_PREV,
    ChainLink,
    canonical_instant,
    row_sha256,
)
from mailroom.store.database import read_snapshot

if TYPE_CHECKING:
    from mailroom.services import Services

_FILE_BLOCK = 1 << 20


@dataclass(frozen=True)
class Problem:
    seq: int | None  # the entry it is found at; None: a row the chain never recorded
    line: str


@dataclass
class ChainReport:
    """What ``verify_chain`` found, and what an evidence pack prints of it."""

    complaint_id: str | None
    entries: int = 0  # entries walked (the whole chain)
    rows: int = 0  # chained rows compared with their latest entry
    files: int = 0  # filed files rehashed
    head_seq: int = 0
    head_sha256: str = GENESIS_PREV
    problems: int = 0
    first: Problem | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.problems == 0

    @property
    def first_broken(self) -> str | None:
        """The first broken link as one line, or None when the chain is intact."""
        return None if self.first is None else self.first.line

    def add(self, problem: Problem) -> None:
        self.problems += 1
        if self.first is None or _rank(problem) < _rank(self.first):
            self.first = problem

    def summary(self) -> str:
        scope = f" for {self.complaint_id}" if self.complaint_id else ""
        checked = f"{self.entries} entries, {self.rows} rows, {self.files} files checked{scope}"
        head = f"head {self.head_seq} {self.head_sha256}"
        if self.ok:
            return f"audit chain intact: {checked}; {head}"
        return f"{self.first_broken} ({self.problems} problem(s); {checked}; {head})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "complaint_id": self.complaint_id,
            "entries": self.entries,
            "rows": self.rows,
            "files": self.files,
            "head_seq": self.head_seq,
            "head_sha256": self.head_sha256,
            "problems": self.problems,
            "first_broken": self.first_broken,
            "first_broken_seq": None if self.first is None else self.first.seq,
        }


def _rank(problem: Problem) -> tuple[bool, int]:
    return (problem.seq is None, problem.seq or 0)


class _Latest(NamedTuple):
    seq: int
    change: str
    row_sha256: str
    at: datetime
    complaint_id: str | None


def verify_chain(
    services: Services,
    complaint_id: str | None = None,
    *,
    check_files: bool = True,
    case_links_only: bool = False,
) -> ChainReport:
    """Verify the chain (and the files of ``documents``, unless ``check_files`` is False).
    ``case_links_only`` (with a case): check the links of that case's entries and of the
    entries just before them, not the whole chain's: what an evidence pack needs, in
    time that grows with the case and not with the store (about 22 µs an entry for the
    whole chain: 20 s at a million)."""
    with read_snapshot(services.store.engine) as connection:
        return verify_chain_on(
            connection,
            services.storage,
            complaint_id,
            check_files=check_files,
            case_links_only=case_links_only,
        )


def verify_chain_on(
    connection: Connection,
    storage: Storage | None,
    complaint_id: str | None = None,
    *,
    check_files: bool = True,
    case_links_only: bool = False,
) -> ChainReport:
    """``verify_chain`` on a connection the caller holds (a snapshot, ideally);
    ``storage`` None skips the files."""
    report = ChainReport(complaint_id)
    if case_links_only and complaint_id is not None:
        _walk_case_links(connection, report, complaint_id)
    else:
        _walk_links(connection, report)
    files = _FileChecker(storage) if check_files and storage is not None else None
    for name in CHAINED_TABLES:
        table = chained_table(name)
        clean = _rows_against_entries(connection, table, complaint_id, report, files)
        _entries_against_rows(connection, table, complaint_id, report, clean)
    return report


# -- 1. the links ---------------------------------------------------------------------------


def _walk_links(connection: Connection, report: ChainReport) -> None:
    expected, prev = 1, GENESIS_PREV
    for entry in _entries(connection):
        seq = int(entry["seq"])
        report.entries += 1
        problem = _link_problem(entry, expected, prev)
        if problem is not None:
            report.add(problem)
        expected, prev = seq + 1, str(entry["entry_sha256"])
        report.head_seq, report.head_sha256 = seq, prev


def _walk_case_links(connection: Connection, report: ChainReport, complaint_id: str) -> None:
    """The links into and out of each entry of one case: each entry matches its hash,
    and the entry before it exists, matches its own hash and is the one it names."""
    chunk: list[Mapping[Any, Any]] = []
    for entry in _entries(connection, complaint_id):
        chunk.append(entry)
        if len(chunk) >= CHUNK:
            _check_case_chunk(connection, report, chunk)
            chunk = []
    if chunk:
        _check_case_chunk(connection, report, chunk)


def _check_case_chunk(connection: Connection, report: ChainReport, chunk: list[Mapping[Any, Any]]) -> None:
    before = [int(entry["seq"]) - 1 for entry in chunk if int(entry["seq"]) > 1]
    query = select(CHAIN).where(CHAIN.c.seq.in_(before))
    previous = {int(row._mapping["seq"]): row._mapping for row in connection.execute(query)}
    for entry in chunk:
        seq = int(entry["seq"])
        report.entries += 1
        report.head_seq, report.head_sha256 = seq, str(entry["entry_sha256"])
        if seq == 1:
            problem = _link_problem(entry, 1, GENESIS_PREV)
        elif seq - 1 not in previous:
            problem = Problem(seq - 1, f"audit chain broken at entry {seq - 1}: entry {seq - 1} is missing")
        else:
            earlier = previous[seq - 1]
            problem = _link_problem(earlier, seq - 1, str(earlier["prev_sha256"])) or _link_problem(
                entry, seq, str(earlier["entry_sha256"])
            )
        if problem is not None:
            report.add(problem)


def _link_problem(entry: Mapping[Any, Any], expected: int, prev: str) -> Problem | None:
    """What is wrong with ``entry`` where entry ``expected`` should follow hash ``prev``.
    An entry whose hash no longer matches it was edited; one that names another hash
    for the entry before it means that one was changed and its hash recomputed (or
    replaced): the break is reported at the earlier entry, where it happened."""
    seq = int(entry["seq"])
    broken = "audit chain broken at entry"
    link = _link(entry)
    if link is None or link.sha256() != entry["entry_sha256"]:
        return Problem(seq, f"{broken} {seq}: the entry was edited (it no longer matches its hash)")
    if seq != expected:
        missing = (
            f"entry {expected} is missing"
            if seq == expected + 1
            else f"entries {expected} to {seq - 1} are missing"
        )
        return Problem(expected, f"{broken} {expected}: {missing}")
    if entry["prev_sha256"] != prev:
        if seq == 1:
            return Problem(seq, f"{broken} 1: the first entry names an entry before it")
        return Problem(seq - 1, f"{broken} {seq - 1}: it is not the entry that entry {seq} follows")
    return None


def _link(entry: Mapping[Any, Any]) -> ChainLink | None:
    if entry["change"] not in CHANGES or not isinstance(entry["at"], datetime):
        return None
    return ChainLink(
        int(entry["seq"]),
        entry["at"],
        entry["change"],
        entry["table_name"],
        entry["row_id"],
        entry["complaint_id"],
        entry["row_sha256"],
        entry["prev_sha256"],
    )


def _entries(connection: Connection, complaint_id: str | None = None) -> Iterator[Mapping[Any, Any]]:
    """Entries in ``seq`` order (of one case, if given), a chunk at a time."""
    last = 0
    while True:
        query = select(CHAIN).where(CHAIN.c.seq > last).order_by(CHAIN.c.seq).limit(CHUNK * 4)
        if complaint_id is not None:
            query = query.where(CHAIN.c.complaint_id == complaint_id)
        chunk = [row._mapping for row in connection.execute(query)]
        if not chunk:
            return
        yield from chunk
        last = int(chunk[-1]["seq"])


# -- 2. each row against its latest entry --------------------------------------------------------


def _case_filter(table: Table, complaint_id: str | None) -> Any:
    if complaint_id is None:
        return None
    return _case_column(table) == complaint_id


def _case_column(table: Table) -> Any:
    return table.c.id if table.name == "complaints" else table.c.complaint_id


def _latest_seq(table_name: str, row_id: Any) -> Any:
    """The seq of the latest entry of row ``row_id`` (text): one probe of the chain's
    (table_name, row_id, seq) index."""
    newer = CHAIN.alias("newer")
    return (
        select(func.max(newer.c.seq))
        .where(newer.c.table_name == table_name, newer.c.row_id == row_id)
        .scalar_subquery()
    )


def _row_id_text(table: Table) -> Any:
    """A row's id as its entries name it (the chain stores text)."""
    return table.c.id if table.name == "complaints" else cast(table.c.id, String)


_ENTRY_COLUMNS = ("seq", "change", "row_sha256", "at", "complaint_id")


def _rows_with_latest_entries(
    connection: Connection, table: Table, complaint_id: str | None
) -> Iterator[list[RowMapping]]:
    """Each row (of the case) with its latest entry's fields as ``entry_<name>``, in id
    order, ``CHUNK`` at a time: one query a chunk, whatever the size of the chain."""
    latest = CHAIN.alias("latest")
    joined = table.outerjoin(latest, latest.c.seq == _latest_seq(table.name, _row_id_text(table)))
    entry = [latest.c[name].label(f"entry_{name}") for name in _ENTRY_COLUMNS]
    base = select(*table.columns, *entry).select_from(joined).order_by(table.c.id).limit(CHUNK)
    where = _case_filter(table, complaint_id)
    if where is not None:
        base = base.where(where)
    last: Any = None
    while True:
        query = base if last is None else base.where(table.c.id > last)
        chunk = [row._mapping for row in connection.execute(query)]
        if not chunk:
            return
        yield chunk
        last = chunk[-1]["id"]


def _rows_against_entries(
    connection: Connection,
    table: Table,
    complaint_id: str | None,
    report: ChainReport,
    files: _FileChecker | None,
) -> int:
    """Compare each row with its latest entry; returns how many rows matched it."""
    booleans = boolean_columns(table)
    names = [column.name for column in table.columns]
    clean = 0
    for chunk in _rows_with_latest_entries(connection, table, complaint_id):
        for found in chunk:
            report.rows += 1
            row = {name: found[name] for name in names}
            row_id, case = row_key(table, row)
            entry = (
                None
                if found["entry_seq"] is None
                else _Latest(*(found[f"entry_{n}"] for n in _ENTRY_COLUMNS))
            )
            problem = _row_problem(table.name, row_id, case, entry, row_sha256(row, booleans))
            if problem is None and entry is not None:
                clean += 1
                if files is not None and table.name == "documents" and row["path"]:
                    report.files += 1
                    problem = files.check(str(row["path"]), str(row["sha256"]), entry.seq, row_id, case)
            if problem is not None:
                report.add(problem)
    return clean


def _row_problem(
    table_name: str, row_id: str, case: str | None, entry: _Latest | None, digest: str
) -> Problem | None:
    what = _what(table_name, row_id, case)
    if entry is None:
        return Problem(
            None,
            f"audit chain broken: {what} is not in the chain "
            "(written outside the application, or the chain's last entries were cut off)",
        )
    at = f"audit chain broken at entry {entry.seq}: {what}"
    if entry.change == DELETE:
        return Problem(entry.seq, f"{at} exists, but its deletion was recorded on {_when(entry.at)}")
    if digest != entry.row_sha256:
        return Problem(entry.seq, f"{at} differs from what was recorded on {_when(entry.at)}")
    return None


# -- 3. rows the chain knows of that are gone -----------------------------------------------------


def _entries_against_rows(
    connection: Connection, table: Table, complaint_id: str | None, report: ChainReport, clean: int
) -> None:
    """Rows whose latest entry says they exist (in the case) but that are gone (from it).
    Every row that matched its latest entry accounts for one such entry: when they are
    as many as the entries, nothing is missing, and one count says so. Only otherwise
    are the entries searched for the missing rows."""
    if _live_entries(connection, table.name, complaint_id) == clean:
        return
    for row_ids in _chained_row_ids(connection, table.name, complaint_id):
        latest = _latest_entries(connection, table.name, row_ids)
        live = {
            row_id: entry
            for row_id, entry in latest.items()
            if entry.change != DELETE and (complaint_id is None or entry.complaint_id == complaint_id)
        }
        typed = {row_id: _typed_id(table, row_id) for row_id in live}
        present = rows_by_id(
            connection,
            table,
            [value for value in typed.values() if value is not None],
            columns=[table.c.id, _case_column(table).label("case")],
        )
        for row_id, entry in live.items():
            row = present.get(typed[row_id])
            what = _what(table.name, row_id, entry.complaint_id)
            at = f"audit chain broken at entry {entry.seq}: {what}"
            if row is None:
                line = f"was deleted outside the application (last recorded on {_when(entry.at)})"
                report.add(Problem(entry.seq, f"{at} {line}"))
            elif complaint_id is not None and row["case"] != complaint_id:
                report.add(Problem(entry.seq, f"{at} was moved to another case outside the application"))


def _live_entries(connection: Connection, table_name: str, complaint_id: str | None) -> int:
    """How many rows of the table (of the case) the chain says exist now."""
    entry = CHAIN.alias("entry")
    query = (
        select(func.count())
        .select_from(entry)
        .where(
            entry.c.table_name == table_name,
            entry.c.change != DELETE,
            entry.c.seq == _latest_seq(table_name, entry.c.row_id),
        )
    )
    if complaint_id is not None:
        query = query.where(entry.c.complaint_id == complaint_id)
    return int(connection.scalar(query) or 0)


def _latest_entries(connection: Connection, table_name: str, row_ids: Sequence[str]) -> dict[str, _Latest]:
    latest: dict[str, _Latest] = {}
    for start in range(0, len(row_ids), CHUNK):
        query = (
            select(CHAIN.c.row_id, *(CHAIN.c[name] for name in _ENTRY_COLUMNS))
            .where(CHAIN.c.table_name == table_name, CHAIN.c.row_id.in_(row_ids[start : start + CHUNK]))
            .order_by(CHAIN.c.row_id, CHAIN.c.seq)
        )
        for row_id, *rest in connection.execute(query):
            latest[row_id] = _Latest(*rest)
    return latest


def _chained_row_ids(
    connection: Connection, table_name: str, complaint_id: str | None
) -> Iterator[list[str]]:
    """The row ids the chain has entries for (of the case), in the database's order,
    a chunk at a time."""
    last: str | None = None
    while True:
        query = select(CHAIN.c.row_id).where(CHAIN.c.table_name == table_name)
        if complaint_id is not None:
            query = query.where(CHAIN.c.complaint_id == complaint_id)
        if last is not None:
            query = query.where(CHAIN.c.row_id > last)
        chunk = list(connection.scalars(query.group_by(CHAIN.c.row_id).order_by(CHAIN.c.row_id).limit(CHUNK)))
        if not chunk:
            return
        yield chunk
        last = chunk[-1]


def _typed_id(table: Table, row_id: str) -> Any:
    if table.name == "complaints":
        return row_id
    return int(row_id) if row_id.isascii() and row_id.isdigit() else None


def _what(table_name: str, row_id: str, complaint_id: str | None) -> str:
    return f"{table_name} row {row_id}" + (f" ({complaint_id})" if complaint_id else "")


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- files ------------------------------------------------------------------------------------------


class _FileChecker:
    """Rehashes filed files. A file not yet published (its mail committed, the move
    out of the staging area still to come) is checked where it is staged."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._staged: list[Path] | None = None

    def check(self, relative: str, sha256: str, seq: int, row_id: str, case: str | None) -> Problem | None:
        """The problem with the file of documents row ``row_id`` (chained at entry ``seq``)."""
        trouble = self._trouble(relative, sha256)
        if trouble is None:
            return None
        what = _what("documents", row_id, case)
        return Problem(seq, f"audit chain broken at entry {seq}: {what}: file {relative} {trouble}")

    def _trouble(self, relative: str, sha256: str) -> str | None:
        try:
            path = self.storage.resolve(relative)
        except StorageError:
            return "is outside the storage root or reached through a symlink"
        found = _file_sha256(path)
        if found is None:
            found = self._staged_sha256(relative)
        if found is None:
            return "is missing"
        if isinstance(found, OSError):
            return f"cannot be read ({found.strerror})"
        return None if found == sha256 else "differs from the SHA-256 recorded for it"

    def _staged_sha256(self, relative: str) -> str | OSError | None:
        parts = Path(relative).parts
        for wrapper in self._staging_wrappers():
            for start in range(1, len(parts)):
                candidate = wrapper.joinpath(*parts[start:])
                found = _file_sha256(candidate)
                if found is not None:
                    return found
        return None

    def _staging_wrappers(self) -> list[Path]:
        if self._staged is None:
            staging = self.storage.root / STAGING
            try:
                self._staged = [p for p in staging.iterdir() if p.is_dir() and not p.is_symlink()]
            except OSError:
                self._staged = []
        return self._staged


def _file_sha256(path: Path) -> str | OSError | None:
    """The file's SHA-256, read in blocks; None if there is no file; the error if unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as handle:
        while block := handle.read(_FILE_BLOCK):
            digest.update(block)
    return digest.hexdigest()


# -- the entries of a case, for the evidence pack ---------------------------------------------------


def chain_entries_of_case(
    source: Services | Session | Connection, complaint_id: str
) -> Iterator[dict[str, Any]]:
    """The chain's entries about one case, in order, as JSON-ready dicts (one line
    each of the pack's ``audit.jsonl``), read a chunk at a time."""
    if isinstance(source, Session):
        yield from _case_entries(source.connection(), complaint_id)
    elif isinstance(source, Connection):
        yield from _case_entries(source, complaint_id)
    else:
        with read_snapshot(source.store.engine) as connection:
            yield from _case_entries(connection, complaint_id)


def _case_entries(connection: Connection, complaint_id: str) -> Iterator[dict[str, Any]]:
    for entry in _entries(connection, complaint_id):
        yield {
            "seq": int(entry["seq"]),
            "at": canonical_instant(entry["at"]),
            "change": entry["change"],
            "table": entry["table_name"],
            "row_id": entry["row_id"],
            "complaint_id": entry["complaint_id"],
            "row_sha256": entry["row_sha256"],
            "prev_sha256": entry["prev_sha256"],
            "entry_sha256": entry["entry_sha256"],
        }
