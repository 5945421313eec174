"""Period sums from running totals: any range of dates, two rows per ride.

A ride's sums over a range are its running totals on the range's last day with
statistics minus those on the day before the range (`tables.RUNNING_TOTALS`). Parks are
grouped by their bounds so that one statement serves parks whose dates differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Subquery,
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

from themepark_tracker.engine.scores import Totals
from themepark_tracker.storage.tables import SUMS, park_daily_stats, parks, ride_daily_stats

DateRange = tuple[date, date]

#: Below a microsecond of downtime, a difference of running totals is float noise.
EPSILON = 1e-6


def by_range(ranges: Mapping[int, DateRange]) -> dict[DateRange, list[int]]:
    groups: dict[DateRange, list[int]] = {}
    for key, span in ranges.items():
        groups.setdefault(span, []).append(key)
    return groups


def in_ranges(
    key_column: Any, date_column: Any, ranges: Mapping[int, DateRange]
) -> ColumnElement[bool]:
    """Rows whose key (a park, or a ride) is in `ranges` and whose date is in its range."""
    return or_(
        false(),
        *(
            and_(key_column.in_(ids), date_column.between(first, last))
            for (first, last), ids in by_range(ranges).items()
        ),
    )


def totals(values: Sequence[Any]) -> Totals:
    up, down, weighted_down, weighted_total, wait_sum, samples, peak = values
    return Totals(
        minutes(up),
        minutes(down),
        minutes(weighted_down),
        minutes(weighted_total),
        minutes(wait_sum),
        int(samples or 0),
        None if peak is None else int(peak),
    )


def minutes(value: Any) -> float:
    """Sums taken as differences of running totals carry float noise; minutes (and waits
    times samples) are exact to far below a second."""
    return round(float(value or 0), 6)


def bounds(
    conn: Connection, ranges: Mapping[int, DateRange]
) -> dict[int, tuple[date, date | None]]:
    """Per park: its last day with statistics in its range, and its last day before it.

    Each is one backward step in the (park, day) key: `ORDER BY ... LIMIT 1` is what
    both SQLite and MariaDB turn into a seek, where MAX() with a range reads the range.
    """
    s = park_daily_stats.c
    parts = []
    for (first, last), ids in by_range(ranges).items():
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
RUNNING = table(
    ride_daily_stats.name,
    column("park_id"),
    column("stat_date", Date),
    column("ride_id"),
    *(column(f"cum_{name}") for name in SUMS),
)


#: A period's groups of parks: each park's last day with statistics in its range, and its
#: last day before the range (None when it has none).
Groups = dict[tuple[date, date | None], list[int]]


def groups(conn: Connection, ranges: Mapping[int, DateRange]) -> Groups:
    return group_bounds(bounds(conn, ranges))


def group_bounds(found: Mapping[int, tuple[date, date | None]]) -> Groups:
    grouped: Groups = {}
    for park_id, park_bounds in found.items():
        grouped.setdefault(park_bounds, []).append(park_id)
    return grouped


@lru_cache(maxsize=256)
def period_statement(shape: tuple[bool, ...], by_ride: bool) -> Subquery:
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
        end, start = RUNNING.alias("e"), RUNNING.alias("s")
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


def period(
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
    return period_statement(shape, rides_of is not None), params


def park_sums(conn: Connection, ranges: Mapping[int, DateRange]) -> dict[int, Totals]:
    """Per park with statistics in its range: the sums of its days."""
    if not ranges:
        return {}
    s = park_daily_stats.c
    query = (
        select(s.park_id, *PARK_DAY_SUMS)
        .where(in_ranges(s.park_id, s.stat_date, ranges))
        .group_by(s.park_id)
    )
    return {row[0]: totals(row[1:]) for row in conn.execute(query)}


#: A park's days summed up, in the order `totals` takes them.
PARK_DAY_SUMS = (
    func.sum(park_daily_stats.c.uptime_minutes),
    func.sum(park_daily_stats.c.downtime_minutes),
    func.sum(park_daily_stats.c.weighted_downtime_minutes),
    func.sum(park_daily_stats.c.weighted_total_minutes),
    func.sum(func.coalesce(park_daily_stats.c.avg_wait, 0) * park_daily_stats.c.wait_samples),
    func.sum(park_daily_stats.c.wait_samples),
    func.max(park_daily_stats.c.peak_wait),
)


def ride_counts(conn: Connection, ranges: Mapping[int, DateRange]) -> dict[int, tuple[int, int]]:
    """Per park: rides tracked on at least one day of the range, and those with downtime."""
    found = period(groups(conn, ranges))
    if found is None:
        return {}
    sums, params = found
    query = select(
        sums.c.park_id,
        func.count(),
        func.sum(case((sums.c.downtime_minutes > EPSILON, 1), else_=0)),
    ).group_by(sums.c.park_id)
    return {row[0]: (int(row[1]), int(row[2])) for row in conn.execute(query, params)}
