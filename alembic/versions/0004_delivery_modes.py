"""delivery modes: alerts held for digests, the message that delivered each alert

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_reason", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=300), nullable=True))
        batch_op.create_index("ix_outbox_channel_sent_at", ["channel", "sent_at"], unique=False)
    # Alerts already sent were delivered on their own, under their own id.
    op.execute("UPDATE outbox SET message_id = alert_id WHERE status = 'sent'")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_channel_sent_at")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("message_id")
        batch_op.drop_column("hold_reason")
