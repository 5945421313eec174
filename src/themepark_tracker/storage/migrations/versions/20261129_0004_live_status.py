"""Live status of parks and rides, kept current after each poll.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 04:10:09.009059
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import themepark_tracker.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "open_now", sa.Boolean(), nullable=True, comment="latest poll active (live status)"
            )
        )
        batch_op.add_column(
            sa.Column(
                "live_at",
                themepark_tracker.storage.types.UTCDateTime(),
                nullable=True,
                comment="time of the poll live status is from",
            )
        )

    with op.batch_alter_table("rides", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "live_status",
                sa.String(length=8),
                nullable=True,
                comment="running, down, closed, unknown",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("rides", schema=None) as batch_op:
        batch_op.drop_column("live_status")

    with op.batch_alter_table("parks", schema=None) as batch_op:
        batch_op.drop_column("live_at")
        batch_op.drop_column("open_now")
