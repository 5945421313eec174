"""Writing a park day's statistics, with the running totals and maxima that make any
period two rows per ride or park.

Every ride row and every park row carries, next to its own day, the running total of
its days so far (`RUNNING_TOTALS` and `PARK_RUNNING_TOTALS` in tables.py): a period's
sums are the running total on the period's last day minus the one on the day before it.
It also carries the highest posted wait of the 2 to 256 park days ending with it
(`maxima.py`), its park day's number, and for a ride how many days back its latest day
tracked and with downtime are. The ride table is kept dense, one row per counted ride on each
of its park's days, so that these rows can be found by date; once a ride has a row it
has one on every later day of its park.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from themepark_tracker.engine.days import ParkDay, RideDay, had_downtime
from themepark_tracker.engine.scores import Totals, ride_totals, tier_totals, total
from themepark_tracker.storage import maxima, outages, pools, writes
from themepark_tracker.storage.maxima import PEAK_LEVELS, Levels
from themepark_tracker.storage.tables import (
    PARK_SUMS,
    SUMS,
    operating_sessions,
    park_daily_stats,
    ride_daily_stats,
    ride_outages,
    rides,
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
        1 if row["scheduled"] else 0,
    )


def _add(left: Running, right: Running) -> Running:
    return tuple(a + b for a, b in zip(left, right, strict=True))


def _ride_row(
    park_id: int,
    day: date,
    ride_id: int,
    tier: int | None,
    ride: RideDay | None,
    final: bool,
    disagreements: int = 0,
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
        "ongoing_outage_minutes": next(
            (outage.minutes for outage in (ride.outages if ride else ()) if outage.ongoing), None
        ),
        "disagreements": disagreements,
    }


_s, _p = ride_daily_stats.c, park_daily_stats.c
_park = bindparam("park", type_=Integer)
_day = bindparam("day", type_=Date)
# Built once: a poll runs these for its park day.
_LAST_BEFORE = (
    select(func.max(_s.stat_date)).where(_s.park_id == _park, _s.stat_date < _day).scalar_subquery()
)
_RUNNING_BEFORE = select(
    _s.ride_id,
    _s.stat_date,
    _s.days_since_tracked,
    _s.days_since_down,
    *(_s[name] for name in CUMULATIVE),
).where(_s.park_id == _park, _s.stat_date == _LAST_BEFORE)
_PARK_BEFORE = (
    select(_p.day_number, *(_p[name] for name in PARK_CUMULATIVE))
    .where(_p.park_id == _park, _p.stat_date < _day)
    .order_by(_p.stat_date.desc())
    .limit(1)
)
_LATER_DAYS = (
    select(park_daily_stats).where(_p.park_id == _park, _p.stat_date > _day).order_by(_p.stat_date)
)


#: A ride's last day it was tracked, and its last day with downtime, so far.
Latest = tuple[date | None, date | None]


def running_totals_before(
    conn: Connection, park_id: int, day: date
) -> tuple[dict[int, Running], dict[int, Latest]]:
    """Each ride's running totals, and its latest days, on the park's last day with
    statistics before `day`."""
    found = conn.execute(_RUNNING_BEFORE, {"park": park_id, "day": day}).all()
    return {row[0]: tuple(row[4:]) for row in found}, {
        row[0]: (_back(row[1], row[2]), _back(row[1], row[3])) for row in found
    }


def _back(day: date, days: int | None) -> date | None:
    return None if days is None else day - timedelta(days=days)


def _since(day: date, latest: date | None) -> int | None:
    return None if latest is None else (day - latest).days


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
    Rides get a row when they count (`tiers`) or had one before; the running totals,
    maxima and day numbers of any later days are computed again so that they stay exact.
    """
    # The caller holds the park and has bumped its data version for caches
    # (`writes.lock_parks(..., changing=True)`, before reading anything), so the running
    # totals read below are the latest.
    _delete_day(conn, park_id, day.day, (ride_daily_stats,))
    _save_outages(conn, park_id, day)
    running, latest = running_totals_before(conn, park_id, day.day)
    before = conn.execute(_PARK_BEFORE, {"park": park_id, "day": day.day}).first()
    number = 0 if before is None else int(before[0])
    park_running: Running = NOTHING[: len(PARK_SUMS)] if before is None else tuple(before[1:])
    days: list[_Day] = []
    if day.polls:
        rides = [
            _ride_row(
                park_id,
                day.day,
                ride_id,
                tiers.get(ride_id),
                day.rides.get(ride_id),
                final,
                day.disagreements.get(ride_id, 0),
            )
            for ride_id in sorted(set(tiers) | set(running) | set(day.rides))
        ]
        days.append(_Day(_park_row(park_id, day, tiers, final, computed_at), rides, new=True))
    else:
        _delete_day(conn, park_id, day.day, (park_daily_stats, operating_sessions))
    days += _later_days(conn, park_id, day.day)
    buckets = outages.buckets_through(conn, {park_id: [number]})[(park_id, number)]
    for found in days:
        number += 1
        park_running = found.carry(number, park_running, running, latest, buckets)
    _with_maxima(conn, park_id, days, number - len(days) + 1)
    written = 0
    if days and days[0].new:
        rides, park = days[0].rides, days[0].park
        if rides:
            conn.execute(insert(ride_daily_stats), rides)
        written = len(rides) + _save_park_rows(conn, park, day)
    for found in days:
        if not found.new:
            found.save(conn, park_id)
    return written


