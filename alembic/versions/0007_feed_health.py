"""feed health: state per feed, health alerts in the outbox

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("health", sa.String(length=10), server_default="ok", nullable=False)
        )
        batch_op.add_column(sa.Column("unhealthy_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("health_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("health_notified_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), server_default="hit", nullable=False)
        )
        batch_op.add_column(sa.Column("feed_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("health_status", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("health_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("health_since", sa.DateTime(), nullable=True))
        batch_op.alter_column("entry_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_feed_id_feeds"), "feeds", ["feed_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE kind = 'health'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_feed_id_feeds"), type_="foreignkey")
        batch_op.alter_column("entry_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("health_since")
        batch_op.drop_column("health_reason")
        batch_op.drop_column("health_status")
        batch_op.drop_column("feed_id")
        batch_op.drop_column("kind")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("health_notified_at")
        batch_op.drop_column("health_reason")
        batch_op.drop_column("unhealthy_since")
        batch_op.drop_column("health")
