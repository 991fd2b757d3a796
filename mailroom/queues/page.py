"""A page of a work queue, and the ordering and paging every queue shares.

Pages are numbered from 1 and cut with LIMIT/OFFSET in SQL, after every filter
(the officer's restriction included), so page 2 of an officer's queue holds
exactly their next rows. One row more than the page is fetched: that says
whether there is a next page without counting the whole queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Select, func, select
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import ColumnElement

from mailroom.errors import UserError

T = TypeVar("T")

MAX_PAGE_SIZE = 500  # web.page_size allows at most this


class QueueError(UserError):
    """A queue was asked for something it cannot give: an unknown sort, bucket or
    letter type, a page below 1. One line, for a 400 or the command line."""


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: tuple[T, ...]
    number: int  # from 1
    size: int  # rows a full page holds
    has_more: bool  # a next page has at least one row
    total: int | None = None  # rows in the whole queue, when asked for or known for free


@dataclass(frozen=True)
class Key:
    """One column of a sort. ``nulls_last``: for a column that may be NULL ("no due
    date"), which then comes last in either direction, on SQLite as on PostgreSQL
    (their defaults differ). Only for such columns: on a NOT NULL column it would keep
    PostgreSQL from reading an index backwards for the reverse sort."""

    expression: ColumnElement[Any]
    nulls_last: bool = False


def ordering(sort: str, keys: Mapping[str, Sequence[Key]]) -> list[ColumnElement[Any]]:
    """ORDER BY for ``sort``: a name from ``keys``, or "-name" for the reverse.
    Each key list ends in a unique column so that pages never overlap or skip."""
    descending = sort.startswith("-")
    chosen = keys.get(sort.removeprefix("-"))
    if chosen is None:
        names = ", ".join(f"{name}, -{name}" for name in keys)
        raise QueueError(f"cannot sort by {sort!r}: one of {names}")
    columns: list[ColumnElement[Any]] = []
    for key in chosen:
        column = key.expression.desc() if descending else key.expression.asc()
        columns.append(column.nulls_last() if key.nulls_last else column)
    return columns


def check_paging(page: int, page_size: int) -> None:
    if page < 1:
        raise QueueError(f"page {page}: pages are numbered from 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise QueueError(f"page size {page_size}: must be 1 to {MAX_PAGE_SIZE}")


def fetch_page(
    connection: Connection,
    query: Select[Any],
    make: Callable[[Row[Any]], T],
    *,
    page: int,
    page_size: int,
    with_total: bool = False,
) -> Page[T]:
    """Run ``query`` (filtered and ordered) for one page; ``make`` turns a row into a queue row."""
    check_paging(page, page_size)
    offset = (page - 1) * page_size
    rows = connection.execute(query.limit(page_size + 1).offset(offset)).all()
    has_more = len(rows) > page_size
    shown = tuple(make(row) for row in rows[:page_size])
    total: int | None = None
    if with_total:
        total = count(connection, query)
    elif not has_more and (shown or page == 1):
        total = offset + len(shown)  # the last page: the count is known without asking
    return Page(shown, page, page_size, has_more, total)


def count(connection: Connection, query: Select[Any]) -> int:
    """Rows ``query`` gives, without its ordering (counting needs no sort)."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return int(connection.execute(counted).scalar_one())