class _Day:
    """A park day's rows from the day written on: the day itself (`new`), or a later
    day whose running totals, maxima and number are computed again."""

    def __init__(self, park: dict[str, Any], rides: list[dict[str, Any]], *, new: bool) -> None:
        self.park = park
        self.rides = rides
        self.new = new
        self.stored = {} if new else {id(row): dict(row) for row in [park, *rides]}
        self.missing: list[dict[str, Any]] = []

    def carry(
        self,
        number: int,
        park_running: Running,
        running: dict[int, Running],
        latest: dict[int, Latest],
        buckets: list[int],
    ) -> Running:
        """Running totals, outage buckets and latest days on top of the day before's; a
        ride counted before this day that has no row on it gets its zero row."""
        self.park["day_number"] = number
        park_running = _add(park_running, park_own_sums(self.park))
        self.park.update(zip(PARK_CUMULATIVE, park_running, strict=True))
        if self.park["outage_seconds"] is not None:
            outages.add_to_buckets(buckets, outages.unpack_seconds(self.park["outage_seconds"]))
        checkpoint = number % outages.CHECKPOINT_DAYS == 0
        self.park["cum_outages"] = outages.pack_buckets(buckets) if checkpoint else None
        park_id, day = self.park["park_id"], self.park["stat_date"]
        present = set()
        for row in self.rides:
            ride_id = row["ride_id"]
            present.add(ride_id)
            running[ride_id] = _add(running.get(ride_id, NOTHING), own_sums(row))
            row.update(zip(CUMULATIVE, running[ride_id], strict=True))
            tracked_on, down_on = latest.get(ride_id, (None, None))
            latest[ride_id] = (
                day if row["tracked"] else tracked_on,
                day if had_downtime(row["downtime_minutes"]) else down_on,
            )
            row["days_since_tracked"] = _since(day, latest[ride_id][0])
            row["days_since_down"] = _since(day, latest[ride_id][1])
        for ride_id in sorted(set(running) - present):
            zero = _ride_row(park_id, day, ride_id, None, None, bool(self.park["is_final"]))
            zero.update(zip(CUMULATIVE, running[ride_id], strict=True))
            tracked_on, down_on = latest.get(ride_id, (None, None))
            zero["days_since_tracked"] = _since(day, tracked_on)
            zero["days_since_down"] = _since(day, down_on)
            self.missing.append(zero)
        self.rides += self.missing
        return park_running

    def save(self, conn: Connection, park_id: int) -> None:
        """Write what changed of a later day."""
        if self.park != self.stored.get(id(self.park)):
            conn.execute(_UPDATE_PARK, [_bound(self.park, _PARK_CARRIED)])
        changed = [
            _bound(row, _RIDE_CARRIED)
            for row in self.rides
            if id(row) in self.stored and row != self.stored[id(row)]
        ]
        if changed:
            conn.execute(_UPDATE_RIDE, changed)
        if self.missing:
            conn.execute(insert(ride_daily_stats), self.missing)


#: What a later day's rows get again from the days before them.
_PARK_CARRIED = ("day_number", *PARK_CUMULATIVE, "cum_outages", *PEAK_LEVELS)
_RIDE_CARRIED = (*CUMULATIVE, "days_since_tracked", "days_since_down", *PEAK_LEVELS)
_UPDATE_PARK = (
    update(park_daily_stats)
    .where(_p.park_id == bindparam("b_park_id"), _p.stat_date == bindparam("b_stat_date"))
    .values({name: bindparam(name) for name in _PARK_CARRIED})
)
_UPDATE_RIDE = (
    update(ride_daily_stats)
    .where(
        _s.park_id == bindparam("b_park_id"),
        _s.stat_date == bindparam("b_stat_date"),
        _s.ride_id == bindparam("b_ride_id"),
    )
    .values({name: bindparam(name) for name in _RIDE_CARRIED})
)


