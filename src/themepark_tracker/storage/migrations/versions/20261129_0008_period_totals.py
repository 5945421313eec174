"""Sums of the named periods around each park's current day, kept ready for rankings.

Both tables start empty: rankings compute what they lack from the running totals, and
each park's next poll fills its ranges.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 11:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE_OPTIONS: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
    "sqlite_with_rowid": False,
}
SUMS: tuple[tuple[str, type[sa.Double[float]] | type[sa.Integer]], ...] = (
    ("uptime_minutes", sa.Double),
    ("downtime_minutes", sa.Double),
    ("weighted_downtime_minutes", sa.Double),
    ("weighted_total_minutes", sa.Double),
    ("wait_sum", sa.Double),
    ("wait_samples", sa.Integer),
    ("downtime_events", sa.Integer),
    ("tracked_days", sa.Integer),
)


def upgrade() -> None:
    op.create_table(
        "park_period_totals",
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False, comment="the park's local days"),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("uptime_minutes", sa.Double(), nullable=False),
        sa.Column("downtime_minutes", sa.Double(), nullable=False),
        sa.Column("weighted_downtime_minutes", sa.Double(), nullable=False),
        sa.Column("weighted_total_minutes", sa.Double(), nullable=False),
        sa.Column("wait_sum", sa.Double(), nullable=False),
        sa.Column("wait_samples", sa.Integer(), nullable=False),
        sa.Column("peak_wait", sa.SmallInteger(), nullable=True),
        sa.Column(
            "rides_tracked", sa.Integer(), nullable=False, comment="tracked on a day of the range"
        ),
        sa.Column("rides_with_downtime", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_park_period_totals_park_id")
        ),
        sa.PrimaryKeyConstraint(
            "park_id", "first_date", "last_date", name=op.f("pk_park_period_totals")
        ),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "ride_period_totals",
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("ride_id", sa.Integer(), nullable=False),
        *(sa.Column(name, kind(), nullable=False) for name, kind in SUMS),
        sa.Column("peak_wait", sa.SmallInteger(), nullable=True),
        sa.Column("longest_downtime_minutes", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_ride_period_totals_park_id")
        ),
        sa.ForeignKeyConstraint(
            ["ride_id"], ["rides.id"], name=op.f("fk_ride_period_totals_ride_id")
        ),
        sa.PrimaryKeyConstraint(
            "park_id", "first_date", "last_date", "ride_id", name=op.f("pk_ride_period_totals")
        ),
        # Created with the table, so that MySQL's foreign key uses it rather than its own.
        sa.Index(
            "ix_ride_period_totals_ride_id_first_date_last_date",
            "ride_id",
            "first_date",
            "last_date",
        ),
        **TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("ride_period_totals")
    op.drop_table("park_period_totals")
