"""The canonical forms the audit chain hashes (mailroom/records/audit_canonical.py):
one byte string per set of values whatever the database handed back, and a format
pinned by known answers (a change would break every chain already written)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailroom.records.audit_canonical import (
    GENESIS_PREV,
    ChainLink,
    canonical_instant,
    canonical_row,
    canonical_value,
    row_sha256,
)

AT = datetime(2026, 3, 4, 10, 12, 5, 123456, tzinfo=UTC)


def test_a_row_is_sorted_compact_ascii_json_of_every_column() -> None:
    row = {
        "subject": 'Zoë \u202e "damp"\n',
        "id": 7,
        "filed": 1,
        "due": date(2026, 3, 4),
        "at": AT,
        "raw": b"\x00\xff",
        "complaint_id": None,
    }
    assert canonical_row(row, booleans={"filed"}) == (
        b'{"at":"2026-03-04T10:12:05.123456Z","complaint_id":null,"due":"2026-03-04","filed":true,'
        b'"id":7,"raw":"00ff","subject":"Zo\\u00eb \\u202e \\"damp\\"\\n"}'
    )


def test_what_sqlite_and_postgresql_hand_back_for_the_same_values_hashes_alike() -> None:
    # SQLite: booleans as integers; PostgreSQL: aware instants in the session's zone.
    sqlite_row = {"filed": 0, "at": AT, "attempts": 1}
    postgres_row = {"filed": False, "at": AT.astimezone(timezone(timedelta(hours=-5))), "attempts": 1}
    assert row_sha256(sqlite_row, {"filed"}) == row_sha256(postgres_row, {"filed"})


def test_instants_are_utc_to_the_microsecond_and_naive_ones_are_refused() -> None:
    assert canonical_instant(datetime(2026, 7, 1, 11, 0, tzinfo=timezone(timedelta(hours=1)))) == (
        "2026-07-01T10:00:00.000000Z"
    )
    with pytest.raises(ValueError, match="naive"):
        canonical_value(datetime(2026, 7, 1, 11, 0))


def test_a_value_of_no_known_form_is_an_error_not_a_guess() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        canonical_value(Decimal("1.5"))
    with pytest.raises(TypeError, match="float"):  # no float column is chained: none may slip in
        canonical_row({"x": 0.1})


def test_a_boolean_column_normalises_integers_but_an_integer_column_keeps_them() -> None:
    assert canonical_row({"n": 1}) == b'{"n":1}'
    assert canonical_row({"n": 1}, {"n"}) == b'{"n":true}'
    assert canonical_row({"n": None}, {"n"}) == b'{"n":null}'


def _link(**changes: object) -> ChainLink:
    fields: dict[str, object] = {
        "seq": 1,
        "at": AT,
        "change": "insert",
        "table_name": "events",
        "row_id": "56",
        "complaint_id": "CMP-2026-00012",
        "row_sha256": "a" * 64,
        "prev_sha256": GENESIS_PREV,
    }
    fields.update(changes)
    return ChainLink(**fields)  # type: ignore[arg-type]


def test_an_entry_hash_is_pinned_and_covers_every_field() -> None:
    link = _link()
    assert link.canonical() == (
        b'{"at":"2026-03-04T10:12:05.123456Z","change":"insert","complaint_id":"CMP-2026-00012",'
        b'"prev_sha256":"' + GENESIS_PREV.encode() + b'","row_id":"56","row_sha256":"' + b"a" * 64 + b'",'
        b'"seq":1,"table":"events"}'
    )
    assert link.sha256() == hashlib.sha256(link.canonical()).hexdigest()
    variants = [
        _link(seq=2),
        _link(at=AT + timedelta(microseconds=1)),
        _link(change="update"),
        _link(table_name="letters"),
        _link(row_id="57"),
        _link(complaint_id=None),
        _link(row_sha256="b" * 64),
        _link(prev_sha256="c" * 64),
    ]
    assert len({variant.sha256() for variant in variants} | {link.sha256()}) == len(variants) + 1


ROW_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(),
    st.binary(max_size=64),
    st.dates(),
    st.datetimes(timezones=st.just(UTC)),
)


@given(st.dictionaries(st.text(min_size=1, max_size=20), ROW_VALUES, max_size=12))
def test_any_row_has_one_ascii_form_whatever_the_order_of_its_columns(row: dict[str, object]) -> None:
    form = canonical_row(row)
    assert form == canonical_row(dict(reversed(list(row.items()))))
    assert form.isascii() and b"\n" not in form
