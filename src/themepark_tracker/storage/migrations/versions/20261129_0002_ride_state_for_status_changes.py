"""Rides remember their last open/closed state, to record status changes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 03:38:38.120625
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import themepark_tracker.storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rides", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "current_state",
                sa.String(length=8),
                nullable=True,
                comment="last open or closed seen",
            )
        )
        batch_op.add_column(
            sa.Column(
                "state_since",
                themepark_tracker.storage.types.UTCDateTime(),
                nullable=True,
                comment="poll time it became so",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("rides", schema=None) as batch_op:
        batch_op.drop_column("state_since")
        batch_op.drop_column("current_state")
