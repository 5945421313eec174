"""A ride's outages (`ride_outages`), kept for good like its status changes; on a ride's
day whose session runs, the length of its ongoing outage (`ongoing_outage_minutes`), so
that a period's ended outages are a difference of running totals too.

Outages are derived from a day's raw polls, so the park days whose polls still exist
(not in `closed_park_days`) are marked stale: the next `collect`, `import` or `aggregate`
recomputes them and writes their outages. Older days keep no outages (docs/methodology.md
says so).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from themepark_tracker.storage.types import UTCDateTime, UTCSeconds

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    compressed: dict[str, Any] = (
        {"mysql_row_format": "COMPRESSED", "mysql_key_block_size": "8"}
        if op.get_bind().dialect.name == "mysql"
        else {}
    )
    op.create_table(
        "ride_outages",
        sa.Column("ride_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCSeconds(), nullable=False, comment="its first closed poll"),
        sa.Column("park_date", sa.Date(), nullable=False, comment="the park's local day"),
        sa.Column(
            "ended_at", UTCSeconds(), nullable=True, comment="the next open poll; null: ongoing"
        ),
        sa.Column(
            "minutes", sa.Double(), nullable=False, comment="the time its closed polls cover"
        ),
        sa.Column("park_wide", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["ride_id"], ["rides.id"], name=op.f("fk_ride_outages_ride_id")),
        sa.PrimaryKeyConstraint("ride_id", "started_at", name=op.f("pk_ride_outages")),
        sqlite_with_rowid=False,
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
        **compressed,
    )
    with op.batch_alter_table("ride_daily_stats") as batch:
        batch.add_column(sa.Column("ongoing_outage_minutes", sa.Double(), nullable=True))
    days = sa.table("park_daily_stats", sa.column("park_id"), sa.column("stat_date", sa.Date()))
    stale = sa.table(
        "stale_park_days",
        sa.column("park_id"),
        sa.column("park_date", sa.Date()),
        sa.column("marked_at", UTCDateTime()),
    )
    closed = sa.table("closed_park_days", sa.column("park_id"), sa.column("park_date"))
    kept = sa.and_(closed.c.park_id == days.c.park_id, closed.c.park_date == days.c.stat_date)
    marked = sa.and_(stale.c.park_id == days.c.park_id, stale.c.park_date == days.c.stat_date)
    op.get_bind().execute(
        sa.insert(stale).from_select(
            ["park_id", "park_date", "marked_at"],
            sa.select(
                days.c.park_id,
                days.c.stat_date,
                sa.literal(datetime.now(UTC), UTCDateTime()),
            ).where(~sa.exists().where(kept), ~sa.exists().where(marked)),
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("ride_daily_stats") as batch:
        batch.drop_column("ongoing_outage_minutes")
    op.drop_table("ride_outages")
