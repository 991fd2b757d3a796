"""adjustments_health: letter formats for reasonable adjustments, Graph delta links, mailbox health

``complaints`` gains ``letter_format`` ("standard" or "large-print", Code 3.1 and
5.10: the format letters are issued in) and ``language_note`` (interpreting or
translation needs, free text; "" = none). ``folder_checkpoints`` gains
``delta_link``: a Graph source's ``@odata.deltaLink`` for the folder, committed
with the ledger rows it covers (NULL for IMAP folders). ``mailbox_health`` holds
one row per mail source and transport: the last successful poll, the last error
and the open incident, so an alert is mailed once per incident
(docs/deployment.md, "Health"). ``events`` gains an index on (kind, at): the
reports read events by kind over a period.

Plain ADD COLUMN, never a batch (see 0013). The new complaint columns change every
complaint's canonical form, so the complaints are chained again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailroom.clock import SystemClock
from mailroom.records.audit_append import chain_existing_rows

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "complaints",
        sa.Column("letter_format", sa.String(length=20), server_default="standard", nullable=False),
    )
    op.add_column("complaints", sa.Column("language_note", sa.Text(), server_default="", nullable=False))
    chain_existing_rows(op.get_bind(), SystemClock().now(), tables=("complaints",))
    op.add_column("folder_checkpoints", sa.Column("delta_link", sa.Text(), nullable=True))
    op.create_index("ix_events_kind_at", "events", ["kind", "at"])
    op.create_table(
        "mailbox_health",
        sa.Column("source", sa.String(length=400), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("incident", sa.String(length=40), server_default="", nullable=False),
        sa.Column("incident_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_mailbox_health")),
    )


def downgrade() -> None:
    op.drop_table("mailbox_health")
    op.drop_index("ix_events_kind_at", table_name="events")
    op.drop_column("folder_checkpoints", "delta_link")
    op.drop_column("complaints", "language_note")
    op.drop_column("complaints", "letter_format")
    chain_existing_rows(op.get_bind(), SystemClock().now(), tables=("complaints",))
