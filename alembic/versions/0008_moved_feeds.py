"""moved feeds: where permanent redirects lead, and on how many polls in a row

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_to", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("moved_count", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("moved_count")
        batch_op.drop_column("moved_to")
