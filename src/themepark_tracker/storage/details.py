"""What a park page and a ride page show beyond the rankings: catalogue facts, tiers,
operating sessions, daily series, a ride's history, flips and posted waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, or_, select

from themepark_tracker.sources.themeparks_wiki import ScheduledHours
from themepark_tracker.storage import queries, wiki
from themepark_tracker.storage.tables import (
    operating_sessions,
    park_daily_stats,
    parks,
    ride_daily_stats,
    rides,
    status_changes,
    wiki_parks,
    wiki_rides,
)


@dataclass(frozen=True)
class ParkInfo:
    id: int
    name: str
    operator: str
    country: str
    continent: str
    latitude: float
    longitude: float
    timezone: str
    is_active: bool
    open_now: bool | None
    live_at: datetime | None


def park_infos(conn: Connection, park_id: int | None = None) -> list[ParkInfo]:
    c = parks.c
    query = select(
        c.id,
        c.name,
        c.operator,
        c.country,
        c.continent,
        c.latitude,
        c.longitude,
        c.timezone,
        c.is_active,
        c.open_now,
        c.live_at,
    ).order_by(c.name, c.id)
    if park_id is not None:
        query = query.where(c.id == park_id)
    return [
        ParkInfo(*row[:8], bool(row.is_active), row.open_now, row.live_at)
        for row in conn.execute(query)
    ]


@dataclass(frozen=True)
class RideInfo:
    id: int
    park_id: int
    name: str
    land_name: str | None
    tier: int | None
    tier_source: str | None
    category: str | None
    current_state: str | None
    state_since: datetime | None
    live_status: str | None
    is_active: bool


def ride_info(conn: Connection, ride_id: int) -> RideInfo | None:
    c = rides.c
    row = conn.execute(
        select(
            c.id,
            c.park_id,
            c.name,
            c.land_name,
            c.tier,
            c.tier_source,
            c.category,
            c.current_state,
            c.state_since,
            c.live_status,
            c.is_active,
        ).where(c.id == ride_id)
    ).first()
    return None if row is None else RideInfo(*row[:10], bool(row.is_active))


def tier_distributions(conn: Connection) -> dict[int, dict[int | None, int]]:
    """Per park, its active rides by tier (None = unclassified), shows and the like
    excluded: one query for the whole catalogue."""
    query = (
        select(rides.c.park_id, rides.c.tier, func.count())
        .where(rides.c.is_active, or_(rides.c.category.is_(None), rides.c.category == "ride"))
        .group_by(rides.c.park_id, rides.c.tier)
    )
    found: dict[int, dict[int | None, int]] = {}
    for park_id, tier, count in conn.execute(query):
        found.setdefault(park_id, {})[tier] = int(count)
    return found


def tier_distribution(conn: Connection, park_id: int) -> dict[int | None, int]:
    """Active rides of a park by tier (None = unclassified), shows and the like excluded."""
    query = (
        select(rides.c.tier, func.count())
        .where(
            rides.c.park_id == park_id,
            rides.c.is_active,
            or_(rides.c.category.is_(None), rides.c.category == "ride"),
        )
        .group_by(rides.c.tier)
    )
    return {tier: int(n) for tier, n in conn.execute(query)}


@dataclass(frozen=True)
class SessionRow:
    park_date: date
    started_at: datetime
    ended_at: datetime
    operating_minutes: float
    is_final: bool
    scheduled: bool
    observed_started_at: datetime | None
    observed_ended_at: datetime | None
    published: tuple[ScheduledHours, ...] = ()


def sessions(conn: Connection, park_id: int, first: date, last: date) -> list[SessionRow]:
    """The park's sessions, each with the hours published for its day."""
    s = operating_sessions.c
    query = (
        select(
            s.park_date,
            s.started_at,
            s.ended_at,
            s.operating_minutes,
            s.is_final,
            s.scheduled,
            s.observed_started_at,
            s.observed_ended_at,
        )
        .where(s.park_id == park_id, s.park_date.between(first, last))
        .order_by(s.park_date)
    )
    found = conn.execute(query).all()
    published: dict[date, list[ScheduledHours]] = {}
    if found:
        for entry in wiki.schedule_of(conn, park_id, found[0].park_date, found[-1].park_date):
            published.setdefault(entry.day, []).append(entry)
    return [
        SessionRow(
            *row[:5],
            bool(row.scheduled),
            row.observed_started_at,
            row.observed_ended_at,
            tuple(published.get(row.park_date, ())),
        )
        for row in found
    ]