def _bound(row: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    keys = {f"b_{key}": row[key] for key in ("park_id", "stat_date", "ride_id") if key in row}
    return {**keys, **{name: row[name] for name in names}}


def _later_days(conn: Connection, park_id: int, day: date) -> list[_Day]:
    """The park's days after `day` with their ride rows; usually none (today is the
    park's latest day) or one (the day after, which has begun). An archive of older
    polls imported into newer history pays for the days it precedes."""
    parks_after = conn.execute(_LATER_DAYS, {"park": park_id, "day": day}).mappings().all()
    if not parks_after:
        return []
    s = ride_daily_stats.c
    later = conn.execute(
        select(ride_daily_stats)
        .where(s.park_id == park_id, s.stat_date > day)
        .order_by(s.stat_date, s.ride_id)
    ).mappings()
    by_day: dict[date, list[dict[str, Any]]] = {}
    for found in later:
        by_day.setdefault(found["stat_date"], []).append(dict(found))
    return [_Day(dict(row), by_day.get(row["stat_date"], []), new=False) for row in parks_after]


def _with_maxima(conn: Connection, park_id: int, days: Sequence[_Day], first: int) -> None:
    """Each day's highest posted wait over the spans ending with it, from its own and
    those stored on the days a span back (`maxima.forward`)."""
    if not days:
        return
    numbers = list(range(first, first + len(days)))
    wanted = sorted(maxima.references(numbers, first))
    stored: dict[tuple[int, Any], Levels] = {}
    if wanted:
        # The park's rows first, then its rides' by date: joined, SQLite reads every day
        # of the park's rides to find the few wanted.
        numbered = {}
        for number, day, *values in conn.execute(
            _PARK_LEVELS, {"park": park_id, "numbers": wanted}
        ):
            numbered[day] = number
            stored[(number, None)] = [(value,) for value in values]
        if numbered:
            rows = conn.execute(_RIDE_LEVELS, {"park": park_id, "days": list(numbered)})
            for day, ride_id, *values in rows:
                stored[(numbered[day], ride_id)] = [(value,) for value in values]
    own = [
        {
            None: (found.park["peak_wait"],),
            **{row["ride_id"]: (row["peak_wait"],) for row in found.rides},
        }
        for found in days
    ]
    for found, levels in zip(days, maxima.forward(numbers, own, stored), strict=True):
        for row in (found.park, *found.rides):
            mine = levels[row.get("ride_id")][1:]
            row.update(zip(PEAK_LEVELS, (v[0] for v in mine), strict=True))


_numbers: Any = bindparam("numbers", expanding=True)
_PARK_LEVELS = select(
    _p.day_number, _p.stat_date, _p.peak_wait, *(_p[name] for name in PEAK_LEVELS)
).where(_p.park_id == _park, _p.day_number.in_(_numbers))
_RIDE_LEVELS = select(
    _s.stat_date, _s.ride_id, _s.peak_wait, *(_s[name] for name in PEAK_LEVELS)
).where(_s.park_id == _park, _s.stat_date.in_(bindparam("days", expanding=True)))


def _save_outages(conn: Connection, park_id: int, day: ParkDay) -> None:
    """The day's outages replace those stored for it, and the pools prepared from them go."""
    pools.forget(conn, park_id, day.day)
    conn.execute(
        delete(ride_outages).where(
            ride_outages.c.ride_id.in_(select(rides.c.id).where(rides.c.park_id == park_id)),
            outages.of_days(day.day, day.day),
        )
    )
    found = [
        {
            "ride_id": outage.ride_id,
            "started_at": outage.start,
            "park_date": day.day,
            "ended_at": outage.end,
            "minutes": outage.minutes,
            "park_wide": outage.park_wide,
            "censored": outage.censored,
        }
        for ride in day.rides.values()
        for outage in ride.outages
    ]
    if found:
        conn.execute(insert(ride_outages), found)


def _park_row(
    park_id: int,
    day: ParkDay,
    tiers: Mapping[int, int | None],
    final: bool,
    computed_at: datetime,
) -> dict[str, Any]:
    sums: Totals = total(ride_totals(ride, tiers.get(ride.ride_id)) for ride in day.rides.values())
    return {
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
        "outage_seconds": outages.pack_lengths(
            (outage.minutes, outage.park_wide)
            for ride in day.rides.values()
            for outage in ride.outages
            if outage.end is not None
        ),
        "is_final": final,
        "computed_at": computed_at,
        "scheduled": day.scheduled,
    }


def _save_park_rows(conn: Connection, row: dict[str, Any], day: ParkDay) -> int:
    """The park row and its operating session; returns the rows written. Upserts rather
    than a delete and an insert: a statement less for each row."""
    _upsert_day(conn, park_daily_stats, row)
    if day.session_start is None or day.session_end is None:
        _delete_day(conn, row["park_id"], day.day, (operating_sessions,))
        return 1
    session = {
        "park_id": row["park_id"],
        "park_date": day.day,
        "started_at": day.session_start,
        "ended_at": day.session_end,
        "operating_minutes": day.operating_minutes,
        "polls": day.polls,
        "active_polls": day.active_polls,
        "is_final": row["is_final"],
        "computed_at": row["computed_at"],
        "scheduled": day.scheduled,
        "observed_started_at": day.observed_start,
        "observed_ended_at": day.observed_end,
    }
    _upsert_day(conn, operating_sessions, session)
    return 2


def _upsert_day(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    key = ("park_id", _DAY[table].name)
    writes.upsert(conn, table, [row], key, [name for name in row if name not in key])


def _delete_day(conn: Connection, park_id: int, day: date, tables: Sequence[Table]) -> None:
    for table in tables:
        conn.execute(delete(table).where(table.c.park_id == park_id, _DAY[table] == day))
