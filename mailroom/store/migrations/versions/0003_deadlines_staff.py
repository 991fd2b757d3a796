"""stored deadlines, reminder ledger, staff, case officer, event payloads

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("officer", sa.String(length=320), server_default="", nullable=False))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.Text(), server_default="", nullable=False))

    op.create_table(
        "staff",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("manager_email", sa.String(length=320), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_staff")),
    )
    op.create_table(
        "deadlines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.String(length=40), nullable=False),
        sa.Column("clock", sa.String(length=80), nullable=False),
        sa.Column("paragraph", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("lapses_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("original_due", sa.Date(), nullable=False),
        sa.Column("calendar_version", sa.String(length=20), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_deadlines_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadlines")),
        sa.UniqueConstraint("complaint_id", "clock", name="uq_deadlines_complaint_clock"),
    )
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.create_index("ix_deadlines_next_reminder_at", ["next_reminder_at"], unique=False)
        batch_op.create_index("ix_deadlines_lapses_at", ["lapses_at"], unique=False)
    op.create_table(
        "reminder_log",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("complaint_id", sa.String(length=40), nullable=False),
        sa.Column("clock", sa.String(length=80), nullable=False),
        sa.Column("step", sa.String(length=30), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_reminder_log_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_reminder_log")),
    )
    with op.batch_alter_table("reminder_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_log_complaint_id"), ["complaint_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminder_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_log_complaint_id"))
    op.drop_table("reminder_log")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_deadlines_lapses_at")
        batch_op.drop_index("ix_deadlines_next_reminder_at")
    op.drop_table("deadlines")
    op.drop_table("staff")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("payload")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_column("officer")
