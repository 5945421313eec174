"""Storing what ThemeParks.wiki answered, one path for the collector and the importer.

A live answer becomes the statuses of the park's paired rides at its fetch time; a park
with no ride pairs stored yet (an archive replayed into a new database) is paired from
the names and ids in the answer itself. A schedule replaces the published hours of the
park days it covers that are not over yet.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from themepark_tracker.engine.states import Status
from themepark_tracker.jobs.wiki_map import log_changes
from themepark_tracker.sources.themeparks_wiki import parse_live, parse_schedule
from themepark_tracker.storage import wiki, writes
from themepark_tracker.wiki_mapping import Overrides, WikiRide, match_rides

log = logging.getLogger(__name__)

#: Days a schedule answer covers: today and the next 30 (the API's own span).
SCHEDULE_DAYS = 30


def store_live(
    conn: Connection,
    park_id: int,
    fetched_at: datetime,
    document: Any,
    overrides: Overrides,
    day: date,
    now: datetime,
) -> bool:
    """Store a live answer's statuses; False when that fetch is stored already. A new
    one marks its park day `day` for a recompute: statuses change the figures of the
    polls they go with, whether those were stored before or after it."""
    live, problems = parse_live(document)
    for problem in problems[:5]:
        log.warning(
            "ThemeParks.wiki live entry not read",
            extra={"park_id": park_id, "problem": str(problem)},
        )
    by_entity = wiki.rides_by_entity(conn, park_id)
    if not by_entity:
        rides = wiki.rides_of(conn, [park_id]).get(park_id, [])
        entities = [WikiRide(entry.id, entry.name, entry.entity_type) for entry in live]
        pairs = match_rides(rides, entities, overrides)
        log_changes(wiki.save_rides(conn, park_id, pairs, fetched_at))
        by_entity = wiki.rides_by_entity(conn, park_id)
    statuses: dict[int, Status] = {
        ride: entry.status
        for entry in live
        if entry.status is not None
        for ride in by_entity.get(entry.id, [])
    }
    stored = wiki.save_live(conn, park_id, fetched_at, statuses)
    if stored:
        writes.mark_stale(conn, [(park_id, day)], now)
    return stored


def store_schedule(
    conn: Connection,
    park_id: int,
    fetched_at: datetime,
    document: Any,
    zone: ZoneInfo,
    current_day: date,
    now: datetime,
) -> int:
    """Store a schedule answer: the park's local dates from the one it was fetched on
    (the API's dates, not park days: at 02:00 the park day of the date before is still
    running, and the answer no longer lists it) through the next 30. An answer nothing
    could be read from changes nothing. The park days up to `current_day` whose hours
    changed are marked for a recompute. Returns the days whose hours changed."""
    hours, problems = parse_schedule(document)
    for problem in problems[:5]:
        log.warning(
            "ThemeParks.wiki schedule entry not read",
            extra={"park_id": park_id, "problem": str(problem)},
        )
    if problems and not hours:
        return 0
    wiki.schedule_fetched(conn, park_id, fetched_at)
    today = fetched_at.astimezone(zone).date()
    covered = (today, today + timedelta(days=SCHEDULE_DAYS))
    changed = wiki.save_schedule(conn, park_id, fetched_at, hours, covered)
    # Published hours decide the session: a day already begun is counted again.
    begun = [(park_id, day) for day in changed if day <= current_day]
    if begun:
        writes.mark_stale(conn, begun, now)
    return len(changed)
