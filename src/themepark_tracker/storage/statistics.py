"""The one way to read statistics: a period's sums per park (`park_sums`) and per ride
(`period_sums`), with everything a ranking shows, from the running totals.

A ride's sums over a period are its running totals on the last day with statistics of
the period minus those on its park's last day before it (`tables.RUNNING_TOTALS`); a
park's likewise from the park's own (`tables.PARK_RUNNING_TOTALS`). So any period costs
two rows per ride or park, whatever its length. Dates are each park's own (a `Scope`,
resolved once at the edge); parks whose bounds are the same share one condition.

SQL here only reads and subtracts sums and orders rides by a figure the engine declares
(`engine.rankings.RIDE_FIGURES`): what a figure means is the engine's, never this
module's. docs/statistics.md tells the whole path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    FromClause,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    column,
    false,
    func,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from themepark_tracker.catalogue import is_disney_or_universal
from themepark_tracker.engine.periods import previous_period
from themepark_tracker.engine.rankings import (
    PLACES,
    Figure,
    check_ride_sort,
    minutes,
    sort_parks,
)
from themepark_tracker.engine.scores import Totals
from themepark_tracker.storage.tables import (
    PARK_SUMS,
    SUMS,
    park_daily_stats,
    parks,
    ride_daily_stats,
    rides,
)

DateRange = tuple[date, date]

#: The days of the 7-day average: the 7 ending with the period's last day.
WEEK = 7


@dataclass(frozen=True)
class ScopedPark:
    park_id: int
    name: str
    operator: str
    country: str
    timezone: str
    first: date
    last: date
    open_now: bool | None
    live_at: datetime | None


@dataclass(frozen=True)
class Scope:
    """The parks a question covers, each with its own dates: the API and the CLI resolve
    it once (`scope`), and every read of the question takes it as it is."""

    parks: Mapping[int, ScopedPark]

    @property
    def ranges(self) -> dict[int, DateRange]:
        return {pid: (park.first, park.last) for pid, park in self.parks.items()}


def scope(
    conn: Connection,
    dates_of: Callable[[str], DateRange],
    *,
    disney_universal_only: bool = False,
    park_id: int | None = None,
) -> Scope:
    """Active parks (or the one `park_id`, tracked or not: its history stays), each with
    the period `dates_of(timezone)` gives it."""
    c = parks.c
    query = select(c.id, c.name, c.operator, c.country, c.timezone, c.open_now, c.live_at).where(
        c.is_active if park_id is None else c.id == park_id
    )
    found = {}
    for row in conn.execute(query):
        if disney_universal_only and not is_disney_or_universal(row.operator):
            continue
        first, last = dates_of(row.timezone)
        found[row.id] = ScopedPark(
            row.id, row.name, row.operator, row.country, row.timezone, first, last,
            row.open_now, row.live_at,
        )  # fmt: skip
    return Scope(found)


@dataclass(frozen=True)
class ParkSums:
    park: ScopedPark
    totals: Totals
    previous: Totals
    rides_tracked: int
    rides_with_downtime: int
    rides_down: int
    """Rides whose stored live status is down (docs/methodology.md's live status)."""

    @property
    def park_id(self) -> int:
        return self.park.park_id

    @property
    def name(self) -> str:
        return self.park.name


@dataclass(frozen=True)
class RideSums:
    ride_id: int
    name: str
    tier: int | None
    park: ScopedPark
    totals: Totals
    previous: Totals
    downtime_events: int
    longest_downtime_minutes: float
    week_downtime_minutes: float
    week_days: int
    """Days the ride ran in the 7 ending with the period's last day."""
    live_status: str | None
    """As stored at the park's latest poll (`park.live_at`)."""

    @property
    def park_id(self) -> int:
        return self.park.park_id


@dataclass(frozen=True)
class _Bounds:
    """A park's days that a period's sums read: its last day with statistics in the
    period (`end`, None when it has none there), and its last day before the period,
    before the period before it, and before the 7 days ending with the period's last
    day (None: it has none)."""

    end: date | None
    before: date | None
    previous_before: date | None
    week_before: date | None


def _bounds(conn: Connection, ranges: Mapping[int, DateRange]) -> dict[int, _Bounds]:
    """Each is one backward step in the (park, day) key: `ORDER BY ... LIMIT 1` is what
    both SQLite and MariaDB turn into a seek, where MAX() with a range reads the range."""
    s = park_daily_stats.c

    def last_day(before: ColumnElement[bool]) -> Any:
        return (
            select(s.stat_date)
            .where(s.park_id == parks.c.id, before)
            .order_by(s.stat_date.desc())
            .limit(1)
            .scalar_subquery()
        )

    parts = []
    for (first, last), ids in _by_range(ranges).items():
        previous_first, _ = previous_period(first, last)
        parts.append(
            select(
                parks.c.id,
                last_day(s.stat_date <= last),
                last_day(s.stat_date < first),
                last_day(s.stat_date < previous_first),
                last_day(s.stat_date <= last - timedelta(days=WEEK)),
            ).where(parks.c.id.in_(ids))
        )
    if not parts:
        return {}
    found = {}
    for park_id, end, before, previous_before, week_before in conn.execute(union_all(*parts)):
        first = ranges[park_id][0]
        found[park_id] = _Bounds(
            end if end is not None and end >= first else None,
            before,
            previous_before,
            week_before,
        )
    return found


def _by_range(ranges: Mapping[int, Any]) -> dict[Any, list[int]]:
    groups: dict[Any, list[int]] = {}
    for key, value in ranges.items():
        groups.setdefault(value, []).append(key)
    return groups


def _totals(values: Sequence[Any], peak: int | None = None) -> Totals:
    """Sums in `PARK_SUMS` order as the engine's totals."""
    up, down, weighted_down, weighted_total, wait_sum, samples = values[:6]
    return Totals(
        minutes(up),
        minutes(down),
        minutes(weighted_down),
        minutes(weighted_total),
        minutes(wait_sum),
        int(samples or 0),
        peak,
    )


def _difference(
    end: Sequence[Any] | None, start: Sequence[Any] | None, width: int = len(SUMS)
) -> list[Any]:
    """Running totals at the end of a range minus those before it (none: zero). The
    period before a period needs no bounds of its own: when the day before the period
    is also before the period before, both rows are that day and the sums are zero."""
    if end is None:
        return [0] * width
    if start is None:
        return list(end)
    return [a - b for a, b in zip(end, start, strict=True)]


def park_sums(
    conn: Connection, asked: Scope, *, sort: str = "shame", descending: bool = True
) -> list[ParkSums]:
    """Every park of the scope with its period's figures, sorted by `sort`
    (`engine.rankings.PARK_SORTS`); parks without the figure come last either way."""
    ranges = asked.ranges
    bounds = _bounds(conn, ranges)
    rows = _park_rows(conn, bounds)
    counts = _ride_counts(conn, bounds)
    peaks = _park_peaks(conn, {p: ranges[p] for p, b in bounds.items() if b.end is not None})
    down = _rides_down(conn, list(ranges))
    result = []
    for park_id, park in asked.parks.items():
        found = bounds.get(park_id, _Bounds(None, None, None, None))

        def at(day: date | None, park: int = park_id) -> Any:
            return None if day is None else rows.get((park, day))

        current = _difference(at(found.end), at(found.before), len(PARK_SUMS))
        earlier = _difference(at(found.before), at(found.previous_before), len(PARK_SUMS))
        result.append(
            ParkSums(
                park,
                _totals(current, peaks.get(park_id)),
                _totals(earlier),
                *counts.get(park_id, (0, 0)),
                down.get(park_id, 0),
            )
        )
    return sort_parks(result, sort, descending=descending)


def _park_rows(
    conn: Connection, bounds: Mapping[int, _Bounds]
) -> dict[tuple[int, date], list[Any]]:
    """The park's running totals on each day its bounds name."""
    keys = {
        (park_id, day)
        for park_id, found in bounds.items()
        for day in (found.end, found.before, found.previous_before)
        if day is not None
    }
    if not keys:
        return {}
    s = park_daily_stats.c
    query = select(s.park_id, s.stat_date, *(s[f"cum_{name}"] for name in PARK_SUMS)).where(
        _on_days(s.park_id, s.stat_date, keys)
    )
    return {(row[0], row[1]): list(row[2:]) for row in conn.execute(query)}


def _on_days(
    park_column: Any, date_column: Any, keys: Iterable[tuple[int, date]]
) -> ColumnElement[bool]:
    """Rows of these (park, day) keys, as one range of the key per day: a row-value `IN`
    list is a scan of the whole table to SQLite."""
    parks_on: dict[date, list[int]] = {}
    for park_id, day in keys:
        parks_on.setdefault(day, []).append(park_id)
    return or_(
        false(),
        *(
            and_(date_column == day, park_column.in_(sorted(ids)))
            for day, ids in sorted(parks_on.items())
        ),
    )


def _park_peaks(conn: Connection, ranges: Mapping[int, DateRange]) -> dict[int, int]:
    """Each park's highest posted wait over its range: a maximum, no running total."""
    if not ranges:
        return {}
    s = park_daily_stats.c
    query = (
        select(s.park_id, func.max(s.peak_wait))
        .where(_in_ranges(s.park_id, s.stat_date, ranges))
        .group_by(s.park_id)
    )
    return {park_id: int(peak) for park_id, peak in conn.execute(query) if peak is not None}


def _rides_down(conn: Connection, park_ids: Sequence[int]) -> dict[int, int]:
    """Active rides down now per park, as stored at its latest poll: only rides that
    count are ever stored down (`engine.live.live_status`)."""
    if not park_ids:
        return {}
    query = (
        select(rides.c.park_id, func.count())
        .where(rides.c.park_id.in_(park_ids), rides.c.is_active, rides.c.live_status == "down")
        .group_by(rides.c.park_id)
    )
    return {park_id: int(count) for park_id, count in conn.execute(query)}


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


#: The columns of `ride_daily_stats` a period reads, as a light construct: aliasing the
#: full table twice per query costs more Python time than SQLite spends on the rows.
RUNNING = table(
    ride_daily_stats.name,
    column("park_id"),
    column("stat_date", Date),
    column("ride_id"),
    *(column(f"cum_{name}") for name in SUMS),
)


def _groups(bounds: Mapping[int, _Bounds]) -> dict[tuple[date, date | None], list[int]]:
    """Parks with statistics in their period, by (end, before)."""
    return _by_range({p: (b.end, b.before) for p, b in bounds.items() if b.end is not None})


@lru_cache(maxsize=256)
def _period_statement(shape: tuple[bool, ...], by_ride: bool) -> FromClause:
    """Per ride tracked in the period (eligible on at least one day): its running totals
    on its group's last day minus those on the group's day before (`shape`: has each
    group one?). Built once per shape: SQLAlchemy then reuses its compiled form.

    The tracked test sits inside the join: filtered outside it, SQLite looks the day
    before up through the (ride, day) index and reads every row twice. Dates are written
    into the statement for the same reason (`literal_execute`)."""
    parts = []
    for index, has_before in enumerate(shape):
        end, start = RUNNING.alias("e"), RUNNING.alias("s")
        last = bindparam(f"last_{index}", type_=Date, literal_execute=True)
        columns = [
            (
                end.c[f"cum_{name}"] - func.coalesce(start.c[f"cum_{name}"], 0)
                if has_before
                else end.c[f"cum_{name}"]
            ).label(name)
            for name in SUMS
        ]
        part = select(end.c.park_id, end.c.ride_id, *columns).where(
            end.c.stat_date == last,
            end.c.park_id.in_(bindparam(f"parks_{index}", expanding=True)),
            end.c.cum_tracked_days
            > (func.coalesce(start.c.cum_tracked_days, 0) if has_before else 0),
        )
        if by_ride:
            part = part.where(end.c.ride_id.in_(bindparam(f"rides_{index}", expanding=True)))
        if has_before:
            before = bindparam(f"before_{index}", type_=Date, literal_execute=True)
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
    bounds: Mapping[int, _Bounds], rides_of: Mapping[int, Sequence[int]] | None = None
) -> tuple[FromClause, dict[str, Any]] | None:
    """The period's statement (only `rides_of` each park when given) and its parameters."""
    groups = _groups(bounds)
    if not groups:
        return None
    params: dict[str, Any] = {}
    for index, ((last, before), park_ids) in enumerate(groups.items()):
        params.update(
            {f"last_{index}": last, f"before_{index}": before, f"parks_{index}": park_ids}
        )
        if rides_of is not None:
            params[f"rides_{index}"] = [r for p in park_ids for r in rides_of.get(p, ())]
    shape = tuple(before is not None for _, before in groups)
    return _period_statement(shape, rides_of is not None), params


