"""A park's running total of its days counted with published hours
(`park_daily_stats.cum_scheduled_days`), so that a ranking of parks says, from its two
rows per park like every other sum, how many of each park's days were counted with
them. Filled from `scheduled`, park by park in day order.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 01:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("park_daily_stats") as batch:
        batch.add_column(
            sa.Column("cum_scheduled_days", sa.Integer(), server_default="0", nullable=False)
        )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT park_id, stat_date, scheduled FROM park_daily_stats ORDER BY park_id, stat_date"
        )
    )
    counted: dict[int, int] = {}
    changed = []
    for park_id, day, scheduled in rows:
        counted[park_id] = counted.get(park_id, 0) + (1 if scheduled else 0)
        if counted[park_id]:
            changed.append({"park": park_id, "day": day, "total": counted[park_id]})
    if changed:
        bind.execute(
            sa.text(
                "UPDATE park_daily_stats SET cum_scheduled_days = :total"
                " WHERE park_id = :park AND stat_date = :day"
            ),
            changed,
        )


def downgrade() -> None:
    with op.batch_alter_table("park_daily_stats") as batch:
        batch.drop_column("cum_scheduled_days")
