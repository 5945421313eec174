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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Double,
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
from themepark_tracker.engine.days import PLACES, minutes
from themepark_tracker.engine.periods import previous_period
from themepark_tracker.engine.rankings import Figure, check_ride_sort, sort_parks
from themepark_tracker.engine.scores import Totals
from themepark_tracker.storage import maxima
from themepark_tracker.storage.maxima import PEAK_LEVELS
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
    day_numbers: tuple[int, int] = (0, 0)
    """The numbers of its last day before the period and of its last day in it."""
    scheduled_days: int = 0
    """Of its days in the period, those counted with published hours."""

    @property
    def days(self) -> int:
        """Its days with figures in the period."""
        return self.day_numbers[1] - self.day_numbers[0]

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
    outages: int
    """Ended outages: `downtime_events` less the one going on, if any."""
    outage_minutes: float
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
    day (None: it has none). `days` is how many days with statistics the period has,
    and `mid` the day that ends the other block of `span` days covering them (`maxima`)."""

    end: date | None
    before: date | None
    previous_before: date | None
    week_before: date | None
    days: int
    span: int
    mid: date | None
    start: int = 0
    """The number of its last day before the period (0: none)."""


_NO_BOUNDS = _Bounds(None, None, None, None, 0, 1, None)


@lru_cache(maxsize=32)
def _bounds_statement(groups: int) -> Any:
    """Per park of each group of parks with the same period: each bound is one backward
    step in the (park, day) key. `ORDER BY ... LIMIT 1` is what both SQLite and MariaDB
    turn into a seek, where MAX() with a range reads the range. Built once per number
    of groups: building a statement costs more than running this one.

    MariaDB is told to take the key: once its statistics are fresh it prefers the
    (park, day number) index, which holds the key too, and sorts each park's days
    (36 ms against 4 for 100 parks)."""
    s = park_daily_stats.c

    def last(column: Any, before: ColumnElement[bool]) -> Any:
        return (
            select(column)
            .where(s.park_id == parks.c.id, before)
            .order_by(s.stat_date.desc())
            .limit(1)
            .with_hint(park_daily_stats, "FORCE INDEX (PRIMARY)", "mysql")
            .scalar_subquery()
        )

    parts = []
    for i in range(groups):
        first, final = bindparam(f"first_{i}", type_=Date), bindparam(f"last_{i}", type_=Date)
        parts.append(
            select(
                parks.c.id,
                last(s.stat_date, s.stat_date <= final),
                last(s.stat_date, s.stat_date < first),
                last(s.stat_date, s.stat_date < bindparam(f"previous_{i}", type_=Date)),
                last(s.stat_date, s.stat_date <= bindparam(f"week_{i}", type_=Date)),
                last(s.day_number, s.stat_date <= final),
                last(s.day_number, s.stat_date < first),
            ).where(parks.c.id.in_(bindparam(f"parks_{i}", expanding=True)))
        )
    return union_all(*parts) if groups > 1 else parts[0]


def _bounds(conn: Connection, ranges: Mapping[int, DateRange]) -> dict[int, _Bounds]:
    """Two statements: the bounds, then the `mid` days by their numbers."""
    groups = grouped(ranges)
    if not groups:
        return {}
    params: dict[str, Any] = {}
    for i, ((first, final), ids) in enumerate(groups.items()):
        params.update(
            {
                f"first_{i}": first,
                f"last_{i}": final,
                f"previous_{i}": previous_period(first, final)[0],
                f"week_{i}": final - timedelta(days=WEEK),
                f"parks_{i}": ids,
            }
        )
    found = {}
    mids: dict[int, int] = {}
    for park_id, end, before, previous, week, end_number, start in conn.execute(
        _bounds_statement(len(groups)), params
    ):
        if end is None or end < ranges[park_id][0]:
            found[park_id] = _Bounds(None, before, previous, week, 0, 1, None)
            continue
        days = int(end_number) - int(start or 0)
        span = maxima.widest_span(days)
        mids[park_id] = int(start or 0) + span
        found[park_id] = _Bounds(end, before, previous, week, days, span, None, int(start or 0))
    numbered = _numbered_days(conn, mids)
    return {
        park_id: replace(bounds, mid=numbered.get(park_id)) for park_id, bounds in found.items()
    }


@lru_cache(maxsize=64)
def _numbered_statement(groups: int) -> Any:
    s = park_daily_stats.c
    return select(s.park_id, s.stat_date).where(
        or_(
            *(
                and_(
                    s.day_number == bindparam(f"number_{i}", type_=Integer),
                    s.park_id.in_(bindparam(f"parks_{i}", expanding=True)),
                )
                for i in range(groups)
            )
        )
    )


def _numbered_days(conn: Connection, numbers: Mapping[int, int]) -> dict[int, date]:
    """The day each park's number names."""
    groups = grouped(numbers)
    if not groups:
        return {}
    params: dict[str, Any] = {}
    for i, (number, ids) in enumerate(groups.items()):
        params.update({f"number_{i}": number, f"parks_{i}": ids})
    found = conn.execute(_numbered_statement(len(groups)), params)
    return {park_id: day for park_id, day in found}


