"""report_data: what the complaint reports need besides the clocks (docs/reports.md)

``complaints`` gains ``category`` (set by staff from the landlord policy's list; "" =
none), ``category_suggested`` (from keyword rules over the mail text) and
``category_by`` (who set or confirmed it). ``homes`` holds the number of homes per
financial year, the denominator of TSM CH01.

Plain ADD COLUMN, never a batch: on SQLite a batch may copy the table, which would
drop the search triggers 0009 put on complaints. The new columns change every
complaint's canonical form, so the complaints are chained again (as in 0012).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailroom.clock import SystemClock
from mailroom.records.audit_append import chain_existing_rows

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

CATEGORY_COLUMNS = (("category", 60), ("category_suggested", 60), ("category_by", 320))


def upgrade() -> None:
    for name, length in CATEGORY_COLUMNS:
        op.add_column(
            "complaints", sa.Column(name, sa.String(length=length), server_default="", nullable=False)
        )
    # The migration's own moment: there is no application clock here.
    chain_existing_rows(op.get_bind(), SystemClock().now(), tables=("complaints",))
    op.create_table(
        "homes",
        sa.Column("year", sa.String(length=7), nullable=False),
        sa.Column("homes", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_homes")),
    )


def downgrade() -> None:
    op.drop_table("homes")
    # SQLite 3.35+ drops a column in place (no copy of the table, so 0009's triggers stay).
    for name, _ in reversed(CATEGORY_COLUMNS):
        op.drop_column("complaints", name)
    # Back to 0012's canonical form: chained again, or `audit verify` reports every complaint.
    chain_existing_rows(op.get_bind(), SystemClock().now(), tables=("complaints",))
