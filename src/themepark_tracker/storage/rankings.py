"""Park and ride rankings over a period, from the daily statistics.

Dates are each park's own: "today" in Los Angeles can be another date than in Orlando,
so parks are grouped by their date range and each group gets its own condition. SQL only
adds minutes up (sums are additive over days); every figure is then derived from those
sums by `engine.scores`, the one implementation of docs/methodology.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    Select,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from themepark_tracker.catalogue import is_disney_or_universal
from themepark_tracker.engine.periods import previous_period
from themepark_tracker.engine.scores import Totals, trend_pct, uptime_change
from themepark_tracker.engine.states import StateRules, is_counted
from themepark_tracker.storage import period_totals, running_totals
from themepark_tracker.storage.queries import DEFAULT_RULES
from themepark_tracker.storage.running_totals import DateRange
from themepark_tracker.storage.tables import (
    SUMS,
    parks,
    polls,
    ride_daily_stats,
    ride_period_totals,
    ride_snapshots,
    rides,
)


class _Compared:
    """A period's totals next to the period before's."""

    totals: Totals
    previous: Totals

    @property
    def trend_pct(self) -> float | None:
        return trend_pct(self.totals.downtime_minutes, self.previous.downtime_minutes)

    @property
    def uptime_change(self) -> float | None:
        return uptime_change(self.totals.uptime_pct, self.previous.uptime_pct)


@dataclass(frozen=True)
class ParkRanking(_Compared):
    park_id: int
    name: str
    operator: str
    country: str
    timezone: str
    first: date
    last: date
    totals: Totals
    previous: Totals
    rides_tracked: int
    rides_with_downtime: int


@dataclass(frozen=True)
class RideRanking(_Compared):
    ride_id: int
    name: str
    park_id: int
    park_name: str
    tier: int | None
    first: date
    last: date
    totals: Totals
    previous: Totals
    downtime_events: int
    longest_downtime_minutes: float


def park_rankings(
    conn: Connection,
    dates_of: Callable[[str], DateRange],
    *,
    disney_universal_only: bool = False,
    park_id: int | None = None,
    sort: str = "shame",
    descending: bool = True,
) -> list[ParkRanking]:
    """Every active park with its figures for the period `dates_of(timezone)` gives it.

    Sorted by `sort` (`PARK_SORTS`), worst first by default; parks without the figure
    (no statistics, no trend) come last either way, then parks sort by name.
    """
    if sort not in PARK_SORTS:
        raise ValueError(f"unknown sort {sort!r}; known: {', '.join(PARK_SORTS)}")
    query = select(parks.c.id, parks.c.name, parks.c.operator, parks.c.country, parks.c.timezone)
    # A park asked for by id is ranked even when no longer tracked: its history stays.
    query = query.where(parks.c.is_active if park_id is None else parks.c.id == park_id)
    catalogue = [
        row
        for row in conn.execute(query)
        if not disney_universal_only or is_disney_or_universal(row.operator)
    ]
    ranges = {row.id: dates_of(row.timezone) for row in catalogue}
    current = _park_figures(conn, ranges)
    previous = _park_figures(
        conn, {pid: previous_period(*span) for pid, span in ranges.items()}, counts=False
    )
    result = [
        ParkRanking(
            row.id,
            row.name,
            row.operator,
            row.country,
            row.timezone,
            *ranges[row.id],
            current[row.id][0],
            previous[row.id][0],
            *current[row.id][1:],
        )
        for row in catalogue
    ]
    return _sorted(result, PARK_SORTS[sort], descending)


def _park_figures(
    conn: Connection, ranges: Mapping[int, DateRange], *, counts: bool = True
) -> dict[int, tuple[Totals, int, int]]:
    """Per park: totals, rides tracked and rides with downtime (zero unless `counts`)
    over its range; held ranges are read, the others computed from running totals."""
    found = period_totals.park_totals(conn, ranges)
    missing = {pid: span for pid, span in ranges.items() if pid not in found}
    if missing:
        sums = running_totals.park_sums(conn, missing)
        rides = running_totals.ride_counts(conn, missing) if counts else {}
        for pid in missing:
            found[pid] = (sums.get(pid, Totals()), *rides.get(pid, (0, 0)))
    return found


def _sorted(
    ranked: list[ParkRanking], figure: Callable[[ParkRanking], Any], descending: bool
) -> list[ParkRanking]:
    known = sorted((r for r in ranked if figure(r) is not None), key=lambda r: r.name)
    known.sort(key=figure, reverse=descending)
    return known + sorted((r for r in ranked if figure(r) is None), key=lambda r: r.name)


#: What parks can be sorted by: the figure of a ranked park each key reads.
PARK_SORTS: dict[str, Callable[[ParkRanking], Any]] = {
    "shame": lambda r: r.totals.shame_score,
    "downtime": lambda r: r.totals.downtime_minutes if r.totals.uptime_pct is not None else None,
    "weighted_downtime": lambda r: (
        r.totals.weighted_downtime_minutes if r.totals.uptime_pct is not None else None
    ),
    "uptime": lambda r: r.totals.uptime_pct,
    "rides_with_downtime": lambda r: r.rides_with_downtime if r.rides_tracked else None,
    "trend": lambda r: r.trend_pct,
    "avg_wait": lambda r: r.totals.avg_wait,
    "peak_wait": lambda r: r.totals.peak_wait,
    "name": lambda r: r.name,
}


RIDE_SORTS = (
    "downtime",
    "weighted_downtime",
    "uptime",
    "events",
    "avg_wait",
    "peak_wait",
    "name",
)


def _ride_order(period: FromClause, sort: str) -> ColumnElement[Any]:
    """The figure to sort by, from sums rounded as `running_totals.totals` rounds what is
    shown: differences of running totals a few ulps apart are ties, which the ride id
    breaks."""
    c = period.c
    if sort == "downtime":
        return func.round(c.downtime_minutes, 6)
    if sort == "weighted_downtime":
        return func.round(c.weighted_downtime_minutes, 6)
    if sort == "uptime":
        up, down = func.round(c.uptime_minutes, 6), func.round(c.downtime_minutes, 6)
        return case((up + down > 0, up / (up + down)), else_=None)
    if sort == "events":
        return c.downtime_events
    if sort == "avg_wait":
        return case((c.wait_samples > 0, func.round(c.wait_sum, 6) / c.wait_samples), else_=None)
    if sort == "peak_wait":
        return c.peak_wait
    if sort == "name":
        return _by_code_point(rides.c.name)
    raise ValueError(f"unknown sort {sort!r}; known: {', '.join(RIDE_SORTS)}")


class _by_code_point(FunctionElement[str]):  # noqa: N801 - reads as a function in SQL
    """Text ordered by code point on every dialect, as Python orders park names: SQLite
    compares UTF-8 bytes already, MySQL needs the binary collation."""

    inherit_cache = True


@compiles(_by_code_point)
def _code_point_default(element: _by_code_point, compiler: Any, **kw: Any) -> str:
    (text,) = element.clauses
    return str(compiler.process(text, **kw))


@compiles(_by_code_point, "mysql")
def _code_point_mysql(element: _by_code_point, compiler: Any, **kw: Any) -> str:
    (text,) = element.clauses
    return f"{compiler.process(text, **kw)} COLLATE utf8mb4_bin"


def _ride_totals(row: Any, peak: int | None) -> Totals:
    return running_totals.totals(
        (
            row.uptime_minutes,
            row.downtime_minutes,
            row.weighted_downtime_minutes,
            row.weighted_total_minutes,
            row.wait_sum,
            row.wait_samples,
            peak,
        )
    )


@lru_cache(maxsize=256)
def _ranked_statement(
    shape: tuple[bool, ...], by_ride: bool, sort: str | None, descending: bool, limited: bool
) -> Select[Any]:
    """Rides of the period sorted by `sort` (as chosen when `sort` is None) with their
    names; `_maxima` adds what running totals cannot give."""
    period = running_totals.period_statement(shape, by_ride)
    chosen: Any = period
    if sort is not None:
        inner = _ride_order(period, sort)
        top = select(period)
        if sort == "name":
            top = top.join_from(period, rides, rides.c.id == period.c.ride_id)
        top = top.order_by(
            inner.is_(None), inner.desc() if descending else inner.asc(), period.c.ride_id
        )
        if limited:
            top = top.limit(bindparam("limit", type_=Integer))
        chosen = top.subquery("top")
    query = select(chosen, rides.c.name, rides.c.tier).join_from(
        chosen, rides, rides.c.id == chosen.c.ride_id
    )
    if sort is None:
        return query
    order = _ride_order(chosen, sort)
    return query.order_by(
        order.is_(None), order.desc() if descending else order.asc(), chosen.c.ride_id
    )


#: Per ride: its highest posted wait and longest closure over its range.
Maxima = dict[int, tuple[int | None, float | None]]


#: Above this many rides, `_maxima` reads their parks' days instead: MariaDB turns an
#: `IN` list of a thousand values or more into a join that scans the whole table.
MAXIMA_BY_RIDE = 500


def _maxima(conn: Connection, ranges: Mapping[int, DateRange], rows: Sequence[Any]) -> Maxima:
    """Per ride of `rows`: its highest posted wait and longest closure over the tracked
    days of its park's range, which no difference of running totals gives.

    One statement, with the dates written in: a range of the (ride, day) index per ride
    returned, or of the (park, day) key per park when the rides are many. Correlated
    with the ranked rows instead, MariaDB read every day of each ride's index.
    """
    if not rows:
        return {}
    m = ride_daily_stats.c
    if len(rows) <= MAXIMA_BY_RIDE:
        which = running_totals.in_ranges(
            m.ride_id, m.stat_date, {row.ride_id: ranges[row.park_id] for row in rows}
        )
    else:
        parks_of = {row.park_id for row in rows}
        which = running_totals.in_ranges(m.park_id, m.stat_date, {p: ranges[p] for p in parks_of})
    query = (
        select(m.ride_id, func.max(m.peak_wait), func.max(m.longest_downtime_minutes))
        .where(which, m.tracked)
        .group_by(m.ride_id)
    )
    return {ride_id: (peak, longest) for ride_id, peak, longest in conn.execute(query)}


def _by_peak_wait(
    conn: Connection, ranges: Mapping[int, DateRange], descending: bool, limit: int | None
) -> list[tuple[int, int, tuple[int | None, float | None]]]:
    """(park, ride, maxima) by the ride's highest posted wait in the period; a ride that
    never posted a wait has no peak and is not listed. A maximum is no difference of
    running totals: this reads every ride day of the period, and takes both maxima."""
    s = ride_daily_stats.c
    peak = func.max(s.peak_wait)
    query = (
        select(s.park_id, s.ride_id, peak, func.max(s.longest_downtime_minutes))
        .where(running_totals.in_ranges(s.park_id, s.stat_date, ranges), s.tracked)
        .group_by(s.park_id, s.ride_id)
        .having(peak.is_not(None))
        .order_by(peak.desc() if descending else peak.asc(), s.ride_id)
        .limit(limit)
    )
    return [(park, ride, (most, longest)) for park, ride, most, longest in conn.execute(query)]


def _ranked_rows(
    conn: Connection,
    ranges: Mapping[int, DateRange],
    rides_of: Mapping[int, Sequence[int]] | None,
    sort: str | None,
    descending: bool,
    limit: int | None,
) -> list[Any]:
    """The rides' sums, maxima, names and tiers over each park's range (only `rides_of`
    when given), sorted and limited: read from the held ranges when they give every ride,
    else computed from the running totals (`_source`)."""
    source = _source(conn, ranges)
    if source.held is not None:
        return _held_rows(conn, source.held, rides_of, sort, descending, limit)
    if sort == "peak_wait":
        order = _by_peak_wait(conn, ranges, descending, limit)
        chosen: dict[int, list[int]] = {}
        for park, ride, _ in order:
            chosen.setdefault(park, []).append(ride)
        maxima = {ride: found for _, ride, found in order}
        found = _computed_rows(conn, ranges, source.groups, chosen, None, descending, None, maxima)
        position = {ride: i for i, (_, ride, _) in enumerate(order)}
        return sorted(found, key=lambda row: position[row.ride_id])
    return _computed_rows(conn, ranges, source.groups, rides_of, sort, descending, limit)


def _held_rows(
    conn: Connection,
    ranges: Mapping[int, DateRange],
    rides_of: Mapping[int, Sequence[int]] | None,
    sort: str | None,
    descending: bool,
    limit: int | None,
) -> list[Any]:
    groups = len(running_totals.by_range(ranges))
    statement = _held_statement(groups, rides_of is not None, sort, descending, limit is not None)
    params = period_totals.range_params(ranges, rides_of)
    return list(conn.execute(statement, {**params, "limit": limit}))


@dataclass(frozen=True)
class _Source:
    """Where a period's ride sums come from: the held ranges of the `held` parks, or,
    when they do not give every ride (`held` is None), the running totals of `groups`."""

    held: Mapping[int, DateRange] | None
    groups: running_totals.Groups


def _source(conn: Connection, ranges: Mapping[int, DateRange]) -> _Source:
    """Held ranges give every ride when the parks without one have no statistics in their
    range (a park not polled since its day began, or never)."""
    held = period_totals.held_parks(conn, ranges)
    missing = {pid: span for pid, span in ranges.items() if pid not in held}
    found = running_totals.bounds(conn, missing) if missing else {}
    if not found:
        return _Source({pid: ranges[pid] for pid in held}, {})
    if held:
        found.update(running_totals.bounds(conn, {pid: ranges[pid] for pid in held}))
    return _Source(None, running_totals.group_bounds(found))


@lru_cache(maxsize=256)
def _held_statement(
    groups: int, by_ride: bool, sort: str | None, descending: bool, limited: bool
) -> Select[Any]:
    t = ride_period_totals
    query = (
        select(
            t.c.park_id,
            t.c.ride_id,
            *(t.c[name] for name in SUMS),
            t.c.peak_wait,
            t.c.longest_downtime_minutes.label("longest"),
            rides.c.name,
            rides.c.tier,
        )
        .join_from(t, rides, rides.c.id == t.c.ride_id)
        .where(period_totals.in_held(t, groups, by_ride))
    )
    if sort == "peak_wait":
        query = query.where(t.c.peak_wait.is_not(None))
    if sort is not None:
        order = _ride_order(t, sort)
        query = query.order_by(
            order.is_(None), order.desc() if descending else order.asc(), t.c.ride_id
        )
    if limited:
        query = query.limit(bindparam("limit", type_=Integer))
    return query


def _computed_rows(
    conn: Connection,
    ranges: Mapping[int, DateRange],
    groups: running_totals.Groups,
    rides_of: Mapping[int, Sequence[int]] | None,
    sort: str | None,
    descending: bool,
    limit: int | None,
    maxima: Maxima | None = None,
) -> list[Any]:
    """Ranked rows with their `maxima`, read for them when not given."""
    found = running_totals.period(groups, rides_of)
    if found is None:
        return []
    _, params = found
    shape = tuple(before is not None for _, before in groups)
    statement = _ranked_statement(shape, rides_of is not None, sort, descending, limit is not None)
    ranked = conn.execute(statement, {**params, "limit": limit}).all()
    if maxima is None:
        maxima = _maxima(conn, ranges, ranked)
    return [_with_maxima(row, *maxima.get(row.ride_id, (None, None))) for row in ranked]


def _with_maxima(row: Any, peak: int | None, longest: float | None) -> SimpleNamespace:
    return SimpleNamespace(**row._asdict(), peak_wait=peak, longest=longest)


def ride_rankings(
    conn: Connection,
    dates_of: Callable[[str], DateRange],
    *,
    disney_universal_only: bool = False,
    park_id: int | None = None,
    ride_id: int | None = None,
    sort: str = "downtime",
    descending: bool = True,
    limit: int | None = None,
) -> list[RideRanking]:
    """Rides tracked in the period (eligible on at least one day), by `sort` (worst first).

    Sorting and the limit happen in SQL, over one row per ride where the park's range is
    held (`period_totals`), else over the running totals; either way the cost depends on
    the number of rides, not on the length of the period. The period before is then read
    for the rides returned only.
    """
    if sort not in RIDE_SORTS:
        raise ValueError(f"unknown sort {sort!r}; known: {', '.join(RIDE_SORTS)}")
    query = select(parks.c.id, parks.c.name, parks.c.operator, parks.c.timezone).where(
        parks.c.is_active if park_id is None else parks.c.id == park_id
    )
    catalogue = {
        row.id: row
        for row in conn.execute(query)
        if not disney_universal_only or is_disney_or_universal(row.operator)
    }
    ranges = {pid: dates_of(row.timezone) for pid, row in catalogue.items()}
    if ride_id is not None:
        owner: int | None = conn.execute(
            select(rides.c.park_id).where(rides.c.id == ride_id)
        ).scalar()
        only = {owner: [ride_id]} if owner is not None and owner in ranges else {}
        rows = _ranked_rows(conn, {p: ranges[p] for p in only}, only, None, descending, None)
    else:
        rows = _ranked_rows(conn, ranges, None, sort, descending, limit)
    rides_of: dict[int, list[int]] = {}
    for row in rows:
        rides_of.setdefault(row.park_id, []).append(row.ride_id)
    previous = _previous_totals(
        conn, {pid: previous_period(*ranges[pid]) for pid in rides_of}, rides_of
    )
    return [
        RideRanking(
            row.ride_id,
            row.name,
            row.park_id,
            catalogue[row.park_id].name,
            row.tier,
            *ranges[row.park_id],
            _ride_totals(row, None if row.peak_wait is None else int(row.peak_wait)),
            previous.get(row.ride_id, Totals()),
            int(row.downtime_events),
            float(row.longest or 0),
        )
        for row in rows
    ]


def _previous_totals(
    conn: Connection, ranges: Mapping[int, DateRange], rides_of: Mapping[int, Sequence[int]]
) -> dict[int, Totals]:
    source = _source(conn, ranges)
    if source.held is not None:
        rows: Any = _held_rows(conn, source.held, rides_of, None, True, None)
    else:
        found = running_totals.period(source.groups, rides_of)
        if found is None:
            return {}
        period, params = found
        rows = conn.execute(select(period), params)
    return {row.ride_id: _ride_totals(row, None) for row in rows}


TREND_THRESHOLD = 5.0


def trend_lists(ranked: Sequence[_Compared]) -> tuple[list[Any], list[Any]]:
    """(improving, declining): uptime up or down by at least 5 points on the period before,
    largest change first."""
    improving = [r for r in ranked if (r.uptime_change or 0) >= TREND_THRESHOLD]
    declining = [r for r in ranked if (r.uptime_change or 0) <= -TREND_THRESHOLD]
    improving.sort(key=lambda r: -(r.uptime_change or 0))
    declining.sort(key=lambda r: r.uptime_change or 0)
    return improving, declining


@dataclass(frozen=True)
class LiveWait:
    ride_id: int
    name: str
    park_id: int
    park_name: str
    wait: int
    at: datetime


def live_waits(
    conn: Connection,
    now: datetime,
    max_age: timedelta,
    *,
    park_ids: Sequence[int] | None = None,
    rules: StateRules = DEFAULT_RULES,
) -> list[LiveWait]:
    """Posted waits of running rides (not shows, not queue variants) in each park's latest
    fresh poll, longest first."""
    query = (
        select(
            rides.c.id,
            rides.c.name,
            parks.c.id,
            parks.c.name,
            ride_snapshots.c.wait_time,
            polls.c.polled_at,
            rides.c.category,
        )
        .select_from(
            parks.join(
                polls, (polls.c.park_id == parks.c.id) & (polls.c.polled_at == parks.c.live_at)
            )
            .join(ride_snapshots, ride_snapshots.c.poll_id == polls.c.id)
            .join(rides, rides.c.id == ride_snapshots.c.ride_id)
        )
        .where(
            parks.c.is_active,
            parks.c.live_at >= now - max_age,
            ride_snapshots.c.state == "open",
            ride_snapshots.c.wait_time > 0,
        )
        .order_by(ride_snapshots.c.wait_time.desc(), rides.c.name)
    )
    if park_ids is not None:
        query = query.where(parks.c.id.in_(park_ids))
    return [LiveWait(*row[:6]) for row in conn.execute(query) if is_counted(row[1], row[6], rules)]


def downtime_and_days(
    conn: Connection, ranges: Mapping[int, DateRange], rides_of: Mapping[int, Sequence[int]]
) -> dict[int, tuple[float, int]]:
    """Per ride of `rides_of`: its downtime minutes and the days it ran (was tracked) over
    each park's range."""
    found = running_totals.period(
        running_totals.groups(conn, {p: ranges[p] for p in rides_of if p in ranges}), rides_of
    )
    if found is None:
        return {}
    period, params = found
    query = select(period.c.ride_id, period.c.downtime_minutes, period.c.tracked_days)
    return {
        ride_id: (running_totals.minutes(down), int(days))
        for ride_id, down, days in conn.execute(query, params)
    }
