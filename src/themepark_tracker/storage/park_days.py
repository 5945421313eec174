"""Writing a park day's statistics, with the running totals that make periods cheap.

Every ride row and every park row carries, next to its own day, the running total of
its days so far (`RUNNING_TOTALS` and `PARK_RUNNING_TOTALS` in tables.py). A period's
sums are then the running total on the period's last day minus the one on the day
before it: two rows per ride or park whatever the period's length. The ride table is
kept dense, one row per counted ride on each of its park's days, so that both rows can
be found by date; once a ride has a row it has one on every later day of its park.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from themepark_tracker.engine.days import ParkDay, RideDay
from themepark_tracker.engine.scores import Totals, ride_totals, tier_totals, total
from themepark_tracker.storage import writes
from themepark_tracker.storage.tables import (
    PARK_SUMS,
    SUMS,
    operating_sessions,
    park_daily_stats,
    ride_daily_stats,
)

CUMULATIVE = tuple(f"cum_{name}" for name in SUMS)
PARK_CUMULATIVE = tuple(f"cum_{name}" for name in PARK_SUMS)
Running = tuple[float, ...]
NOTHING: Running = (0.0,) * len(SUMS)
#: The day column of each table with one row (or rows) per park day: with `park_id`,
#: the unique key the park day's rows are upserted and deleted by.
_DAY = {
    ride_daily_stats: ride_daily_stats.c.stat_date,
    park_daily_stats: park_daily_stats.c.stat_date,
    operating_sessions: operating_sessions.c.park_date,
}


def own_sums(row: Mapping[str, Any]) -> Running:
    """One ride row's contribution to the running totals, in `SUMS` order."""
    weighted = tier_totals(row["uptime_minutes"], row["downtime_minutes"], row["tier"])
    return (
        row["uptime_minutes"],
        row["downtime_minutes"],
        weighted.weighted_downtime_minutes,
        weighted.weighted_total_minutes,
        (row["avg_wait"] or 0.0) * row["wait_samples"],
        row["wait_samples"],
        row["downtime_events"],
        1 if row["tracked"] else 0,
    )


def park_own_sums(row: Mapping[str, Any]) -> Running:
    """One park row's contribution to its running totals, in `PARK_SUMS` order."""
    return (
        row["uptime_minutes"],
        row["downtime_minutes"],
        row["weighted_downtime_minutes"],
        row["weighted_total_minutes"],
        (row["avg_wait"] or 0.0) * row["wait_samples"],
        row["wait_samples"],
    )


def _add(left: Running, right: Running) -> Running:
    return tuple(a + b for a, b in zip(left, right, strict=True))


def _ride_row(
    park_id: int, day: date, ride_id: int, tier: int | None, ride: RideDay | None, final: bool
) -> dict[str, Any]:
    return {
        "park_id": park_id,
        "stat_date": day,
        "ride_id": ride_id,
        "tier": tier,
        "tracked": ride is not None,
        "uptime_minutes": ride.uptime_minutes if ride else 0.0,
        "downtime_minutes": ride.downtime_minutes if ride else 0.0,
        "downtime_events": ride.downtime_events if ride else 0,
        "longest_downtime_minutes": ride.longest_downtime_minutes if ride else 0.0,
        "avg_wait": ride.avg_wait if ride else None,
        "peak_wait": ride.peak_wait if ride else None,
        "wait_samples": ride.wait_samples if ride else 0,
        "window_start": ride.window_start if ride else None,
        "window_end": ride.window_end if ride else None,
        "is_final": final,
    }


