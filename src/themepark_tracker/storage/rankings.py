"""Park and ride rankings over a period, from the daily statistics.

Dates are each park's own: "today" in Los Angeles can be another date than in Orlando,
so parks are grouped by their date range and each group gets its own condition. SQL only
adds minutes up (sums are additive over days); every figure is then derived from those
sums by `engine.scores`, the one implementation of METRICS.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Integer,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    column,
    false,
    func,
    literal,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from themepark_tracker.catalogue import is_disney_or_universal
from themepark_tracker.engine.periods import previous_period
from themepark_tracker.engine.scores import Totals, trend_pct, uptime_change
from themepark_tracker.engine.states import StateRules, is_counted
from themepark_tracker.storage.park_days import SUMS
from themepark_tracker.storage.queries import DEFAULT_RULES
from themepark_tracker.storage.tables import (
    park_daily_stats,
    parks,
    polls,
    ride_daily_stats,
    ride_snapshots,
    rides,
)

DateRange = tuple[date, date]


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


def _by_range(ranges: Mapping[int, DateRange]) -> dict[DateRange, list[int]]:
    groups: dict[DateRange, list[int]] = {}
    for key, span in ranges.items():
        groups.setdefault(span, []).append(key)
    return groups


def _in_ranges(
    key_column: Any, date_column: Any, ranges: Mapping[int, DateRange]
) -> ColumnElement[bool]:
    """Rows whose key (a park, or a ride) is in `ranges` and whose date is in its range."""
    return or_(
        false(),
        *(
            and_(key_column.in_(ids), date_column.between(first, last))
            for (first, last), ids in _by_range(ranges).items()
        ),
    )


def _park_sums(conn: Connection, ranges: Mapping[int, DateRange]) -> dict[int, Totals]:
    if not ranges:
        return {}
    s = park_daily_stats.c
    query = (
        select(
            s.park_id,
            func.sum(s.uptime_minutes),
            func.sum(s.downtime_minutes),
            func.sum(s.weighted_downtime_minutes),
            func.sum(s.weighted_total_minutes),
            func.sum(func.coalesce(s.avg_wait, 0) * s.wait_samples),
            func.sum(s.wait_samples),
            func.max(s.peak_wait),
        )
        .where(_in_ranges(s.park_id, s.stat_date, ranges))
        .group_by(s.park_id)
    )
    return {row[0]: _totals(row[1:]) for row in conn.execute(query)}


def _totals(values: Sequence[Any]) -> Totals:
    up, down, weighted_down, weighted_total, wait_sum, samples, peak = values
    return Totals(
        _minutes(up),
        _minutes(down),
        _minutes(weighted_down),
        _minutes(weighted_total),
        float(wait_sum or 0),
        int(samples or 0),
        None if peak is None else int(peak),
    )


def _minutes(value: Any) -> float:
    """Sums taken as differences of running totals carry float noise; minutes are exact
    to far below a second."""
    return round(float(value or 0), 6)


def _bounds(
    conn: Connection, ranges: Mapping[int, DateRange]
) -> dict[int, tuple[date, date | None]]:
    """Per park: its last day with statistics in its range, and its last day before it.

    Each is one backward step in the (park, day) key: `ORDER BY ... LIMIT 1` is what
    both SQLite and MariaDB turn into a seek, where MAX() with a range reads the range.
    """
    s = park_daily_stats.c
    parts = []
    for (first, last), ids in _by_range(ranges).items():
        inside = (
            select(s.stat_date)
            .where(s.park_id == parks.c.id, s.stat_date <= last)
            .order_by(s.stat_date.desc())
            .limit(1)
        )
        before = (
            select(s.stat_date)
            .where(s.park_id == parks.c.id, s.stat_date < first)
            .order_by(s.stat_date.desc())
            .limit(1)
        )
        parts.append(
            select(
                parks.c.id,
                inside.scalar_subquery().label("last"),
                before.scalar_subquery().label("before"),
            ).where(parks.c.id.in_(ids))
        )
    if not parts:
        return {}
    return {
        park_id: (last, before)
        for park_id, last, before in conn.execute(union_all(*parts))
        if last is not None and last >= ranges[park_id][0]
    }


#: The columns of `ride_daily_stats` a period reads, as a light construct: aliasing the
#: full table twice per query costs more Python time than SQLite spends on the rows.
_RUNNING = table(
    ride_daily_stats.name,
    column("park_id"),
    column("stat_date", Date),
    column("ride_id"),
    *(column(f"cum_{name}") for name in SUMS),
)


#: A period's groups of parks: each park's last day with statistics in its range, and its
#: last day before the range (None when it has none).
Groups = dict[tuple[date, date | None], list[int]]


def _groups(conn: Connection, ranges: Mapping[int, DateRange]) -> Groups:
    groups: Groups = {}
    for park_id, bounds in _bounds(conn, ranges).items():
        groups.setdefault(bounds, []).append(park_id)
    return groups


@lru_cache(maxsize=256)
def _period_statement(shape: tuple[bool, ...], by_ride: bool) -> Subquery:
    """The period's sums for `shape` (per group: has it a day before the range?), built
    once: SQLAlchemy then reuses its compiled form, and a ranking costs what the database
    does rather than what building the statement does.

    Per ride tracked in the period (eligible on at least one day): the running totals on
    the group's last day minus those on its day before. The tracked test sits inside the
    join: filtered outside it, SQLite looks the day before up through the (ride, day)
    index and reads every row twice. Dates are written into the statement for the same
    reason (`literal_execute`).
    """
    parts = []
    for index, has_before in enumerate(shape):
        end, start = _RUNNING.alias("e"), _RUNNING.alias("s")
        last = bindparam(f"last_{index}", type_=Date, literal_execute=True)
        before = bindparam(f"before_{index}", type_=Date, literal_execute=True)
        columns = [
            (
                end.c[f"cum_{name}"] - func.coalesce(start.c[f"cum_{name}"], 0)
                if has_before
                else end.c[f"cum_{name}"]
            ).label(name)
            for name in SUMS
        ]
        part = select(
            end.c.park_id,
            end.c.ride_id,
            *columns,
            last.label("last_day"),
            (before if has_before else literal(date.min, Date)).label("day_before"),
        ).where(
            end.c.stat_date == last,
            end.c.park_id.in_(bindparam(f"parks_{index}", expanding=True)),
            end.c.cum_tracked_days
            > (func.coalesce(start.c.cum_tracked_days, 0) if has_before else 0),
        )
        if by_ride:
            part = part.where(end.c.ride_id.in_(bindparam(f"rides_{index}", expanding=True)))
        if has_before:
            part = part.select_from(
                end.outerjoin(
                    start,
                    and_(
                        start.c.park_id == end.c.park_id,
                        start.c.ride_id == end.c.ride_id,
                        start.c.stat_date == before,
                    ),
                )
            )
        parts.append(part)
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("period")


def _period(
    groups: Groups, rides_of: Mapping[int, Sequence[int]] | None = None
) -> tuple[Subquery, dict[str, Any]] | None:
    """The period's statement for `groups` (only `rides_of` each park when given), and
    the values of its parameters."""
    if not groups:
        return None
    params: dict[str, Any] = {}
    for index, ((last, before), park_ids) in enumerate(groups.items()):
        params[f"last_{index}"] = last
        params[f"before_{index}"] = before
        params[f"parks_{index}"] = park_ids
        if rides_of is not None:
            params[f"rides_{index}"] = [r for p in park_ids for r in rides_of.get(p, ())]
    shape = tuple(before is not None for _, before in groups)
    return _period_statement(shape, rides_of is not None), params


def _ride_counts(conn: Connection, ranges: Mapping[int, DateRange]) -> dict[int, tuple[int, int]]:
    """Per park: rides tracked on at least one day of the range, and those with downtime."""
    found = _period(_groups(conn, ranges))
    if found is None:
        return {}
    period, params = found
    query = select(
        period.c.park_id,
        func.count(),
        func.sum(case((period.c.downtime_minutes > EPSILON, 1), else_=0)),
    ).group_by(period.c.park_id)
    return {row[0]: (int(row[1]), int(row[2])) for row in conn.execute(query, params)}


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
    previous_ranges = {pid: previous_period(*span) for pid, span in ranges.items()}
    current = _park_sums(conn, ranges)
    previous = _park_sums(conn, previous_ranges)
    counts = _ride_counts(conn, ranges)
    result = [
        ParkRanking(
            row.id,
            row.name,
            row.operator,
            row.country,
            row.timezone,
            *ranges[row.id],
            current.get(row.id, Totals()),
            previous.get(row.id, Totals()),
            *counts.get(row.id, (0, 0)),
        )
        for row in catalogue
    ]
    return _sorted(result, PARK_SORTS[sort], descending)


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


#: Below a microsecond of downtime, a difference of running totals is float noise.
EPSILON = 1e-6

RIDE_SORTS = (
    "downtime",
    "weighted_downtime",
    "uptime",
    "events",
    "avg_wait",
    "peak_wait",
    "name",
)


def _ride_order(period: Subquery, sort: str) -> ColumnElement[Any]:
    """The figure to sort by, rounded as `_minutes` rounds what is shown: differences of
    running totals a few ulps apart are ties, which the ride id then breaks."""
    if sort in ("downtime", "weighted_downtime"):
        return func.round(_ride_figure(period, sort), 6)
    return _ride_figure(period, sort)


def _ride_figure(period: Subquery, sort: str) -> ColumnElement[Any]:
    c = period.c
    if sort == "downtime":
        return c.downtime_minutes
    if sort == "weighted_downtime":
        return c.weighted_downtime_minutes
    if sort == "uptime":
        operating = c.uptime_minutes + c.downtime_minutes
        return case((operating > EPSILON, c.uptime_minutes / operating), else_=None)
    if sort == "events":
        return c.downtime_events
    if sort == "avg_wait":
        return case((c.wait_samples > 0, c.wait_sum / c.wait_samples), else_=None)
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
    return _totals(
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
    names and the maxima running totals cannot give, read through the (ride, day) index
    for the rides returned only."""
    period = _period_statement(shape, by_ride)
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
    m = ride_daily_stats.alias("m")
    # Correlated: inside a subquery the ride's dates are constants, so MariaDB reads a
    # range of the (ride, day) index rather than every day of the ride.
    in_period = (
        m.c.ride_id == chosen.c.ride_id,
        m.c.stat_date <= chosen.c.last_day,
        m.c.stat_date > chosen.c.day_before,
        m.c.tracked,
    )
    query = select(
        chosen,
        rides.c.name,
        rides.c.tier,
        select(func.max(m.c.peak_wait)).where(*in_period).scalar_subquery().label("peak_wait"),
        select(func.max(m.c.longest_downtime_minutes))
        .where(*in_period)
        .scalar_subquery()
        .label("longest"),
    ).join_from(chosen, rides, rides.c.id == chosen.c.ride_id)
    if sort is None:
        return query
    order = _ride_order(chosen, sort)
    return query.order_by(
        order.is_(None), order.desc() if descending else order.asc(), chosen.c.ride_id
    )


