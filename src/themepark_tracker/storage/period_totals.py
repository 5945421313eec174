"""Sums of the named periods around each park's current day, kept ready for rankings.

Computed at request time, a ranking over the last 30 days reads two rows of running
totals per ride and sorts every ride. The job that writes a park's days keeps here
instead, per park, the ranges that the named periods of its current day and the periods
before them cover (`keep`), so that a ranking reads one row per park or ride. Writing a
day forgets every range that holds it or ends after it (`forget_day`): a range held here
always agrees with the daily statistics, to the last bit, and a range missing is
computed from the running totals.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    union_all,
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

# Built once: a poll runs these for its park, and building a statement costs a good part
# of running it.
_HELD = select(_p.first_date, _p.last_date).where(_p.park_id == _park)
_FORGET = tuple(
    delete(t).where(t.c.park_id == _park, t.c.last_date >= bindparam("day", type_=Date))
    for t in (park_period_totals, ride_period_totals)
)
_DROP = tuple(
    delete(t).where(t.c.park_id == _park, t.c.first_date == _first, t.c.last_date == _last)
    for t in (park_period_totals, ride_period_totals)
)


def _last_day(before: ColumnElement[bool]) -> Any:
    """The park's last day with statistics `before` a bound: one backward step in the
    (park, day) key, as `running_totals.bounds` takes it."""
    return (
        select(_d.stat_date)
        .where(_d.park_id == _park, before)
        .order_by(_d.stat_date.desc())
        .limit(1)
        .scalar_subquery()
    )


def _ride_span(i: int, extended: bool) -> Select[Any]:
    """Per ride tracked in span `i`: running totals on the span's last day with
    statistics minus those on the park's day before the span (none: zero), as
    `running_totals` computes them, with the span's maxima.

    Maxima are no difference of running totals. An `extended` span takes them from the
    range held without its last day (`before_{i}`, the day before `last_{i}`) and from
    the end row: a poll's ranges end on its day, and this reads a row per ride where
    the whole range reads up to 30. A single day is extended from nothing (no range ends
    before it begins). When the end row is not on `last_{i}`, it lies in the held range
    already, whose maxima then stand."""
    first, last = bindparam(f"first_{i}", type_=Date), bindparam(f"last_{i}", type_=Date)
    end, start = ride_daily_stats.alias(f"e{i}"), ride_daily_stats.alias(f"s{i}")
    joined = end.outerjoin(
        start,
        and_(
            start.c.park_id == end.c.park_id,
            start.c.ride_id == end.c.ride_id,
            start.c.stat_date == _last_day(_d.stat_date < first),
        ),
    )
    if extended:
        held = ride_period_totals.alias(f"h{i}")
        joined = joined.outerjoin(
            held,
            and_(
                held.c.park_id == end.c.park_id,
                held.c.first_date == first,
                held.c.last_date == bindparam(f"before_{i}", type_=Date),
                held.c.ride_id == end.c.ride_id,
            ),
        )
        longest_before = func.coalesce(held.c.longest_downtime_minutes, 0.0)
        peak: Any = case(
            (
                and_(
                    end.c.tracked,
                    or_(held.c.peak_wait.is_(None), end.c.peak_wait > held.c.peak_wait),
                ),
                end.c.peak_wait,
            ),
            else_=held.c.peak_wait,
        )
        longest: Any = case(
            (
                and_(end.c.tracked, end.c.longest_downtime_minutes > longest_before),
                end.c.longest_downtime_minutes,
            ),
            else_=longest_before,
        )
    else:
        maxima = (
            select(
                _s.ride_id,
                func.max(_s.peak_wait).label("peak"),
                func.max(_s.longest_downtime_minutes).label("longest"),
            )
            .where(_s.park_id == _park, _s.stat_date.between(first, last), _s.tracked)
            .group_by(_s.ride_id)
            .subquery(f"mx{i}")
        )
        joined = joined.outerjoin(maxima, maxima.c.ride_id == end.c.ride_id)
        peak, longest = maxima.c.peak, func.coalesce(maxima.c.longest, 0.0)
    sums = [
        (end.c[f"cum_{name}"] - func.coalesce(start.c[f"cum_{name}"], 0)).label(name)
        for name in SUMS
    ]
    return (
        select(end.c.park_id, first, last, end.c.ride_id, *sums, peak, longest)
        .select_from(joined)
        .where(
            end.c.park_id == _park,
            end.c.stat_date == _last_day(_d.stat_date <= last),
            end.c.stat_date >= first,
            end.c.cum_tracked_days > func.coalesce(start.c.cum_tracked_days, 0),
        )
    )


def _park_span(i: int) -> Select[Any]:
    """Span `i`'s park row: its days summed as `running_totals.park_sums` sums them, and
    its rides as just held."""
    first, last = bindparam(f"first_{i}", type_=Date), bindparam(f"last_{i}", type_=Date)
    held = select(func.count()).where(
        _r.park_id == _park, _r.first_date == first, _r.last_date == last
    )
    return select(
        _park,
        first,
        last,
        *(func.coalesce(total, 0) for total in running_totals.PARK_DAY_SUMS[:-1]),
        running_totals.PARK_DAY_SUMS[-1],
        held.scalar_subquery(),
        held.where(_r.downtime_minutes > EPSILON).scalar_subquery(),
    ).where(_d.park_id == _park, _d.stat_date.between(first, last))


@lru_cache(maxsize=32)
def _ride_spans(extended: tuple[bool, ...]) -> Any:
    """All spans of a park in one statement: a poll writes three of them (today, the
    last 7 and 30 days), and each statement is a round trip."""
    parts = [_ride_span(i, whether) for i, whether in enumerate(extended)]
    names = ["park_id", "first_date", "last_date", "ride_id", *SUMS, "peak_wait"]
    return _insert_all(ride_period_totals, [*names, "longest_downtime_minutes"], parts)


@lru_cache(maxsize=32)
def _park_spans(count: int) -> Any:
    """The park rows of the spans, after their ride rows, which they count."""
    parts = [_park_span(i) for i in range(count)]
    names = ["park_id", "first_date", "last_date", *PARK_SUMS, "rides_tracked"]
    return _insert_all(park_period_totals, [*names, "rides_with_downtime"], parts)


def _insert_all(table: Table, names: list[str], parts: list[Select[Any]]) -> Any:
    return insert(table).from_select(names, union_all(*parts) if len(parts) > 1 else parts[0])


def forget_day(conn: Connection, park_id: int, day: date) -> None:
    """Drop the park's ranges that hold `day`, whose statistics are being rewritten, and
    those after it: their sums are differences of running totals that the rewrite
    carries forward, equal in exact arithmetic but not always to the last bit."""
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
        _compute(conn, park_id, missing, held & set(ranges))
    return len(missing)


def _compute(
    conn: Connection, park_id: int, spans: Sequence[DateRange], held: Collection[DateRange]
) -> None:
    """The spans' rows, computed in the database from the park's days around them; a
    span is extended from the range `held` without its last day, if there is one."""
    params: dict[str, Any] = {"park": park_id}
    extended = []
    for i, (first, last) in enumerate(spans):
        before = last - timedelta(days=1)
        params.update({f"first_{i}": first, f"last_{i}": last, f"before_{i}": before})
        extended.append(first == last or (first, before) in held)
    conn.execute(_ride_spans(tuple(extended)), params)
    conn.execute(_park_spans(len(spans)), params)


@lru_cache(maxsize=64)
def in_held(table: Table, count: int, by_ride: bool = False) -> ColumnElement[bool]:
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
        in_held(park_period_totals, len(running_totals.by_range(ranges)))
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
    ).where(in_held(park_period_totals, len(running_totals.by_range(ranges))))
    return {
        row[0]: (running_totals.totals(row[1:8]), int(row[8]), int(row[9]))
        for row in conn.execute(query, params)
    }