_s, _p = ride_daily_stats.c, park_daily_stats.c
_park = bindparam("park", type_=Integer)
_day = bindparam("day", type_=Date)
# Built once: a poll runs these for its park day.
_LAST_BEFORE = (
    select(func.max(_s.stat_date)).where(_s.park_id == _park, _s.stat_date < _day).scalar_subquery()
)
_RUNNING_BEFORE = select(_s.ride_id, *(_s[name] for name in CUMULATIVE)).where(
    _s.park_id == _park, _s.stat_date == _LAST_BEFORE
)
_PARK_BEFORE = (
    select(*(_p[name] for name in PARK_CUMULATIVE))
    .where(_p.park_id == _park, _p.stat_date < _day)
    .order_by(_p.stat_date.desc())
    .limit(1)
)
_LATER_DAYS = (
    select(park_daily_stats).where(_p.park_id == _park, _p.stat_date > _day).order_by(_p.stat_date)
)


def running_totals_before(conn: Connection, park_id: int, day: date) -> dict[int, Running]:
    """Each ride's running totals on the park's last day with statistics before `day`."""
    found = conn.execute(_RUNNING_BEFORE, {"park": park_id, "day": day})
    return {row[0]: tuple(row[1:]) for row in found}


def save_park_day(
    conn: Connection,
    park_id: int,
    day: ParkDay,
    tiers: Mapping[int, int | None],
    *,
    final: bool,
    computed_at: datetime,
) -> int:
    """Replace a park day's statistics with `day`; returns the number of rows written.

    The day is recomputed from its polls every time, so its rows are replaced whole.
    Rides get a row when they count (`tiers`) or had one before; the running totals of
    any later days are carried forward so that they stay exact.
    """
    # The caller holds the park and has bumped its data version for caches
    # (`writes.lock_parks(..., changing=True)`, before reading anything), so the running
    # totals read below are the latest.
    _delete_day(conn, park_id, day.day, (ride_daily_stats,))
    running = running_totals_before(conn, park_id, day.day)
    before = conn.execute(_PARK_BEFORE, {"park": park_id, "day": day.day}).first()
    park_running: Running = NOTHING[: len(PARK_SUMS)] if before is None else tuple(before)
    written = 0
    if day.polls:
        rows = [
            _ride_row(park_id, day.day, ride_id, tiers.get(ride_id), day.rides.get(ride_id), final)
            for ride_id in sorted(set(tiers) | set(running) | set(day.rides))
        ]
        for row in rows:
            running[row["ride_id"]] = _add(running.get(row["ride_id"], NOTHING), own_sums(row))
            row.update(zip(CUMULATIVE, running[row["ride_id"]], strict=True))
        if rows:
            conn.execute(insert(ride_daily_stats), rows)
        park_running, saved = _save_park_row(
            conn, park_id, day, tiers, final, computed_at, park_running
        )
        written = len(rows) + saved
    else:
        _delete_day(conn, park_id, day.day, (park_daily_stats, operating_sessions))
    _carry_forward(conn, park_id, day.day, running, park_running)
    return written


def _save_park_row(
    conn: Connection,
    park_id: int,
    day: ParkDay,
    tiers: Mapping[int, int | None],
    final: bool,
    computed_at: datetime,
    running: Running,
) -> tuple[Running, int]:
    """The park row on top of the park's running totals `running`; returns them with it,
    and the rows written. Upserts rather than a delete and an insert: a statement less
    for each row."""
    sums: Totals = total(ride_totals(ride, tiers.get(ride.ride_id)) for ride in day.rides.values())
    row: dict[str, Any] = {
        "park_id": park_id,
        "stat_date": day.day,
        "operating_minutes": day.operating_minutes,
        "rides_tracked": len(day.rides),
        "rides_with_downtime": day.rides_with_downtime,
        "uptime_minutes": sums.uptime_minutes,
        "downtime_minutes": sums.downtime_minutes,
        "weighted_downtime_minutes": sums.weighted_downtime_minutes,
        "weighted_total_minutes": sums.weighted_total_minutes,
        "avg_wait": sums.avg_wait,
        "peak_wait": sums.peak_wait,
        "wait_samples": sums.wait_samples,
        "is_final": final,
        "computed_at": computed_at,
    }
    running = _add(running, park_own_sums(row))
    row.update(zip(PARK_CUMULATIVE, running, strict=True))
    _upsert_day(conn, park_daily_stats, row)
    if day.session_start is None or day.session_end is None:
        _delete_day(conn, park_id, day.day, (operating_sessions,))
        return running, 1
    session = {
        "park_id": park_id,
        "park_date": day.day,
        "started_at": day.session_start,
        "ended_at": day.session_end,
        "operating_minutes": day.operating_minutes,
        "polls": day.polls,
        "active_polls": day.active_polls,
        "is_final": final,
        "computed_at": computed_at,
    }
    _upsert_day(conn, operating_sessions, session)
    return running, 2