def _by_peak_wait(
    conn: Connection, ranges: Mapping[int, DateRange], descending: bool, limit: int | None
) -> list[tuple[int, int]]:
    """(park, ride) by the ride's highest posted wait in the period; a ride that never
    posted a wait has no peak and is not listed. A maximum is no difference of running
    totals: this reads every ride day of the period."""
    s = ride_daily_stats.c
    peak = func.max(s.peak_wait)
    query = (
        select(s.park_id, s.ride_id)
        .where(_in_ranges(s.park_id, s.stat_date, ranges), s.tracked)
        .group_by(s.park_id, s.ride_id)
        .having(peak.is_not(None))
        .order_by(peak.desc() if descending else peak.asc(), s.ride_id)
        .limit(limit)
    )
    return [(park_id, ride_id) for park_id, ride_id in conn.execute(query)]


def _ranked_rows(
    conn: Connection,
    ranges: Mapping[int, DateRange],
    rides_of: Mapping[int, Sequence[int]] | None,
    sort: str | None,
    descending: bool,
    limit: int | None,
) -> list[Any]:
    groups = _groups(conn, ranges)
    found = _period(groups, rides_of)
    if found is None:
        return []
    _, params = found
    shape = tuple(before is not None for _, before in groups)
    statement = _ranked_statement(shape, rides_of is not None, sort, descending, limit is not None)
    return list(conn.execute(statement, {**params, "limit": limit}))


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

    Sorting and the limit happen in SQL over the running totals, so the cost depends on
    the number of rides, not on the length of the period; the period before and the
    maxima are then read for the rides returned only.
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
    elif sort == "peak_wait":
        order = _by_peak_wait(conn, ranges, descending, limit)
        chosen: dict[int, list[int]] = {}
        for park, ride in order:
            chosen.setdefault(park, []).append(ride)
        found = _ranked_rows(conn, ranges, chosen, None, descending, None)
        position = {ride: i for i, (_, ride) in enumerate(order)}
        rows = sorted(found, key=lambda row: position[row.ride_id])
    else:
        rows = _ranked_rows(conn, ranges, None, sort, descending, limit)
    rides_of: dict[int, list[int]] = {}
    for row in rows:
        rides_of.setdefault(row.park_id, []).append(row.ride_id)
    previous_ranges = {pid: previous_period(*ranges[pid]) for pid in rides_of}
    found_before = _period(_groups(conn, previous_ranges), rides_of)
    previous = {}
    if found_before is not None:
        period, params = found_before
        previous = {
            row.ride_id: _ride_totals(row, None) for row in conn.execute(select(period), params)
        }
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
    found = _period(_groups(conn, {p: ranges[p] for p in rides_of if p in ranges}), rides_of)
    if found is None:
        return {}
    period, params = found
    query = select(period.c.ride_id, period.c.downtime_minutes, period.c.tracked_days)
    return {
        ride_id: (_minutes(down), int(days)) for ride_id, down, days in conn.execute(query, params)
    }
