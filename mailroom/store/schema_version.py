"""The schema revision this code expects, readable without Alembic.

Every command checks the stored revision first; Alembic (a third of a second to
import) is loaded only when the database is new or behind. A test keeps ``HEAD``
equal to the newest migration in ``migrations/versions``."""

from __future__ import annotations

from typing import Any

HEAD = "0014"


def stored_revision(cursor: Any) -> str | None:
    """The revision a DB-API cursor's database is at; None when it has no schema."""
    try:
        cursor.execute("SELECT version_num FROM alembic_version")
        row = cursor.fetchone()
    except Exception:
        return None
    return str(row[0]) if row else None
