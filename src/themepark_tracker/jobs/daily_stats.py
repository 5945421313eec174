"""A park day's statistics, recomputed from its stored polls through the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from themepark_tracker.engine.days import ParkDay, compute_park_day
from themepark_tracker.engine.events import day_events
from themepark_tracker.engine.live import live_status
from themepark_tracker.engine.sessions import DayRules, Hours, Poll, day_bounds, park_day_of
from themepark_tracker.engine.states import StateRules
from themepark_tracker.storage import events, park_days, queries, wiki, writes


@dataclass(frozen=True)
class StatsRules:
    states: StateRules
    days: DayRules


def refresh_park_day(
    conn: Connection,
    park_id: int,
    zone: ZoneInfo,
    day: date,
    *,
    now: datetime,
    rules: StatsRules,
    final: bool = False,
) -> int:
    """Recompute one park day from its polls and replace its rows; returns rows written.

    The park is locked first (`writes.lock_parks`): the collector's today and
    `aggregate`'s yesterday may be written at the same time. The day's stale mark is
    cleared with the figures; a closed day (its polls deleted) is left as it is, since
    whatever polls it has now are not all it had.

    When the day is the park's current day, its live status is refreshed too, with the
    ThemeParks.wiki statuses fetched within one interval of its latest poll. The cost is
    bounded by one day of one park's polls, whatever the history.
    """
    writes.lock_parks(conn, [park_id], changing=True)
    writes.clear_stale(conn, park_id, day)
    if queries.is_closed(conn, park_id, day):
        return 0
    computed = _computed(conn, park_id, zone, day, now, rules)
    polls, known, park_day = computed.polls, computed.known, computed.day
    written = park_days.save_park_day(
        conn, park_id, park_day, known.tiers, final=final, computed_at=now
    )
    # Only a park with statuses can have a refurbishment running on from the day before.
    with_statuses = any(poll.statuses is not None for poll in polls)
    found = day_events(
        park_id,
        park_day,
        polls,
        now=now,
        day_end=computed.end,
        rules=rules.days,
        hours=computed.hours,
        statuses_before=wiki.statuses_before(conn, park_id, computed.start)
        if with_statuses
        else None,
    )
    events.save_day(conn, park_id, day, found, now)
    if day == park_day_of(now, zone, rules.days):
        _save_live(conn, park_id, polls, known, park_day, now, rules)
    return written


@dataclass(frozen=True)
class _Computed:
    polls: list[Poll]
    known: queries.TiersAndLive
    hours: Hours | None
    day: ParkDay
    start: datetime
    end: datetime


def _computed(
    conn: Connection, park_id: int, zone: ZoneInfo, day: date, now: datetime, rules: StatsRules
) -> _Computed:
    """The day's polls, what is stored of the park's rides, its published hours, and the
    day they make."""
    start, end = day_bounds(day, zone, rules.days)
    polls = wiki.statuses_of(
        conn, park_id, queries.polls_between(conn, park_id, start, end), rules.days.interval
    )
    known = queries.tiers_and_live(conn, park_id, rules.states)
    # A day that has not ended has no poll after it yet (polls are stamped by the clock
    # that gives `now`): a query less on every poll. `aggregate` looks, once it has.
    after = queries.first_poll_at_or_after(conn, park_id, end) if end <= now else None
    hours = wiki.hours_of(conn, park_id, day)
    park_day = compute_park_day(
        day,
        polls,
        now=now,
        rules=rules.days,
        counted=known.tiers,
        next_poll_at=after,
        hours=hours,
    )
    return _Computed(polls, known, hours, park_day, start, end)


def _save_live(
    conn: Connection,
    park_id: int,
    polls: list[Poll],
    known: queries.TiersAndLive,
    park_day: ParkDay,
    now: datetime,
    rules: StatsRules,
) -> None:
    latest = polls[-1] if polls else None
    ride_ids = set(known.tiers) | (set(latest.states) if latest else set())
    statuses = latest.statuses if latest else None
    live = live_status(park_day, latest, ride_ids, now, rules.days, statuses)
    writes.save_live(conn, park_id, live, known.live)
