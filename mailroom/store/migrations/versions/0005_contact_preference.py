"""complainant's contact preference and postal address

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contact_preference", sa.String(length=10), server_default="email", nullable=False)
        )
        batch_op.add_column(sa.Column("postal_address", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_column("postal_address")
        batch_op.drop_column("contact_preference")
