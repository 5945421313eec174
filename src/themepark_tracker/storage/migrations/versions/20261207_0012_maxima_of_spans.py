"""Peak waits over spans of park days, so that any range's peak wait costs two rows
per ride or park; each ride's latest day tracked and with downtime, so that a park's
rides tracked and with downtime in a range cost one row per ride.

`park_daily_stats` gets `day_number` (the park's days with statistics up to this one)
and the highest posted wait of the 2, 4, ..., 256 park days ending with each day;
`ride_daily_stats` the same for each ride, and `days_since_tracked` and
`days_since_down` (days back to its latest such day). All are computed here from the
daily rows, park by park, and written through a work table in one statement per table.
`rides` gets an index on `live_status`; on MySQL the ride index of `ride_daily_stats`
also holds `tracked`, `peak_wait` and `longest_downtime_minutes`.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: The spans as this revision made them.
SPANS = tuple(2**k for k in range(1, 9))
PEAKS = tuple(f"peak_wait_{span}d" for span in SPANS)
LATEST = ("days_since_tracked", "days_since_down")
#: On MySQL the ride index also holds what a ranking reads of the days of the rides it
#: returns (their longest closure), so that it never fetches a compressed row per day.
RIDE_INDEX = "ix_ride_daily_stats_ride_id_stat_date"
COVERING = "ix_ride_daily_stats_ride_id_stat_date_maxima"
#: Rows written per statement into the work tables.
BATCH = 10000


def upgrade() -> None:
    with op.batch_alter_table("park_daily_stats") as batch:
        batch.add_column(
            sa.Column(
                "day_number",
                sa.Integer(),
                nullable=False,
                server_default="0",
                comment="the park's days with statistics up to this one",
            )
        )
        for name in PEAKS:
            batch.add_column(sa.Column(name, sa.SmallInteger(), nullable=True))
        batch.create_index("ix_park_daily_stats_park_id_day_number", ["park_id", "day_number"])
    if op.get_bind().dialect.name == "mysql":
        # One statement: the table is compressed, and each ALTER rebuilds it whole.
        added = [f"ADD COLUMN {name} SMALLINT NULL" for name in LATEST]
        added += [f"ADD COLUMN {name} SMALLINT NULL" for name in PEAKS]
        added += [
            f"ADD INDEX {COVERING} (ride_id, stat_date, tracked, peak_wait, "
            "longest_downtime_minutes)",
            f"DROP INDEX {RIDE_INDEX}",
        ]
        op.execute(f"ALTER TABLE ride_daily_stats {', '.join(added)}")
    else:
        with op.batch_alter_table("ride_daily_stats") as batch:
            for name in LATEST:
                batch.add_column(sa.Column(name, sa.SmallInteger(), nullable=True))
            for name in PEAKS:
                batch.add_column(sa.Column(name, sa.SmallInteger(), nullable=True))
    op.create_index("ix_rides_live_status", "rides", ["live_status"])
    _fill()


def _larger(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None or a >= b:
        return a
    return b


def _levels(values: Sequence[Any]) -> list[list[Any]]:
    """Per span, the largest of `values` (None: no value) over the span ending at each."""
    found = [list(values)]
    for span in SPANS:
        half = span // 2
        below = found[-1]
        found.append(
            [_larger(v, below[i - half] if i >= half else None) for i, v in enumerate(below)]
        )
    return found[1:]


def _fill() -> None:
    conn = op.get_bind()
    work = sa.MetaData()
    park_work = sa.Table(
        "tmp_park_maxima",
        work,
        sa.Column("park_id", sa.Integer, primary_key=True),
        sa.Column("stat_date", sa.Date, primary_key=True),
        sa.Column("day_number", sa.Integer),
        *(sa.Column(name, sa.SmallInteger) for name in PEAKS),
    )
    ride_work = sa.Table(
        "tmp_ride_maxima",
        work,
        sa.Column("park_id", sa.Integer, primary_key=True),
        sa.Column("stat_date", sa.Date, primary_key=True),
        sa.Column("ride_id", sa.Integer, primary_key=True),
        *(sa.Column(name, sa.SmallInteger) for name in LATEST),
        *(sa.Column(name, sa.SmallInteger) for name in PEAKS),
    )
    work.create_all(conn)
    parks = sa.table("park_daily_stats", sa.column("park_id"), sa.column("stat_date", sa.Date),
                     sa.column("peak_wait"), sa.column("day_number"),
                     *(sa.column(name) for name in PEAKS))  # fmt: skip
    rides = sa.table("ride_daily_stats", sa.column("park_id"), sa.column("stat_date", sa.Date),
                     sa.column("ride_id"), sa.column("peak_wait"), sa.column("tracked"),
                     sa.column("downtime_minutes"),
                     *(sa.column(name) for name in LATEST),
                     *(sa.column(name) for name in PEAKS))  # fmt: skip
    days: dict[int, list[tuple[date, Any]]] = {}
    for park_id, day, peak in conn.execute(
        sa.select(parks.c.park_id, parks.c.stat_date, parks.c.peak_wait).order_by(
            parks.c.park_id, parks.c.stat_date
        )
    ):
        days.setdefault(park_id, []).append((day, peak))
    park_rows: list[dict[str, Any]] = []
    ride_rows: list[dict[str, Any]] = []
    for park_id, found in days.items():
        numbers = {day: index for index, (day, _) in enumerate(found)}
        peaks = _levels([peak for _, peak in found])
        park_rows += [
            {"park_id": park_id, "stat_date": day, "day_number": index + 1,
             **{name: peaks[k][index] for k, name in enumerate(PEAKS)}}
            for index, (day, _) in enumerate(found)
        ]  # fmt: skip
        ride_rows += _ride_levels(conn, rides, park_id, numbers)
        if len(ride_rows) >= BATCH:
            conn.execute(sa.insert(ride_work), ride_rows)
            ride_rows = []
    if park_rows:
        conn.execute(sa.insert(park_work), park_rows)
    if ride_rows:
        conn.execute(sa.insert(ride_work), ride_rows)
    conn.execute(
        sa.update(parks)
        .where(parks.c.park_id == park_work.c.park_id, parks.c.stat_date == park_work.c.stat_date)
        .values({name: park_work.c[name] for name in ("day_number", *PEAKS)})
    )
    conn.execute(
        sa.update(rides)
        .where(
            rides.c.park_id == ride_work.c.park_id,
            rides.c.stat_date == ride_work.c.stat_date,
            rides.c.ride_id == ride_work.c.ride_id,
        )
        .values({name: ride_work.c[name] for name in (*LATEST, *PEAKS)})
    )
    work.drop_all(conn)


def _down(minutes: Any) -> bool:
    """Downtime on a day, as docs/methodology.md counted it when this revision was made."""
    return round(float(minutes or 0), 6) > 0


def _ride_levels(
    conn: Any, rides: Any, park_id: int, numbers: dict[date, int]
) -> list[dict[str, Any]]:
    """Each ride of the park, over the park's days (no row: no value)."""
    values: dict[int, list[list[Any]]] = {}
    orphans: list[dict[str, Any]] = []
    c = rides.c
    for day, ride_id, peak, tracked, down in conn.execute(
        sa.select(c.stat_date, c.ride_id, c.peak_wait, c.tracked, c.downtime_minutes).where(
            c.park_id == park_id
        )
    ):
        if day not in numbers:  # a ride row without its park's row: its own day only
            orphans.append(
                {"park_id": park_id, "stat_date": day, "ride_id": ride_id,
                 "days_since_tracked": 0 if tracked else None,
                 "days_since_down": 0 if _down(down) else None, **dict.fromkeys(PEAKS, peak)}
            )  # fmt: skip
            continue
        columns = values.setdefault(ride_id, [[None] * len(numbers) for _ in range(4)])
        for column, value in zip(columns, (True, peak, tracked, _down(down)), strict=True):
            column[numbers[day]] = value
    dates = sorted(numbers, key=numbers.__getitem__)
    found = orphans
    for ride_id, (rows, peaks, tracked_days, down_days) in values.items():
        peak_levels = _levels(peaks)
        tracked_on = down_on = None
        for index, day in enumerate(dates):
            if rows[index] is None:
                continue  # the ride has no row on this day
            tracked_on = day if tracked_days[index] else tracked_on
            down_on = day if down_days[index] else down_on
            found.append(
                {"park_id": park_id, "stat_date": day, "ride_id": ride_id,
                 "days_since_tracked": None if tracked_on is None else (day - tracked_on).days,
                 "days_since_down": None if down_on is None else (day - down_on).days,
                 **{name: peak_levels[k][index] for k, name in enumerate(PEAKS)}}
            )  # fmt: skip
    return found


def downgrade() -> None:
    op.drop_index("ix_rides_live_status", "rides")
    dropped_names = (*LATEST, *PEAKS)
    if op.get_bind().dialect.name == "mysql":
        dropped = [f"DROP COLUMN {name}" for name in dropped_names]
        dropped += [f"ADD INDEX {RIDE_INDEX} (ride_id, stat_date)", f"DROP INDEX {COVERING}"]
        op.execute(f"ALTER TABLE ride_daily_stats {', '.join(dropped)}")
    else:
        with op.batch_alter_table("ride_daily_stats") as batch:
            for name in dropped_names:
                batch.drop_column(name)
    with op.batch_alter_table("park_daily_stats") as batch:
        batch.drop_index("ix_park_daily_stats_park_id_day_number")
        for name in PEAKS:
            batch.drop_column(name)
        batch.drop_column("day_number")
