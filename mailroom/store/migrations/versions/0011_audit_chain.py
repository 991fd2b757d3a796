"""audit_chain: the tamper-evident chain of the case evidence (docs/records.md)

Creates the chain, then appends one ``genesis`` entry for every existing row of the
chained tables (complaints, mails, documents, events, letters, case_record,
audit_log), in table then id order, a chunk at a time: a store upgraded to this
revision verifies clean, and any later direct edit of those rows is detected.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailroom.clock import SystemClock
from mailroom.records.audit_append import chain_existing_rows

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=40), nullable=False),
        sa.Column("complaint_id", sa.String(length=40), nullable=True),
        sa.Column("row_sha256", sa.String(length=64), nullable=False),
        sa.Column("prev_sha256", sa.String(length=64), nullable=False),
        sa.Column("entry_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_chain")),
    )
    # Plain CREATE INDEX, never a batch (see 0010).
    op.create_index("ix_audit_chain_table_name_row", "audit_chain", ["table_name", "row_id", "seq"])
    op.create_index("ix_audit_chain_complaint_id", "audit_chain", ["complaint_id"])
    # The migration's own moment: there is no application clock here.
    chain_existing_rows(op.get_bind(), SystemClock().now())


def downgrade() -> None:
    op.drop_index("ix_audit_chain_complaint_id", table_name="audit_chain")
    op.drop_index("ix_audit_chain_table_name_row", table_name="audit_chain")
    op.drop_table("audit_chain")
