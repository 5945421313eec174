"""Sums of the named periods around each park's current day, kept ready for rankings.

Computed at request time, a ranking over the last 30 days reads two rows of running
totals per ride and sorts every ride. The job that writes a park's days keeps here
instead, per park, the ranges that the named periods of its current day and the periods
before them cover (`keep`), so that a ranking reads one row per park or ride. Writing a
day forgets every range that holds it (`forget_day`): a range held here always agrees
with the daily statistics, and a range missing is computed from the running totals.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    false,
    func,
    insert,
    or_,
    select,
)

from themepark_tracker.engine.scores import Totals
from themepark_tracker.storage import running_totals
from themepark_tracker.storage.running_totals import EPSILON, DateRange
from themepark_tracker.storage.tables import (
    SUMS,
    park_period_totals,
    ride_daily_stats,
    ride_period_totals,
)

PARK_SUMS = (
    "uptime_minutes",
    "downtime_minutes",
    "weighted_downtime_minutes",
    "weighted_total_minutes",
    "wait_sum",
    "wait_samples",
    "peak_wait",
)


def forget_day(conn: Connection, park_id: int, day: date) -> None:
    """Drop the park's ranges that hold `day`, whose statistics are being rewritten."""
    for held in (park_period_totals, ride_period_totals):
        conn.execute(
            delete(held).where(
                held.c.park_id == park_id, held.c.first_date <= day, held.c.last_date >= day
            )
        )


def keep(conn: Connection, park_id: int, ranges: Collection[DateRange]) -> int:
    """Hold exactly `ranges` for the park: drop the others, compute those missing.

    Returns how many were computed: usually the few that hold the day just written, all
    of them on the park's first write of a new day.
    """
    p = park_period_totals.c
    held = {
        (first, last)
        for first, last in conn.execute(
            select(p.first_date, p.last_date).where(p.park_id == park_id)
        )
    }
    stale = held - set(ranges)
    for table in (park_period_totals, ride_period_totals) if stale else ():
        conn.execute(delete(table).where(table.c.park_id == park_id, _spans(table, stale)))
    missing = sorted(set(ranges) - held)
    for span in missing:
        _compute(conn, park_id, span)
    return len(missing)


def _spans(table: Table, spans: Collection[DateRange]) -> ColumnElement[bool]:
    return or_(
        *(
            and_(table.c.first_date == first, table.c.last_date == last)
            for first, last in sorted(spans)
        )
    )


def _compute(conn: Connection, park_id: int, span: DateRange) -> None:
    first, last = span
    rides: list[dict[str, Any]] = []
    found = running_totals.period(running_totals.groups(conn, {park_id: span}))
    if found is not None:
        period, params = found
        s = ride_daily_stats.c
        maxima = {
            ride_id: (peak, longest)
            for ride_id, peak, longest in conn.execute(
                select(s.ride_id, func.max(s.peak_wait), func.max(s.longest_downtime_minutes))
                .where(s.park_id == park_id, s.stat_date.between(first, last), s.tracked)
                .group_by(s.ride_id)
            )
        }
        for row in conn.execute(select(period), params).mappings():
            peak, longest = maxima.get(row["ride_id"], (None, 0.0))
            rides.append(
                {
                    "park_id": park_id,
                    "first_date": first,
                    "last_date": last,
                    "ride_id": row["ride_id"],
                    **{name: row[name] for name in SUMS},
                    "peak_wait": peak,
                    "longest_downtime_minutes": longest or 0.0,
                }
            )
    if rides:
        conn.execute(insert(ride_period_totals), rides)
    sums = running_totals.park_sums(conn, {park_id: span}).get(park_id, Totals())
    conn.execute(
        insert(park_period_totals).values(
            park_id=park_id,
            first_date=first,
            last_date=last,
            **{name: getattr(sums, name) for name in PARK_SUMS},
            rides_tracked=len(rides),
            rides_with_downtime=sum(1 for r in rides if r["downtime_minutes"] > EPSILON),
        )
    )


@lru_cache(maxsize=64)
def held_ranges(table: Table, count: int, by_ride: bool = False) -> ColumnElement[bool]:
    """Rows of `count` groups of parks, each group with its range: parameters
    `first_{i}`, `last_{i}` and `parks_{i}`, or `rides_{i}` when `by_ride` (only those
    rides, read through the ride index: the park's key with both lists would be a seek
    for every park and ride). `range_params` gives them."""
    return or_(
        false(),
        *(
            and_(
                table.c.first_date == bindparam(f"first_{i}"),
                table.c.last_date == bindparam(f"last_{i}"),
                table.c.ride_id.in_(bindparam(f"rides_{i}", expanding=True))
                if by_ride
                else table.c.park_id.in_(bindparam(f"parks_{i}", expanding=True)),
            )
            for i in range(count)
        ),
    )


def range_params(
    ranges: Mapping[int, DateRange], rides_of: Mapping[int, Sequence[int]] | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, ((first, last), ids) in enumerate(running_totals.by_range(ranges).items()):
        params.update({f"first_{i}": first, f"last_{i}": last, f"parks_{i}": ids})
        if rides_of is not None:
            params[f"rides_{i}"] = [ride for park in ids for ride in rides_of.get(park, ())]
    return params


def held_parks(conn: Connection, ranges: Mapping[int, DateRange]) -> set[int]:
    """The parks whose range is held."""
    if not ranges:
        return set()
    p = park_period_totals.c
    query = select(p.park_id).where(
        held_ranges(park_period_totals, len(running_totals.by_range(ranges)))
    )
    return set(conn.execute(query, range_params(ranges)).scalars())


def park_totals(
    conn: Connection, ranges: Mapping[int, DateRange]
) -> dict[int, tuple[Totals, int, int]]:
    """Per park whose range is held: its totals, rides tracked, rides with downtime."""
    if not ranges:
        return {}
    p = park_period_totals.c
    params = range_params(ranges)
    query = select(
        p.park_id, *(p[name] for name in PARK_SUMS), p.rides_tracked, p.rides_with_downtime
    ).where(held_ranges(park_period_totals, len(running_totals.by_range(ranges))))
    return {
        row[0]: (running_totals.totals(row[1:8]), int(row[8]), int(row[9]))
        for row in conn.execute(query, params)
    }
