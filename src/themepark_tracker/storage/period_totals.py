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
    Date,
    Integer,
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
    park_daily_stats,
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


_park = bindparam("park", type_=Integer)
_first = bindparam("first", type_=Date)
_last = bindparam("last", type_=Date)
_p, _r = park_period_totals.c, ride_period_totals.c
_s, _d = ride_daily_stats.c, park_daily_stats.c
CUMULATIVE = tuple(f"cum_{name}" for name in SUMS)

# Built once: a poll runs these for its park, and building costs more than running them.
_HELD = select(_p.first_date, _p.last_date).where(_p.park_id == _park)
_FORGET = tuple(
    delete(t).where(
        t.c.park_id == _park,
        t.c.first_date <= bindparam("day", type_=Date),
        t.c.last_date >= bindparam("day", type_=Date),
    )
    for t in (park_period_totals, ride_period_totals)
)
_DROP = tuple(
    delete(t).where(t.c.park_id == _park, t.c.first_date == _first, t.c.last_date == _last)
    for t in (park_period_totals, ride_period_totals)
)
_DAYS = select(_d.stat_date).where(_d.park_id == _park, _d.stat_date.between(_first, _last))
_DAY_BEFORE = (
    select(_d.stat_date)
    .where(_d.park_id == _park, _d.stat_date < _first)
    .order_by(_d.stat_date.desc())
    .limit(1)
)
_RUNNING_ON = select(_s.ride_id, _s.stat_date, *(_s[name] for name in CUMULATIVE)).where(
    _s.park_id == _park, _s.stat_date.in_(bindparam("days", expanding=True))
)
_MAXIMA = (
    select(_s.ride_id, func.max(_s.peak_wait), func.max(_s.longest_downtime_minutes))
    .where(_s.park_id == _park, _s.stat_date.between(_first, _last), _s.tracked)
    .group_by(_s.ride_id)
)
_PARK_SUMS = select(*running_totals.PARK_DAY_SUMS).where(
    _d.park_id == _park, _d.stat_date.between(_first, _last)
)


def forget_day(conn: Connection, park_id: int, day: date) -> None:
    """Drop the park's ranges that hold `day`, whose statistics are being rewritten."""
    for statement in _FORGET:
        conn.execute(statement, {"park": park_id, "day": day})


def keep(conn: Connection, park_id: int, ranges: Collection[DateRange]) -> int:
    """Hold exactly `ranges` for the park: drop the others, compute those missing.

    Returns how many were computed: usually the few that hold the day just written, all
    of them on the park's first write of a new day.
    """
    held = {(first, last) for first, last in conn.execute(_HELD, {"park": park_id})}
    stale = [{"park": park_id, "first": f, "last": last} for f, last in held - set(ranges)]
    for statement in _DROP if stale else ():
        conn.execute(statement, stale)
    missing = sorted(set(ranges) - held)
    if missing:
        _compute(conn, park_id, missing)
    return len(missing)


def _compute(conn: Connection, park_id: int, spans: Sequence[DateRange]) -> None:
    """The spans' sums as rankings compute them (`running_totals`): per ride tracked in a
    span, its running totals on the span's last day with statistics minus those on the
    day before the span, read once for all spans."""
    lowest, highest = min(f for f, _ in spans), max(last for _, last in spans)
    days = list(conn.execute(_DAYS, {"park": park_id, "first": lowest, "last": highest}).scalars())
    days.sort()
    before_all = conn.execute(_DAY_BEFORE, {"park": park_id, "first": lowest}).scalar()
    bounds: dict[DateRange, tuple[date, date | None]] = {}
    for first, last in spans:
        inside = [d for d in days if first <= d <= last]
        if inside:
            earlier = [d for d in days if d < first]
            bounds[(first, last)] = (inside[-1], earlier[-1] if earlier else before_all)
    needed = sorted({d for pair in bounds.values() for d in pair if d is not None})
    running: dict[tuple[int, date], tuple[Any, ...]] = {}
    if needed:
        for ride_id, day, *cumulative in conn.execute(
            _RUNNING_ON, {"park": park_id, "days": needed}
        ):
            running[(ride_id, day)] = tuple(cumulative)
    ride_rows: list[dict[str, Any]] = []
    park_rows: list[dict[str, Any]] = []
    tracked = SUMS.index("tracked_days")
    for first, last in spans:
        span = {"park": park_id, "first": first, "last": last}
        rows = []
        if (first, last) in bounds:
            end, start = bounds[(first, last)]
            maxima = {ride: (peak, longest) for ride, peak, longest in conn.execute(_MAXIMA, span)}
            for (ride_id, day), at_end in sorted(running.items()):
                if day != end:
                    continue
                at_start = running.get((ride_id, start)) if start is not None else None
                sums = at_end if start is None else _minus(at_end, at_start)
                if sums[tracked] <= 0:
                    continue
                peak, longest = maxima.get(ride_id, (None, None))
                rows.append(
                    {
                        "park_id": park_id,
                        "first_date": first,
                        "last_date": last,
                        "ride_id": ride_id,
                        **dict(zip(SUMS, sums, strict=True)),
                        "peak_wait": peak,
                        "longest_downtime_minutes": longest or 0.0,
                    }
                )
        ride_rows.extend(rows)
        totals = running_totals.totals(conn.execute(_PARK_SUMS, span).one())
        park_rows.append(
            {
                "park_id": park_id,
                "first_date": first,
                "last_date": last,
                **{name: getattr(totals, name) for name in PARK_SUMS},
                "rides_tracked": len(rows),
                "rides_with_downtime": sum(1 for r in rows if r["downtime_minutes"] > EPSILON),
            }
        )
    if ride_rows:
        conn.execute(insert(ride_period_totals), ride_rows)
    conn.execute(insert(park_period_totals), park_rows)


def _minus(end: tuple[Any, ...], start: tuple[Any, ...] | None) -> tuple[Any, ...]:
    """As SQL's `end - COALESCE(start, 0)`, to the last bit."""
    if start is None:
        return tuple(e - 0 for e in end)
    return tuple(e - s for e, s in zip(end, start, strict=True))


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
