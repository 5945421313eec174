"""Each park day's ended outages on its park row (`park_daily_stats.outage_seconds`), and
every 8th park day the buckets of all its days so far (`cum_outages`), so that a park's
outage figures over a period read a few rows per park rather than a row per outage of
its rides: the figures of every park of a ranking in one read. Filled from
`ride_outages`, with the layout of `storage.outages` (frozen here).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

import sys
from array import array

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

CHECKPOINT_DAYS = 8
HEAD = 4


def _bytes(values: array[int]) -> bytes:
    if sys.byteorder == "big":
        values.byteswap()
    return values.tobytes()


def _count(buckets: list[int], seconds: list[int]) -> None:
    for length in seconds:
        wide = length < 0
        length = -length if wide else length
        slot = HEAD + 2 * ((length + 300) // 600) + wide
        if slot >= len(buckets):
            buckets.extend([0] * (slot + 1 - len(buckets)))
        buckets[slot] += 1
        buckets[2 * wide] += 1
        buckets[2 * wide + 1] += length


def upgrade() -> None:
    with op.batch_alter_table("park_daily_stats") as batch:
        batch.add_column(
            sa.Column(
                "outage_seconds",
                sa.LargeBinary(),
                nullable=True,
                comment="int32 little-endian seconds, negative: park-wide",
            )
        )
        batch.add_column(
            sa.Column(
                "cum_outages",
                sa.LargeBinary(),
                nullable=True,
                comment="int64 little-endian buckets",
            )
        )
    conn = op.get_bind()
    outages = sa.table(
        "ride_outages",
        sa.column("ride_id"),
        sa.column("park_date", sa.Date()),
        sa.column("ended_at"),
        sa.column("minutes"),
        sa.column("park_wide"),
    )
    rides = sa.table("rides", sa.column("id"), sa.column("park_id"))
    days = sa.table(
        "park_daily_stats",
        sa.column("park_id"),
        sa.column("stat_date", sa.Date()),
        sa.column("day_number"),
        sa.column("outage_seconds", sa.LargeBinary()),
        sa.column("cum_outages", sa.LargeBinary()),
    )
    fill = (
        sa.update(days)
        .where(days.c.park_id == sa.bindparam("b_park"), days.c.stat_date == sa.bindparam("b_day"))
        .values(outage_seconds=sa.bindparam("b_seconds"), cum_outages=sa.bindparam("b_buckets"))
    )
    for (park_id,) in conn.execute(sa.select(days.c.park_id).distinct()).all():
        found: dict[object, list[int]] = {}
        rows = conn.execute(
            sa.select(outages.c.park_date, outages.c.minutes, outages.c.park_wide)
            .join(rides, rides.c.id == outages.c.ride_id)
            .where(rides.c.park_id == park_id, outages.c.ended_at.is_not(None))
        )
        for day, minutes, park_wide in rows:
            seconds = round(float(minutes) * 60)
            found.setdefault(day, []).append(-seconds if park_wide else seconds)
        numbered = conn.execute(
            sa.select(days.c.stat_date, days.c.day_number)
            .where(days.c.park_id == park_id)
            .order_by(days.c.stat_date)
        ).all()
        buckets = [0] * HEAD
        changed = []
        for day, number in numbered:
            lengths = found.get(day, [])
            _count(buckets, lengths)
            checkpoint = number % CHECKPOINT_DAYS == 0
            if lengths or checkpoint:
                changed.append(
                    {
                        "b_park": park_id,
                        "b_day": day,
                        "b_seconds": _bytes(array("i", sorted(lengths))) if lengths else None,
                        "b_buckets": _bytes(array("q", buckets)) if checkpoint else None,
                    }
                )
        if changed:
            conn.execute(fill, changed)


def downgrade() -> None:
    with op.batch_alter_table("park_daily_stats") as batch:
        batch.drop_column("cum_outages")
        batch.drop_column("outage_seconds")