def grouped(ranges: Mapping[int, Any]) -> dict[Any, list[int]]:
    """The keys (parks, rides) of each value (a date range, a day): one condition each."""
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
    counts = _ride_counts(conn, bounds, ranges)
    long = {p: ranges[p] for p, b in bounds.items() if b.end is not None and _scanned(b)}
    peaks = _park_peaks(conn, long)
    down = _rides_down(conn, list(ranges))
    result = []
    for park_id, park in asked.parks.items():
        found = bounds.get(park_id, _NO_BOUNDS)

        def at(day: date | None, park: int = park_id) -> Any:
            return None if day is None else rows.get((park, day))

        end = at(found.end)
        current = _difference(_sums(end), _sums(at(found.before)), len(PARK_SUMS))
        earlier = _difference(
            _sums(at(found.before)), _sums(at(found.previous_before)), len(PARK_SUMS)
        )
        if park_id in long:
            peak = peaks.get(park_id)
        else:
            most = maxima.over_range(_levels(end), _levels(at(found.mid)), found.span)
            peak = None if most is None else most[0]
        result.append(
            ParkSums(
                park,
                _totals(current, peak),
                _totals(earlier),
                *counts.get(park_id, (0, 0)),
                down.get(park_id, 0),
                (found.start, found.start + found.days),
                int(current[6] or 0),
            )
        )
    return sort_parks(result, sort, descending=descending)


def _scanned(found: _Bounds) -> bool:
    """A period longer than two blocks of the widest span: its maxima are read from its
    days."""
    return bool(found.days > maxima.MAX_DAYS)


def _sums(row: Any) -> Any:
    return None if row is None else row[0]


def _levels(row: Any) -> maxima.Levels | None:
    return None if row is None else row[1]


@lru_cache(maxsize=64)
def _park_rows_statement(days: int) -> Any:
    s = park_daily_stats.c
    return select(
        s.park_id,
        s.stat_date,
        *(s[f"cum_{name}"] for name in PARK_SUMS),
        s.peak_wait,
        *(s[name] for name in PEAK_LEVELS),
    ).where(
        or_(
            *(
                and_(
                    s.stat_date == bindparam(f"day_{i}", type_=Date),
                    s.park_id.in_(bindparam(f"parks_{i}", expanding=True)),
                )
                for i in range(days)
            )
        )
    )


def _park_rows(
    conn: Connection, bounds: Mapping[int, _Bounds]
) -> dict[tuple[int, date], tuple[list[Any], maxima.Levels]]:
    """The park's running totals and maxima on each day its bounds name: one range of
    the key per day (a row-value `IN` list is a scan of the whole table to SQLite)."""
    parks_on: dict[date, set[int]] = {}
    for park_id, found in bounds.items():
        for day in (found.end, found.before, found.previous_before, found.mid):
            if day is not None:
                parks_on.setdefault(day, set()).add(park_id)
    if not parks_on:
        return {}
    params: dict[str, Any] = {}
    for i, (day, ids) in enumerate(sorted(parks_on.items())):
        params.update({f"day_{i}": day, f"parks_{i}": sorted(ids)})
    width = len(PARK_SUMS)
    return {
        (row[0], row[1]): (list(row[2 : 2 + width]), [(v,) for v in row[2 + width :]])
        for row in conn.execute(_park_rows_statement(len(parks_on)), params)
    }


def _park_peaks(conn: Connection, ranges: Mapping[int, DateRange]) -> dict[int, int]:
    """Each park's highest posted wait over its days in a range too long for the blocks."""
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
            for (first, last), ids in grouped(ranges).items()
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
    column("ongoing_outage_minutes"),
)


