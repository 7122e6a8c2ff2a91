"""service state: daemon heartbeats, entry last-seen times for retention

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daemons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daemons")),
    )
    with op.batch_alter_table("daemons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daemons_heartbeat_at"), ["heartbeat_at"], unique=False)
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_changed_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_entries_last_seen_at"), ["last_seen_at"], unique=False)
    # Entries stored before this migration were last seen, at the latest, when first seen;
    # their feed's last body is taken to be its last successful poll's.
    op.execute("UPDATE entries SET last_seen_at = first_seen_at")
    op.execute("UPDATE feeds SET last_changed_at = last_success_at")


def downgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entries_last_seen_at"))
        batch_op.drop_column("last_seen_at")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("last_changed_at")
    with op.batch_alter_table("daemons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daemons_heartbeat_at"))
    op.drop_table("daemons")