def is_paired(conn: Connection, park_id: int) -> bool:
    """Whether the park, or rides of it, are paired with ThemeParks.wiki (an imported
    archive pairs the rides from its answers): its answers are counted."""
    parks_paired = select(wiki_parks.c.park_id).where(wiki_parks.c.park_id == park_id)
    rides_paired = select(wiki_rides.c.park_id).where(wiki_rides.c.park_id == park_id)
    return conn.execute(parks_paired.union_all(rides_paired).limit(1)).first() is not None


@dataclass(frozen=True)
class RideDayRow:
    stat_date: date
    tier: int | None
    uptime_minutes: float
    downtime_minutes: float
    downtime_events: int
    longest_downtime_minutes: float
    avg_wait: float | None
    peak_wait: int | None
    is_final: bool


def ride_history(conn: Connection, ride_id: int, first: date, last: date) -> list[RideDayRow]:
    """The ride's tracked days: a day it never opened has no figures to show."""
    s = ride_daily_stats.c
    query = (
        select(
            s.stat_date,
            s.tier,
            s.uptime_minutes,
            s.downtime_minutes,
            s.downtime_events,
            s.longest_downtime_minutes,
            s.avg_wait,
            s.peak_wait,
            s.is_final,
        )
        .where(s.ride_id == ride_id, s.stat_date.between(first, last), s.tracked)
        .order_by(s.stat_date)
    )
    return [RideDayRow(*row) for row in conn.execute(query)]


@dataclass(frozen=True)
class Change:
    changed_at: datetime
    to_state: str
    previous_duration_seconds: int | None

    @property
    def from_state(self) -> str:
        """Only open/closed flips are recorded, so a change came from the other state."""
        return "open" if self.to_state == "closed" else "closed"

    @property
    def previous_duration_minutes(self) -> float | None:
        seconds = self.previous_duration_seconds
        return None if seconds is None else seconds / 60


def status_timeline(conn: Connection, ride_id: int, start: datetime, end: datetime) -> list[Change]:
    """A ride's open/closed flips in [start, end), e.g. one park day's bounds."""
    s = status_changes.c
    query = (
        select(s.changed_at, s.to_state, s.previous_duration_seconds)
        .where(s.ride_id == ride_id, s.changed_at >= start, s.changed_at < end)
        .order_by(s.changed_at)
    )
    return [Change(*row) for row in conn.execute(query)]


@dataclass(frozen=True)
class ParkDayRow:
    stat_date: date
    operating_minutes: float
    rides_tracked: int
    rides_with_downtime: int
    uptime_minutes: float
    downtime_minutes: float
    weighted_downtime_minutes: float
    weighted_total_minutes: float
    avg_wait: float | None
    peak_wait: int | None
    is_final: bool
    scheduled: bool


def park_days(conn: Connection, park_id: int, first: date, last: date) -> list[ParkDayRow]:
    s = park_daily_stats.c
    query = (
        select(
            s.stat_date,
            s.operating_minutes,
            s.rides_tracked,
            s.rides_with_downtime,
            s.uptime_minutes,
            s.downtime_minutes,
            s.weighted_downtime_minutes,
            s.weighted_total_minutes,
            s.avg_wait,
            s.peak_wait,
            s.is_final,
            s.scheduled,
        )
        .where(s.park_id == park_id, s.stat_date.between(first, last))
        .order_by(s.stat_date)
    )
    return [
        ParkDayRow(*row[:10], bool(row.is_final), bool(row.scheduled))
        for row in conn.execute(query)
    ]


def posted_waits(
    conn: Connection, park_id: int, ride_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, int]]:
    """The ride's posted waits in [start, end) while open, from the raw polls: those
    are kept until `cleanup`, so older days have none."""
    found = []
    for poll in queries.polls_between(conn, park_id, start, end):
        wait = poll.waits.get(ride_id)
        if poll.states.get(ride_id) == "open" and wait is not None:
            found.append((poll.at, wait))
    return found


def ride_downtime_by_day(
    conn: Connection, park_id: int, first: date, last: date
) -> dict[int, dict[date, float]]:
    """Per ride of the park, its downtime minutes on each day it ran in [first, last]."""
    s = ride_daily_stats.c
    query = select(s.ride_id, s.stat_date, s.downtime_minutes).where(
        s.park_id == park_id, s.stat_date.between(first, last), s.tracked
    )
    found: dict[int, dict[date, float]] = {}
    for ride_id, day, down in conn.execute(query):
        found.setdefault(ride_id, {})[day] = float(down)
    return found
