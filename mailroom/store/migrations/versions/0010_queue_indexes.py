"""indexes for the desk's work queues (docs/queues.md)

Each serves a queue of ``mailroom/queues/`` at 100,000 complaints and 1,000,000
mails, checked with EXPLAIN on PostgreSQL:

- complaints (status, officer, id): the team view groups the open cases by officer
  from the index alone; complaints (officer): an officer's own cases, for counts;
- case_parties (email): triage guesses, the cases the sender is a party to;
- mails (received_at) WHERE triage_open: the triage queue, oldest first; only the
  open items are in it, so the million other mails cost it nothing;
- letters (status, issued_at, complaint_id): drafts by status, letters to post in
  order of issue;
- deadlines (due) WHERE stopped_at IS NULL: the deadlines queue, its due buckets
  (date ranges) and counts read only running clocks, in due order;
- outbox (message_id): a Message-ID quoted back to us (bounces, triage guesses).

The partial indexes' WHERE is each dialect's rendering of the query's condition
(SQLite uses a partial index only for a query whose WHERE names the same term).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE INDEX, never a batch: on SQLite a batch may copy the table, which
    # would drop the search triggers 0009 put on complaints, case_parties and mails.
    op.create_index("ix_complaints_status_officer", "complaints", ["status", "officer", "id"])
    op.create_index("ix_complaints_officer", "complaints", ["officer"])
    op.create_index("ix_case_parties_email", "case_parties", ["email"])
    op.create_index(
        "ix_mails_open_triage_received_at",
        "mails",
        ["received_at"],
        postgresql_where=sa.text("triage_open"),
        sqlite_where=sa.text("triage_open = 1"),
    )
    op.create_index("ix_letters_status_issued_at", "letters", ["status", "issued_at", "complaint_id"])
    op.create_index(
        "ix_deadlines_running_due",
        "deadlines",
        ["due"],
        postgresql_where=sa.text("stopped_at IS NULL"),
        sqlite_where=sa.text("stopped_at IS NULL"),
    )
    op.create_index("ix_outbox_message_id", "outbox", ["message_id"])


def downgrade() -> None:
    for table, name in (
        ("outbox", "ix_outbox_message_id"),
        ("deadlines", "ix_deadlines_running_due"),
        ("letters", "ix_letters_status_issued_at"),
        ("mails", "ix_mails_open_triage_received_at"),
        ("case_parties", "ix_case_parties_email"),
        ("complaints", "ix_complaints_officer"),
        ("complaints", "ix_complaints_status_officer"),
    ):
        op.drop_index(name, table_name=table)
