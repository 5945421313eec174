"""`rides.live_status` holds `refurbishment` too: 16 characters instead of 8, on MySQL.

SQLite never limits a VARCHAR's length, and changing the declared one would rebuild
`rides`, which every table of ride figures references: its foreign keys cannot be
switched off inside the migration's transaction. So SQLite keeps the declared 8.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite keeps text of any length in it already (see the module)
    with op.batch_alter_table("rides") as batch:
        batch.alter_column(
            "live_status",
            existing_type=sa.String(8),
            type_=sa.String(16),
            existing_nullable=True,
            comment="running, down, closed, refurbishment, unknown",
            existing_comment="running, down, closed, unknown",
        )


def downgrade() -> None:
    op.execute(
        sa.text("UPDATE rides SET live_status = 'closed' WHERE live_status = 'refurbishment'")
    )
    if op.get_bind().dialect.name == "sqlite":
        return
    with op.batch_alter_table("rides") as batch:
        batch.alter_column(
            "live_status",
            existing_type=sa.String(16),
            type_=sa.String(8),
            existing_nullable=True,
            comment="running, down, closed, unknown",
            existing_comment="running, down, closed, refurbishment, unknown",
        )
