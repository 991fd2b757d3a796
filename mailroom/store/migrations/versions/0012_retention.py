"""retention: legal holds and erasure state on complaints, the signed erasure records

``complaints`` gains ``legal_hold`` (why the case must be kept; "" = none), who set it
and when, and ``erased_at``. ``erasures`` is the signed record of each erasure
(``mailroom/records/retention.py``). ``outbox`` gets an index on ``complaint_id``:
erasure finds a case's outbound mails by it instead of reading them all.

Plain ADD COLUMN, never a batch: on SQLite a batch may copy the table, which would
drop the search triggers 0009 put on complaints.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailroom.clock import SystemClock
from mailroom.records.audit_append import chain_existing_rows

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("complaints", sa.Column("legal_hold", sa.Text(), server_default="", nullable=False))
    op.add_column(
        "complaints", sa.Column("legal_hold_by", sa.String(length=320), server_default="", nullable=False)
    )
    op.add_column("complaints", sa.Column("legal_hold_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("complaints", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    # The new columns change every complaint's canonical form: chain them again (0011).
    chain_existing_rows(op.get_bind(), SystemClock().now(), tables=("complaints",))
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=320), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("counts_json", sa.Text(), nullable=False),
        sa.Column("folders_json", sa.Text(), nullable=False),
        sa.Column("files_removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_erasures_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_index(op.f("ix_erasures_complaint_id"), "erasures", ["complaint_id"], unique=False)
    # A case's outbox rows are erased with it: found by the case, not by a scan.
    op.create_index(op.f("ix_outbox_complaint_id"), "outbox", ["complaint_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_complaint_id"), table_name="outbox")
    op.drop_index(op.f("ix_erasures_complaint_id"), table_name="erasures")
    op.drop_table("erasures")
    # SQLite 3.35+ drops a column in place (no copy of the table, so 0009's triggers stay).
    for column in ("erased_at", "legal_hold_at", "legal_hold_by", "legal_hold"):
        op.drop_column("complaints", column)