def _ride_counts(conn: Connection, bounds: Mapping[int, _Bounds]) -> dict[int, tuple[int, int]]:
    """Per park: rides tracked on a day of the period, and those with downtime in it."""
    found = _period(bounds)
    if found is None:
        return {}
    period, params = found
    down = func.round(period.c.downtime_minutes, PLACES)
    query = select(period.c.park_id, func.count(), func.sum(case((down > 0, 1), else_=0))).group_by(
        period.c.park_id
    )
    return {row[0]: (int(row[1]), int(row[2] or 0)) for row in conn.execute(query, params)}


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


def _in_sql(figure: Figure, period: FromClause) -> ColumnElement[Any]:
    """The engine's figure over the period's sums, as SQL computes it."""
    if figure.numerator == "name":
        return _by_code_point(rides.c.name)
    top = period.c[figure.numerator]
    if figure.column:
        return top
    if not figure.denominator:
        return func.round(top, PLACES)
    below: Any = sum((func.round(period.c[name], PLACES) for name in figure.denominator), start=0)
    return case((below > 0, func.round(top, PLACES) / below), else_=None)


@lru_cache(maxsize=256)
def _ranked_statement(
    shape: tuple[bool, ...], sort: str, descending: bool, limited: bool
) -> Select[Any]:
    """The period's rides by the engine's figure for `sort` (the ride id breaks ties),
    with their names, tiers and live statuses."""
    period = _period_statement(shape, False)
    figure = _in_sql(check_ride_sort(sort), period)
    top = select(period)
    if sort == "name":
        top = top.join_from(period, rides, rides.c.id == period.c.ride_id)
    top = top.order_by(
        figure.is_(None), figure.desc() if descending else figure.asc(), period.c.ride_id
    )
    if limited:
        top = top.limit(bindparam("limit", type_=Integer))
    chosen = top.subquery("top")
    outer = _in_sql(check_ride_sort(sort), chosen)
    return (
        select(chosen, rides.c.name, rides.c.tier, rides.c.live_status)
        .join_from(chosen, rides, rides.c.id == chosen.c.ride_id)
        .order_by(outer.is_(None), outer.desc() if descending else outer.asc(), chosen.c.ride_id)
    )


