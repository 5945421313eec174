"""Running totals per park; the held period ranges go.

`park_daily_stats` gets the running totals of its sums (`cum_*`), so that a park's
period costs two rows as a ride's does; they are computed here from the park's days.
`park_period_totals` and `ride_period_totals` (named periods kept ready) are dropped:
measured, rankings from running totals alone meet the same budget (docs/statistics.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SUMS: tuple[tuple[str, type[sa.Double[float]] | type[sa.Integer]], ...] = (
    ("uptime_minutes", sa.Double),
    ("downtime_minutes", sa.Double),
    ("weighted_downtime_minutes", sa.Double),
    ("weighted_total_minutes", sa.Double),
    ("wait_sum", sa.Double),
    ("wait_samples", sa.Integer),
)
#: Rows updated per statement while filling the running totals.
BATCH = 5000


def upgrade() -> None:
    op.drop_table("ride_period_totals")
    op.drop_table("park_period_totals")
    with op.batch_alter_table("park_daily_stats") as batch:
        for name, kind in SUMS:
            batch.add_column(sa.Column(f"cum_{name}", kind(), nullable=False, server_default="0"))
    _fill()


def _fill() -> None:
    """Each park's days in order, summed as `storage.park_days` sums them on write."""
    conn = op.get_bind()
    days = sa.table(
        "park_daily_stats",
        sa.column("park_id"),
        sa.column("stat_date", sa.Date),
        *(sa.column(name) for name, _ in SUMS if name != "wait_sum"),
        sa.column("avg_wait"),
        *(sa.column(f"cum_{name}") for name, _ in SUMS),
    )
    c = days.c
    found = conn.execute(
        sa.select(
            c.park_id,
            c.stat_date,
            c.uptime_minutes,
            c.downtime_minutes,
            c.weighted_downtime_minutes,
            c.weighted_total_minutes,
            c.avg_wait,
            c.wait_samples,
        ).order_by(c.park_id, c.stat_date)
    ).all()
    update = (
        sa.update(days)
        .where(c.park_id == sa.bindparam("b_park"), c.stat_date == sa.bindparam("b_day"))
        .values({f"cum_{name}": sa.bindparam(f"b_{name}") for name, _ in SUMS})
    )
    running: dict[int, list[Any]] = {}
    rows: list[dict[str, Any]] = []
    for park_id, day, up, down, weighted_down, weighted_total, avg_wait, samples in found:
        own = (up, down, weighted_down, weighted_total, (avg_wait or 0.0) * samples, samples)
        totals = [a + b for a, b in zip(running.get(park_id, [0] * len(SUMS)), own, strict=True)]
        running[park_id] = totals
        rows.append(
            {
                "b_park": park_id,
                "b_day": day,
                **{f"b_{n}": v for (n, _), v in zip(SUMS, totals, strict=True)},
            }
        )
        if len(rows) == BATCH:
            conn.execute(update, rows)
            rows = []
    if rows:
        conn.execute(update, rows)


def downgrade() -> None:
    with op.batch_alter_table("park_daily_stats") as batch:
        for name, _ in SUMS:
            batch.drop_column(f"cum_{name}")
    options: dict[str, Any] = {
        "mysql_charset": "utf8mb4",
        "mysql_collate": "utf8mb4_unicode_ci",
        "mysql_engine": "InnoDB",
        "sqlite_with_rowid": False,
    }
    # Empty, as revision 0008 made them: rankings then computed what they lacked.
    op.create_table(
        "park_period_totals",
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False, comment="the park's local days"),
        sa.Column("last_date", sa.Date(), nullable=False),
        *(sa.Column(name, kind(), nullable=False) for name, kind in SUMS),
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
        **options,
    )
    op.create_table(
        "ride_period_totals",
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("ride_id", sa.Integer(), nullable=False),
        *(sa.Column(name, kind(), nullable=False) for name, kind in SUMS),
        sa.Column("downtime_events", sa.Integer(), nullable=False),
        sa.Column("tracked_days", sa.Integer(), nullable=False),
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
        sa.Index(
            "ix_ride_period_totals_ride_id_first_date_last_date",
            "ride_id",
            "first_date",
            "last_date",
        ),
        **options,
    )
