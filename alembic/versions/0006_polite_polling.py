"""polite polling: Retry-After in force, feeds gone (HTTP 410)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_after_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("gone_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("gone_at")
        batch_op.drop_column("retry_after_until")
