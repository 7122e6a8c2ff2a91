"""hit marks: where the matched text is in each hit's snippet

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Hits stored before this have no marks: an empty list, not NULL.
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("marks", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_column("marks")