@lru_cache(maxsize=256)
def _chosen_statement(shape: tuple[bool, ...]) -> Select[Any]:
    period = _period_statement(shape, True)
    return select(period, rides.c.name, rides.c.tier, rides.c.live_status).join_from(
        period, rides, rides.c.id == period.c.ride_id
    )


#: Per ride: its highest posted wait and longest closure over its range.
Maxima = dict[int, tuple[int | None, float]]

#: Above this many rides, `_maxima` reads their parks' days instead: MariaDB turns an
#: `IN` list of a thousand values or more into a join that scans the whole table.
MAXIMA_BY_RIDE = 500


def _maxima(
    conn: Connection, ranges: Mapping[int, DateRange], rides_of: Mapping[int, Sequence[int]]
) -> Maxima:
    """Per ride of `rides_of`: its highest posted wait and longest closure over the
    tracked days of its park's range, which no difference of running totals gives; a
    range of the (ride, day) index per ride, or of the (park, day) key per park when
    the rides are many."""
    m = ride_daily_stats.c
    count = sum(len(ids) for ids in rides_of.values())
    if count == 0:
        return {}
    if count <= MAXIMA_BY_RIDE:
        which = _in_ranges(
            m.ride_id,
            m.stat_date,
            {ride: ranges[park] for park, ids in rides_of.items() for ride in ids},
        )
    else:
        which = _in_ranges(m.park_id, m.stat_date, {p: ranges[p] for p in rides_of})
    query = (
        select(m.ride_id, func.max(m.peak_wait), func.max(m.longest_downtime_minutes))
        .where(which, m.tracked)
        .group_by(m.ride_id)
    )
    return {
        ride_id: (None if peak is None else int(peak), float(longest or 0))
        for ride_id, peak, longest in conn.execute(query)
    }