def _groups(bounds: Mapping[int, _Bounds]) -> dict[tuple[date, date | None], list[int]]:
    """Parks with statistics in their period, by (end, before)."""
    return grouped({p: (b.end, b.before) for p, b in bounds.items() if b.end is not None})


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
        # A period's ended outages: its outages less the one going on at its end, if any.
        ongoing = end.c.ongoing_outage_minutes
        by_name = dict(zip(SUMS, columns, strict=True))
        columns += [
            (by_name["downtime_events"].element - case((ongoing.is_(None), 0), else_=1)).label(
                "outages"
            ),
            (by_name["downtime_minutes"].element - func.coalesce(ongoing, 0)).label(
                "outage_minutes"
            ),
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


@lru_cache(maxsize=32)
def _ride_counts_statement(groups: int) -> Any:
    s = ride_daily_stats.c
    parts = []
    for i in range(groups):
        days = bindparam(f"days_{i}", type_=Integer)
        parts.append(
            select(
                s.park_id,
                func.sum(case((s.days_since_tracked <= days, 1), else_=0)),
                func.sum(case((s.days_since_down <= days, 1), else_=0)),
            )
            .where(
                s.stat_date == bindparam(f"end_{i}", type_=Date),
                s.park_id.in_(bindparam(f"parks_{i}", expanding=True)),
            )
            .group_by(s.park_id)
        )
    return union_all(*parts) if groups > 1 else parts[0]


def _ride_counts(
    conn: Connection, bounds: Mapping[int, _Bounds], ranges: Mapping[int, DateRange]
) -> dict[int, tuple[int, int]]:
    """Per park: rides tracked on a day of the period, and those with downtime on a day
    of it, from one row per ride: each carries how many days back its latest such day
    is."""
    groups = grouped({p: (b.end, ranges[p][0]) for p, b in bounds.items() if b.end})
    if not groups:
        return {}
    params: dict[str, Any] = {}
    for i, ((end, first), ids) in enumerate(groups.items()):
        params.update({f"end_{i}": end, f"days_{i}": (end - first).days, f"parks_{i}": ids})
    found = conn.execute(_ride_counts_statement(len(groups)), params)
    return {park_id: (int(tracked or 0), int(down or 0)) for park_id, tracked, down in found}


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


class _rounded(FunctionElement[float]):  # noqa: N801 - reads as a function in SQL
    """A sum to `PLACES` decimals, as `engine.days.minutes` rounds it, for ordering:
    SQLite's ROUND() formats each value as text, which costs more than the rest of a
    ranking's arithmetic, so there it is an integer count of millionths instead."""

    inherit_cache = True


@compiles(_rounded)
def _rounded_default(element: _rounded, compiler: Any, **kw: Any) -> str:
    (value,) = element.clauses
    return f"CAST(({compiler.process(value, **kw)}) * {10**PLACES} + 0.5 AS INTEGER)"


@compiles(_rounded, "mysql")
def _rounded_mysql(element: _rounded, compiler: Any, **kw: Any) -> str:
    (value,) = element.clauses
    return f"ROUND({compiler.process(value, **kw)}, {PLACES})"


def _in_sql(figure: Figure, period: FromClause) -> ColumnElement[Any]:
    """The engine's figure over the period's sums, as SQL computes it (a ratio in a
    scale of its own: SQL only orders by it)."""
    if figure.numerator == "name":
        return _by_code_point(rides.c.name)
    top = period.c[figure.numerator]
    if figure.column:
        return top
    if not figure.denominator:
        return _rounded(top)
    below: Any = sum((_rounded(period.c[name]) for name in figure.denominator), start=0)
    return case((below > 0, _rounded(top) * 1.0 / below), else_=None)


@lru_cache(maxsize=256)
def _ranked_statement(
    shape: tuple[bool, ...], sort: str, descending: bool, limited: bool
) -> Select[Any]:
    """The period's rides by the engine's figure for `sort` (the ride id breaks ties),
    with their names, tiers and live statuses. A gated figure ranks only the rides
    observed at least `exposure` minutes (up + down) that have it."""
    period = _period_statement(shape, False)
    declared = check_ride_sort(sort)
    figure = _in_sql(declared, period)
    top = select(period)
    if sort == "name":
        top = top.join_from(period, rides, rides.c.id == period.c.ride_id)
    if declared.gated:
        observed = period.c.uptime_minutes + period.c.downtime_minutes
        top = top.where(figure.is_not(None), observed >= bindparam("exposure", type_=Double))
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


def _maxima_from_days(
    conn: Connection, ranges: Mapping[int, DateRange], rides_of: Mapping[int, Sequence[int]]
) -> Maxima:
    """Per ride of `rides_of` (the few a ranking returns): its highest posted wait and
    longest closure over the tracked days of its park's range, read from its days
    through the (ride, day) index. The longest closure is only ever shown, never sorted
    by, so it is read here rather than kept for spans of days like the peak wait (that
    would take a quarter more room); the peak wait read here serves ranges too long for
    the spans."""
    m = ride_daily_stats.c
    if not rides_of:
        return {}
    which = _in_ranges(
        m.ride_id,
        m.stat_date,
        {ride: ranges[park] for park, ids in rides_of.items() for ride in ids},
    )
    query = (
        select(m.ride_id, func.max(m.peak_wait), func.max(m.longest_downtime_minutes))
        .where(which, m.tracked)
        .group_by(m.ride_id)
    )
    return {
        ride_id: (None if peak is None else int(peak), float(longest or 0))
        for ride_id, peak, longest in conn.execute(query)
    }


def _scanned_peak_order(
    conn: Connection, ranges: Mapping[int, DateRange], descending: bool, limit: int | None
) -> list[tuple[int, int]]:
    """(park, ride) by the highest posted wait over a range too long for the blocks,
    read from every ride day of it."""
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


#: The columns of `ride_daily_stats` the peak order reads.
PEAKS = table(
    ride_daily_stats.name,
    column("park_id"),
    column("stat_date", Date),
    column("ride_id"),
    column("peak_wait"),
    *(column(name) for name in PEAK_LEVELS),
)


def _peak_column(span: int) -> str:
    return "peak_wait" if span == 1 else PEAK_LEVELS[maxima.level(span) - 1]


def _larger_in_sql(a: Any, b: Any) -> Any:
    """`maxima.larger` in SQL: GREATEST and MAX() of two values are null if either is."""
    return case((a.is_(None), b), (or_(b.is_(None), a >= b), a), else_=b)


@lru_cache(maxsize=256)
def _peak_statement(spans: tuple[int, ...], descending: bool, limited: bool) -> Select[Any]:
    """(park, ride) by the highest posted wait over the period: per group of parks, the
    larger of the blocks of the group's span that end on its last day and on its `mid`
    day (`maxima`). Rides without a posted wait are not listed."""
    parts = []
    for index, span in enumerate(spans):
        end, mid = PEAKS.alias("e"), PEAKS.alias("m")
        name = _peak_column(span)
        parts.append(
            select(
                end.c.park_id,
                end.c.ride_id,
                _larger_in_sql(end.c[name], mid.c[name]).label("peak"),
            )
            .select_from(
                end.outerjoin(
                    mid,
                    and_(
                        mid.c.park_id == end.c.park_id,
                        mid.c.ride_id == end.c.ride_id,
                        mid.c.stat_date
                        == bindparam(f"mid_{index}", type_=Date, literal_execute=True),
                    ),
                )
            )
            .where(
                end.c.stat_date == bindparam(f"end_{index}", type_=Date, literal_execute=True),
                end.c.park_id.in_(bindparam(f"parks_{index}", expanding=True)),
            )
        )
    found = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("peaks")
    query = (
        select(found.c.park_id, found.c.ride_id)
        .where(found.c.peak.is_not(None))
        .order_by(found.c.peak.desc() if descending else found.c.peak.asc(), found.c.ride_id)
    )
    return query.limit(bindparam("limit", type_=Integer)) if limited else query


def _peak_order(
    conn: Connection,
    bounds: Mapping[int, _Bounds],
    ranges: Mapping[int, DateRange],
    descending: bool,
    limit: int | None,
) -> list[tuple[int, int]]:
    with_days = {p: b for p, b in bounds.items() if b.end is not None}
    if any(_scanned(b) for b in with_days.values()):
        return _scanned_peak_order(conn, {p: ranges[p] for p in with_days}, descending, limit)
    groups = grouped({p: (b.end, b.mid, b.span) for p, b in with_days.items()})
    if not groups:
        return []
    params: dict[str, Any] = {"limit": limit}
    for index, ((end, mid, _), park_ids) in enumerate(groups.items()):
        params.update({f"end_{index}": end, f"mid_{index}": mid, f"parks_{index}": park_ids})
    statement = _peak_statement(tuple(span for _, _, span in groups), descending, limit is not None)
    return [(park_id, ride_id) for park_id, ride_id in conn.execute(statement, params)]


def period_sums(
    conn: Connection,
    asked: Scope,
    *,
    sort: str = "downtime",
    descending: bool = True,
    limit: int | None = None,
    ride_id: int | None = None,
    min_exposure_minutes: float = 0.0,
) -> list[RideSums]:
    """Rides tracked in the period (eligible on at least one day) by `sort`, worst first,
    at most `limit`; or the one `ride_id`. Each with its sums, maxima, the period
    before's sums and its last 7 days' downtime.

    Sorting and the limit happen in SQL over two rows per ride (running totals, or
    maxima of spans); the rest is read for the rides returned only, in one more
    statement. A gated sort (`RIDE_FIGURES`) lists only the rides observed for at least
    `min_exposure_minutes`."""
    check_ride_sort(sort)
    ranges = asked.ranges
    if ride_id is not None:
        owner = conn.execute(select(rides.c.park_id).where(rides.c.id == ride_id)).scalar()
        ranges = {owner: ranges[owner]} if owner in ranges else {}
    bounds = _bounds(conn, ranges)
    shape = tuple(before is not None for _, before in _groups(bounds))
    rows: list[Any]
    if ride_id is not None or sort == "peak_wait":
        if ride_id is not None:
            order = [(park, ride_id) for park in ranges]
        else:
            order = _peak_order(conn, bounds, ranges, descending, limit)
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
        asked_for = {**found[1], "limit": limit, "exposure": min_exposure_minutes}
        rows = list(conn.execute(statement, asked_for))
    rides_of: dict[int, list[int]] = {}
    for row in rows:
        rides_of.setdefault(row.park_id, []).append(row.ride_id)
    days = _ride_rows(conn, bounds, rides_of)
    read = _maxima_from_days(conn, ranges, rides_of)
    result = []
    for row in rows:
        found_bounds = bounds[row.park_id]

        def at(day: date | None, ride: int = row.ride_id, park: int = row.park_id) -> Any:
            return None if day is None else days.get((park, day, ride))

        previous = _difference(
            _sums(at(found_bounds.before)), _sums(at(found_bounds.previous_before))
        )
        week = _difference(_sums(at(found_bounds.end)), _sums(at(found_bounds.week_before)))
        peak, longest = read.get(row.ride_id, (None, 0.0))
        if not _scanned(found_bounds):
            most = maxima.over_range(
                _levels(at(found_bounds.end)), _levels(at(found_bounds.mid)), found_bounds.span
            )
            peak = None if most is None else most[0]
        result.append(
            RideSums(
                row.ride_id,
                row.name,
                row.tier,
                asked.parks[row.park_id],
                _totals([getattr(row, name) for name in SUMS], peak),
                _totals(previous),
                int(row.downtime_events),
                int(row.outages),
                minutes(row.outage_minutes),
                float(longest or 0),
                minutes(week[SUMS.index("downtime_minutes")]),
                int(week[SUMS.index("tracked_days")]),
                row.live_status,
            )
        )
    return result


@lru_cache(maxsize=512)
def _ride_rows_statement(keys: int) -> Any:
    s = ride_daily_stats.c
    return select(
        s.park_id,
        s.stat_date,
        s.ride_id,
        *(s[f"cum_{name}"] for name in SUMS),
        s.peak_wait,
        *(s[name] for name in PEAK_LEVELS),
    ).where(
        or_(
            *(
                and_(
                    s.park_id == bindparam(f"park_{i}", type_=Integer),
                    s.stat_date == bindparam(f"day_{i}", type_=Date),
                    s.ride_id.in_(bindparam(f"rides_{i}", expanding=True)),
                )
                for i in range(keys)
            )
        )
    )


def _ride_rows(
    conn: Connection, bounds: Mapping[int, _Bounds], rides_of: Mapping[int, Sequence[int]]
) -> dict[tuple[int, date, int], tuple[list[Any], maxima.Levels]]:
    """The rides' running totals and highest waits on each day their park's bounds
    name, for the period before, the last 7 days and the peak wait: a few rows per ride
    returned, each one seek of the key."""
    keys = [
        (park_id, day, ids)
        for park_id, ids in rides_of.items()
        for day in sorted({day for day in _days(bounds[park_id]) if day is not None})
    ]
    if not keys:
        return {}
    params: dict[str, Any] = {}
    for i, (park_id, day, ids) in enumerate(keys):
        params.update({f"park_{i}": park_id, f"day_{i}": day, f"rides_{i}": list(ids)})
    width = len(SUMS)
    return {
        (row[0], row[1], row[2]): (list(row[3 : 3 + width]), [(v,) for v in row[3 + width :]])
        for row in conn.execute(_ride_rows_statement(len(keys)), params)
    }


def _days(found: _Bounds) -> tuple[date | None, ...]:
    return (found.end, found.before, found.previous_before, found.week_before, found.mid)
