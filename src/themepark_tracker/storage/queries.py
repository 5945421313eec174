"""Reads: functions taking a Connection and returning plain data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, case, func, select

from themepark_tracker.catalogue import StoredPark
from themepark_tracker.engine.live import is_open_now, status_now
from themepark_tracker.engine.sessions import Poll
from themepark_tracker.engine.states import State, StateRules, is_counted
from themepark_tracker.ingest import StoredRide
from themepark_tracker.sources.queue_times import CataloguePark
from themepark_tracker.storage import ride_states
from themepark_tracker.storage.tables import (
    aggregation_log,
    closed_park_days,
    park_daily_stats,
    parks,
    polls,
    ride_snapshots,
    rides,
    stale_park_days,
)

#: docs/methodology.md's defaults, for reads that are not told the settings' rules.
DEFAULT_RULES = StateRules()


def stored_parks(conn: Connection) -> dict[int, StoredPark]:
    rows = conn.execute(select(parks)).mappings()
    return {
        row["id"]: StoredPark(
            park=CataloguePark(
                id=row["id"],
                name=row["name"],
                operator=row["operator"],
                operator_id=row["operator_id"],
                country=row["country"],
                continent=row["continent"],
                latitude=row["latitude"],
                longitude=row["longitude"],
                timezone=row["timezone"],
            ),
            is_active=bool(row["is_active"]),
        )
        for row in rows
    }


@dataclass(frozen=True)
class OperatorCount:
    operator: str
    active: int
    inactive: int


def park_counts_by_operator(conn: Connection) -> list[OperatorCount]:
    active = func.sum(case((parks.c.is_active, 1), else_=0))
    query = (
        select(parks.c.operator, active.label("active"), func.count().label("total"))
        .group_by(parks.c.operator)
        .order_by(active.desc(), parks.c.operator)
    )
    return [
        OperatorCount(row.operator, int(row.active), int(row.total) - int(row.active))
        for row in conn.execute(query)
    ]


def active_park_ids(conn: Connection) -> list[int]:
    return list(
        conn.execute(select(parks.c.id).where(parks.c.is_active).order_by(parks.c.id)).scalars()
    )


def catalogue_synced_at(conn: Connection) -> datetime | None:
    """When the catalogue last listed any park we track: its age decides a refresh."""
    return conn.execute(select(func.max(parks.c.last_seen_at))).scalar_one_or_none()


def stored_poll_keys(
    conn: Connection, keys: Sequence[tuple[int, datetime]]
) -> set[tuple[int, datetime]]:
    """Which of these (park, time) polls are stored already: one query for a batch."""
    if not keys:
        return set()
    times = [t for _, t in keys]
    query = select(polls.c.park_id, polls.c.polled_at).where(
        polls.c.park_id.in_({park_id for park_id, _ in keys}),
        polls.c.polled_at.between(min(times), max(times)),
    )
    wanted = set(keys)
    return {(row.park_id, row.polled_at) for row in conn.execute(query)} & wanted


def park_rides(conn: Connection, park_id: int) -> dict[int, StoredRide]:
    query = select(
        rides.c.id,
        rides.c.name,
        rides.c.land_id,
        rides.c.land_name,
        rides.c.category,
        rides.c.current_state,
        rides.c.state_since,
        rides.c.is_active,
        rides.c.last_seen_at,
    ).where(rides.c.park_id == park_id)
    return {
        row.id: StoredRide(
            row.id,
            row.name,
            row.land_id,
            row.land_name,
            row.category,
            row.current_state,
            row.state_since,
            bool(row.is_active),
            row.last_seen_at,
        )
        for row in conn.execute(query)
    }


def ride_parks(conn: Connection, ride_ids: Sequence[int]) -> dict[int, int]:
    """The park each of these rides is stored under, for those that are stored."""
    if not ride_ids:
        return {}
    query = select(rides.c.id, rides.c.park_id).where(rides.c.id.in_(ride_ids))
    return {ride_id: park_id for ride_id, park_id in conn.execute(query)}


def park_timezones(conn: Connection) -> dict[int, str]:
    return {row.id: row.timezone for row in conn.execute(select(parks.c.id, parks.c.timezone))}


#: Built once: a poll runs these for its park day, and building a statement costs a good
#: part of running it.
_DAY_POLLS = (
    select(polls.c.polled_at, polls.c.is_active, polls.c.ride_states)
    .where(
        polls.c.park_id == bindparam("park"),
        polls.c.polled_at >= bindparam("start", type_=polls.c.polled_at.type),
        polls.c.polled_at < bindparam("end", type_=polls.c.polled_at.type),
        polls.c.outcome == "ok",
    )
    .order_by(polls.c.polled_at)
)
_PARK_RIDES = select(
    rides.c.id, rides.c.name, rides.c.category, rides.c.tier, rides.c.live_status
).where(rides.c.park_id == bindparam("park"))


def polls_between(conn: Connection, park_id: int, start: datetime, end: datetime) -> list[Poll]:
    """The park's successful polls in [start, end) with every ride's state and wait,
    one row each (`ride_states`).

    Polls that read the same share what it decodes to (read-only maps): a park closed
    for the night repeats one reading for hours, and a day's recompute decodes it once.
    """
    found = conn.execute(_DAY_POLLS, {"park": park_id, "start": start, "end": end})
    decoded: dict[str | None, tuple[dict[int, State], dict[int, int | None]]] = {}
    result = []
    for polled_at, is_active, text in found:
        readings = decoded.get(text)
        if readings is None:
            readings = decoded[text] = ride_states.decode(text)
        result.append(Poll(polled_at, bool(is_active), *readings))
    return result


def first_poll_at_or_after(conn: Connection, park_id: int, at: datetime) -> datetime | None:
    query = select(func.min(polls.c.polled_at)).where(
        polls.c.park_id == park_id, polls.c.polled_at >= at, polls.c.outcome == "ok"
    )
    return conn.execute(query).scalar_one_or_none()


@dataclass(frozen=True)
class TiersAndLive:
    tiers: dict[int, int | None]
    """Tiers of the rides that count in downtime (not shows, not queue variants)."""
    live: dict[int, str | None]
    """Every ride's stored live status, so that a poll writes only those it changes."""