def _upsert_day(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    key = ("park_id", _DAY[table].name)
    writes.upsert(conn, table, [row], key, [name for name in row if name not in key])


def _delete_day(conn: Connection, park_id: int, day: date, tables: Sequence[Table]) -> None:
    for table in tables:
        conn.execute(delete(table).where(table.c.park_id == park_id, _DAY[table] == day))


def _carry_forward(
    conn: Connection,
    park_id: int,
    day: date,
    running: dict[int, Running],
    park_running: Running,
) -> None:
    """Recompute the running totals of the park's days after `day`, from `running` (its
    rides') and `park_running` (its own).

    Usually there is no later day, or one (the day after, which has begun); an archive
    of older polls imported into newer history pays for the days it precedes. A ride
    missing on a later day (it first appears in the older polls) gets its zero row there.
    """
    # Every later day of the park, also one that has no ride row yet (nothing counted).
    park_days = conn.execute(_LATER_DAYS, {"park": park_id, "day": day}).mappings().all()
    if not park_days:
        return  # the usual case after a poll: today is the park's latest day
    _carry_park_forward(conn, park_id, park_days, park_running)
    s = ride_daily_stats.c
    later = conn.execute(
        select(ride_daily_stats)
        .where(s.park_id == park_id, s.stat_date > day)
        .order_by(s.stat_date, s.ride_id)
    ).mappings()
    by_day: dict[date, list[dict[str, Any]]] = {}
    for found in later:
        by_day.setdefault(found["stat_date"], []).append(dict(found))
    changed: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    for park_day in park_days:
        stat_date, park_final = park_day["stat_date"], park_day["is_final"]
        rows = by_day.get(stat_date, [])
        present = set()
        for row in rows:
            present.add(row["ride_id"])
            totals = _add(running.get(row["ride_id"], NOTHING), own_sums(row))
            running[row["ride_id"]] = totals
            if totals != tuple(row[name] for name in CUMULATIVE):
                changed.append({"b_ride_id": row["ride_id"], "b_date": stat_date})
                changed[-1].update(zip(CUMULATIVE, totals, strict=True))
        for ride_id in sorted(set(running) - present):
            zero = _ride_row(park_id, stat_date, ride_id, None, None, bool(park_final))
            zero.update(zip(CUMULATIVE, running[ride_id], strict=True))
            missing.append(zero)
    if changed:
        conn.execute(
            update(ride_daily_stats)
            .where(
                and_(
                    s.park_id == park_id,
                    s.stat_date == bindparam("b_date"),
                    s.ride_id == bindparam("b_ride_id"),
                )
            )
            .values({name: bindparam(name) for name in CUMULATIVE}),
            changed,
        )
    if missing:
        conn.execute(insert(ride_daily_stats), missing)


def _carry_park_forward(
    conn: Connection, park_id: int, park_days: Sequence[Any], running: Running
) -> None:
    changed = []
    for row in park_days:
        running = _add(running, park_own_sums(row))
        if running != tuple(row[name] for name in PARK_CUMULATIVE):
            changed.append(
                {"b_date": row["stat_date"], **dict(zip(PARK_CUMULATIVE, running, strict=True))}
            )
    if changed:
        p = park_daily_stats.c
        conn.execute(
            update(park_daily_stats)
            .where(p.park_id == park_id, p.stat_date == bindparam("b_date"))
            .values({name: bindparam(name) for name in PARK_CUMULATIVE}),
            changed,
        )