def _by_peak_wait(
    conn: Connection, ranges: Mapping[int, DateRange], descending: bool, limit: int | None
) -> tuple[list[tuple[int, int]], Maxima]:
    """The rides of the period with the highest (or lowest) peak wait, and their maxima:
    a maximum is no difference of running totals, so this reads every ride day of the
    period. A ride that never posted a wait has no peak and is not listed."""
    s = ride_daily_stats.c
    peak = func.max(s.peak_wait)
    query = (
        select(s.park_id, s.ride_id, peak, func.max(s.longest_downtime_minutes))
        .where(_in_ranges(s.park_id, s.stat_date, ranges), s.tracked)
        .group_by(s.park_id, s.ride_id)
        .having(peak.is_not(None))
        .order_by(peak.desc() if descending else peak.asc(), s.ride_id)
        .limit(limit)
    )
    order = []
    maxima: Maxima = {}
    for park_id, ride_id, most, longest in conn.execute(query):
        order.append((park_id, ride_id))
        maxima[ride_id] = (int(most), float(longest or 0))
    return order, maxima


def period_sums(
    conn: Connection,
    asked: Scope,
    *,
    sort: str = "downtime",
    descending: bool = True,
    limit: int | None = None,
    ride_id: int | None = None,
) -> list[RideSums]:
    """Rides tracked in the period (eligible on at least one day) by `sort`, worst first,
    at most `limit`; or the one `ride_id`. Each with its sums, maxima, the period
    before's sums and its last 7 days' downtime.

    Sorting and the limit happen in SQL over two rows of running totals per ride; the
    rest is read for the rides returned only, in two more statements."""
    check_ride_sort(sort)
    ranges = asked.ranges
    if ride_id is not None:
        owner = conn.execute(select(rides.c.park_id).where(rides.c.id == ride_id)).scalar()
        ranges = {owner: ranges[owner]} if owner in ranges else {}
    bounds = _bounds(conn, ranges)
    shape = tuple(before is not None for _, before in _groups(bounds))
    maxima: Maxima | None = None
    rows: list[Any]
    if ride_id is not None or sort == "peak_wait":
        if ride_id is not None:
            order = [(park, ride_id) for park in ranges]
        else:
            order, maxima = _by_peak_wait(conn, ranges, descending, limit)
        chosen: dict[int, list[int]] = {}
        for park, ride in order:
            chosen.setdefault(park, []).append(ride)
        found = _period(bounds, chosen)
        rows = [] if found is None else list(conn.execute(_chosen_statement(shape), found[1]))
        position = {ride: index for index, (_, ride) in enumerate(order)}
        rows.sort(key=lambda row: position[row.ride_id])
    else:
        found = _period(bounds)
        if found is None:
            return []
        statement = _ranked_statement(shape, sort, descending, limit is not None)
        rows = list(conn.execute(statement, {**found[1], "limit": limit}))
    rides_of: dict[int, list[int]] = {}
    for row in rows:
        rides_of.setdefault(row.park_id, []).append(row.ride_id)
    if maxima is None:
        maxima = _maxima(conn, ranges, rides_of)
    days = _ride_rows(conn, bounds, rides_of)
    result = []
    for row in rows:
        found_bounds = bounds[row.park_id]

        def at(day: date | None, ride: int = row.ride_id, park: int = row.park_id) -> Any:
            return None if day is None else days.get((park, day, ride))

        previous = _difference(at(found_bounds.before), at(found_bounds.previous_before))
        week = _difference(at(found_bounds.end), at(found_bounds.week_before))
        peak, longest = maxima.get(row.ride_id, (None, 0.0))
        result.append(
            RideSums(
                row.ride_id,
                row.name,
                row.tier,
                asked.parks[row.park_id],
                _totals([getattr(row, name) for name in SUMS], peak),
                _totals(previous),
                int(row.downtime_events),
                longest,
                minutes(week[SUMS.index("downtime_minutes")]),
                int(week[SUMS.index("tracked_days")]),
                row.live_status,
            )
        )
    return result


def _ride_rows(
    conn: Connection, bounds: Mapping[int, _Bounds], rides_of: Mapping[int, Sequence[int]]
) -> dict[tuple[int, date, int], list[Any]]:
    """The rides' running totals on each day their park's bounds name, for the period
    before and the last 7 days: a few rows per ride returned."""
    keys = sorted(
        {
            (park_id, day)
            for park_id in rides_of
            for day in _days(bounds[park_id])
            if day is not None
        }
    )
    ride_ids = [ride for ids in rides_of.values() for ride in ids]
    if not keys or not ride_ids:
        return {}
    s = ride_daily_stats.c
    query = select(s.park_id, s.stat_date, s.ride_id, *(s[f"cum_{name}"] for name in SUMS)).where(
        _on_days(s.park_id, s.stat_date, keys), s.ride_id.in_(ride_ids)
    )
    return {(row[0], row[1], row[2]): list(row[3:]) for row in conn.execute(query)}


def _days(found: _Bounds) -> tuple[date | None, ...]:
    return (found.end, found.before, found.previous_before, found.week_before)