def tiers_and_live(conn: Connection, park_id: int, rules: StateRules) -> TiersAndLive:
    found = conn.execute(_PARK_RIDES, {"park": park_id}).all()
    return TiersAndLive(
        {row.id: row.tier for row in found if is_counted(row.name, row.category, rules)},
        {row.id: row.live_status for row in found},
    )


def poll_time_range(conn: Connection, park_id: int) -> tuple[datetime | None, datetime | None]:
    query = select(func.min(polls.c.polled_at), func.max(polls.c.polled_at)).where(
        polls.c.park_id == park_id
    )
    first, last = conn.execute(query).one()
    return first, last


@dataclass(frozen=True)
class DayMarks:
    """What is recorded of a park's days: final statistics, when each day was last
    aggregated successfully, which have polls not counted yet, which are closed."""

    final: set[date]
    provisional: set[date]
    aggregated: dict[date, datetime]
    stale: set[date]
    closed: set[date]

    def needs_aggregation(self, day: date) -> bool:
        if day in self.closed:
            return False
        if day in self.stale:
            return True
        if day in self.final:
            return False
        return day in self.provisional or day not in self.aggregated

    def is_final(self, day: date) -> bool:
        """Aggregated, and not reopened by a later poll of that day."""
        return (
            day in self.aggregated
            and day not in self.provisional
            and day not in self.stale
            and day not in self.closed
        )

    def final_since(self, day: date) -> datetime | None:
        return self.aggregated[day] if self.is_final(day) else None


def day_marks(conn: Connection, park_id: int, day: date | None = None) -> DayMarks:
    """The marks of the park's days, or of one `day`."""
    stats = select(park_daily_stats.c.stat_date, park_daily_stats.c.is_final).where(
        park_daily_stats.c.park_id == park_id
    )
    log = aggregation_log.c
    aggregated = (
        select(log.park_date, func.max(func.coalesce(log.finished_at, log.started_at)))
        .where(log.park_id == park_id, log.job == "aggregate", log.status == "success")
        .group_by(log.park_date)
    )
    stale = select(stale_park_days.c.park_date).where(stale_park_days.c.park_id == park_id)
    closed = select(closed_park_days.c.park_date).where(closed_park_days.c.park_id == park_id)
    if day is not None:
        stats = stats.where(park_daily_stats.c.stat_date == day)
        aggregated = aggregated.where(log.park_date == day)
        stale = stale.where(stale_park_days.c.park_date == day)
        closed = closed.where(closed_park_days.c.park_date == day)
    found = conn.execute(stats).all()
    return DayMarks(
        {row.stat_date for row in found if row.is_final},
        {row.stat_date for row in found if not row.is_final},
        {day: at for day, at in conn.execute(aggregated)},
        set(conn.execute(stale).scalars()),
        set(conn.execute(closed).scalars()),
    )


def stale_days(conn: Connection) -> list[tuple[int, date]]:
    """Every park day whose statistics must be recomputed, in order."""
    query = select(stale_park_days.c.park_id, stale_park_days.c.park_date).order_by(
        stale_park_days.c.park_id, stale_park_days.c.park_date
    )
    return [(park_id, day) for park_id, day in conn.execute(query)]


def stale_days_of(conn: Connection, park_id: int) -> list[date]:
    """The park's days whose statistics must be recomputed, in order."""
    c = stale_park_days.c
    query = select(c.park_date).where(c.park_id == park_id).order_by(c.park_date)
    return list(conn.execute(query).scalars())


def closed_days(
    conn: Connection, park_ids: Sequence[int], first: date, last: date
) -> set[tuple[int, date]]:
    """Which days of these parks between `first` and `last` are closed."""
    c = closed_park_days.c
    query = select(c.park_id, c.park_date).where(
        c.park_id.in_(park_ids), c.park_date.between(first, last)
    )
    return {(park_id, day) for park_id, day in conn.execute(query)}


def is_closed(conn: Connection, park_id: int, day: date) -> bool:
    c = closed_park_days.c
    query = select(c.park_id).where(c.park_id == park_id, c.park_date == day)
    return conn.execute(query).first() is not None


@dataclass(frozen=True)
class RideToClassify:
    id: int
    park_id: int
    name: str
    tier: int | None
    category: str | None
    tier_source: str | None
    tier_confidence: float | None


def rides_to_classify(conn: Connection) -> list[RideToClassify]:
    query = select(
        rides.c.id,
        rides.c.park_id,
        rides.c.name,
        rides.c.tier,
        rides.c.category,
        rides.c.tier_source,
        rides.c.tier_confidence,
    ).order_by(rides.c.park_id, rides.c.id)
    return [RideToClassify(*row) for row in conn.execute(query)]


#: Park id, open now, live at, ride id, name, category, live status.
_LiveRow = Row[int, Any, Any, Any, Any, Any, Any]


def _live_rows(conn: Connection, park_ids: Sequence[int] | None) -> Sequence[_LiveRow]:
    """Each active park's live status with its active rides' (a park without any: one
    row of None for the ride)."""
    query = (
        select(
            parks.c.id,
            parks.c.open_now,
            parks.c.live_at,
            rides.c.id,
            rides.c.name,
            rides.c.category,
            rides.c.live_status,
        )
        .select_from(parks.outerjoin(rides, (rides.c.park_id == parks.c.id) & rides.c.is_active))
        .where(parks.c.is_active)
    )
    if park_ids is not None:
        query = query.where(parks.c.id.in_(park_ids))
    return conn.execute(query).all()


@dataclass(frozen=True)
class LiveSummary:
    running: int
    down: int
    closed: int
    unknown: int
    parks_open: int
    parks: int


def live_summary(
    conn: Connection,
    now: datetime,
    max_age: timedelta,
    *,
    park_ids: Sequence[int] | None = None,
    rules: StateRules = DEFAULT_RULES,
) -> LiveSummary:
    """Counts by live status of the active rides that count (not shows, not queue
    variants) over active parks; a park whose live status is older than `max_age`
    counts all its rides as unknown and is not open."""
    counts = {"running": 0, "down": 0, "closed": 0, "unknown": 0}
    open_parks: set[int] = set()
    all_parks: set[int] = set()
    for park_id, open_now, live_at, ride_id, name, category, status in _live_rows(conn, park_ids):
        all_parks.add(park_id)
        if is_open_now(open_now, live_at, now, max_age):
            open_parks.add(park_id)
        if ride_id is not None and is_counted(name, category, rules):
            shown = status_now(status, live_at, now, max_age)
            shown = "closed" if shown == "refurbishment" else shown  # closed, for a reason
            counts[shown if shown in counts else "unknown"] += 1
    return LiveSummary(
        counts["running"],
        counts["down"],
        counts["closed"],
        counts["unknown"],
        len(open_parks),
        len(all_parks),
    )


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
