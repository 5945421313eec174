"""Finalising completed park days, and deleting raw polls once their day is final.

Each park's days are cut in its own timezone. Both jobs are idempotent, catch up
whatever was missed, and work one park day per transaction, logged in aggregation_log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from themepark_tracker.config import Settings
from themepark_tracker.engine.recovery import pool_window
from themepark_tracker.engine.sessions import DayRules, day_bounds, park_day_of
from themepark_tracker.jobs.daily_stats import StatsRules, refresh_park_day
from themepark_tracker.storage import pools, queries, wiki, writes
from themepark_tracker.storage.db import transaction, writing

log = logging.getLogger(__name__)


@dataclass
class JobReport:
    days: int = 0
    failures: int = 0
    rows: int = 0
    pools: int = 0
    """Recovery pools prepared."""
    duration_seconds: float = 0.0


def completed_days(
    first_poll: datetime, last_poll: datetime, zone: ZoneInfo, now: datetime, rules: DayRules
) -> Iterator[date]:
    """Park days with polls that are over: their end plus `max_gap` has passed."""
    day = park_day_of(first_poll, zone, rules)
    last = park_day_of(last_poll, zone, rules)
    while day <= last:
        if day_bounds(day, zone, rules)[1] + rules.max_gap > now:
            return
        yield day
        day += timedelta(days=1)


def job_clock(now: datetime) -> Callable[[], datetime]:
    """The job's time: `now` when it starts, moving on with the monotonic clock. The log's
    times then agree with the clock the job was given (cleanup compares them with it),
    and its durations are real."""
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def _park_days(
    engine: Engine, rules: DayRules, until: datetime
) -> Iterator[tuple[int, ZoneInfo, date, queries.DayMarks]]:
    """Every park's completed days up to `until`, with what is recorded of them."""
    with engine.connect() as conn:
        zones = queries.park_timezones(conn)
    for park_id, zone_name in sorted(zones.items()):
        zone = ZoneInfo(zone_name)
        with engine.connect() as conn:
            first, last = queries.poll_time_range(conn, park_id)
            marks = queries.day_marks(conn, park_id)
        if first is None or last is None:
            continue
        for day in completed_days(first, last, zone, until, rules):
            yield park_id, zone, day, marks


def aggregate(engine: Engine, settings: Settings, now: datetime) -> JobReport:
    """Finalise every completed park day that is not final yet."""
    started = time.monotonic()
    report = JobReport()
    rules = StatsRules(settings.state_rules(), settings.day_rules())
    clock = job_clock(now)
    for park_id, zone, day, marks in _park_days(engine, rules.days, now):
        if not marks.needs_aggregation(day):
            continue
        report.days += 1
        began = clock()
        finalise = partial(
            _finalise, park_id=park_id, zone=zone, day=day, now=now, rules=rules, clock=clock
        )
        try:
            report.rows += transaction(engine, finalise)
        except Exception as exc:  # one bad park day must not stop the others
            report.failures += 1
            log.exception("aggregation failed", extra={"park_id": park_id, "day": str(day)})
            with writing(engine) as conn:
                _log(conn, park_id, day, "aggregate", (began, clock()), 0, error=str(exc)[:2000])
    with engine.connect() as conn:
        zones = queries.park_timezones(conn)
    prepare = partial(_prepare_pools, zones=zones, settings=settings, now=now)
    report.pools = transaction(engine, prepare)
    report.duration_seconds = time.monotonic() - started
    log.info(
        "aggregation finished",
        extra={
            "days": report.days,
            "failures": report.failures,
            "rows": report.rows,
            "pools_prepared": report.pools,
            "duration_seconds": round(report.duration_seconds, 3),
        },
    )
    return report


def cleanup(engine: Engine, settings: Settings, now: datetime) -> JobReport:
    """Delete the polls and snapshots of park days final for the retention or longer,
    and close those days; nothing else.

    A day is final since its last successful aggregation (a poll stored later reopens it,
    and the next aggregation finalises it again). Each day is decided again under the
    park's lock, in the transaction that deletes its polls: an import storing into it
    meanwhile keeps it open. Once closed, a day's statistics are never recomputed (a
    poll arriving for it is refused as late). The day's ThemeParks.wiki live answers go
    with its polls. Status changes and daily statistics are permanent.
    """
    started = time.monotonic()
    report = JobReport()
    rules = settings.day_rules()
    until = now - timedelta(hours=settings.retention_hours)
    clock = job_clock(now)
    for park_id, zone, day, marks in _park_days(engine, rules, now):
        final_since = marks.final_since(day)
        if final_since is None or final_since > until:
            continue
        bounds = day_bounds(day, zone, rules)
        close = partial(_close, park_id=park_id, day=day, bounds=bounds, until=until, clock=clock)
        deleted = transaction(engine, close)
        if deleted:
            report.days += 1
            report.rows += deleted
    report.duration_seconds = time.monotonic() - started
    log.info(
        "cleanup finished",
        extra={
            "days": report.days,
            "polls_deleted": report.rows,
            "duration_seconds": round(report.duration_seconds, 3),
        },
    )
    return report


def _prepare_pools(
    conn: Connection, *, zones: dict[int, str], settings: Settings, now: datetime
) -> int:
    """Each park's recovery pools over the park days before its today, the window a
    recovery estimate asked now uses. The parks are locked first, as a writer of their
    days locks them: a day written meanwhile either lands before the pools are read, or
    waits and then forgets the pools it changes."""
    writes.lock_parks(conn, zones)
    rules = settings.day_rules()
    windows = {}
    for park_id, zone_name in zones.items():
        today = park_day_of(now, ZoneInfo(zone_name), rules)
        windows[park_id] = pool_window(today, settings.recovery_window_days)
    return pools.prepare(conn, windows, now)


def _finalise(
    conn: Connection,
    *,
    park_id: int,
    zone: ZoneInfo,
    day: date,
    now: datetime,
    rules: StatsRules,
    clock: Callable[[], datetime],
) -> int:
    began = clock()
    rows = refresh_park_day(conn, park_id, zone, day, now=now, rules=rules, final=True)
    _log(conn, park_id, day, "aggregate", (began, clock()), rows)
    return rows


def _close(
    conn: Connection,
    *,
    park_id: int,
    day: date,
    bounds: tuple[datetime, datetime],
    until: datetime,
    clock: Callable[[], datetime],
) -> int:
    """Delete the day's polls and close it, if it is still final since `until` now that
    the park is locked."""
    began = clock()
    writes.lock_parks(conn, [park_id])
    since = queries.day_marks(conn, park_id, day).final_since(day)
    if since is None or since > until:
        return 0
    deleted = writes.delete_polls(conn, park_id, *bounds)
    wiki.delete_live(conn, park_id, *bounds)  # the statuses of those polls
    if deleted:
        writes.close_day(conn, park_id, day, clock())
        _log(conn, park_id, day, "cleanup", (began, clock()), deleted)
    return deleted


def _log(
    conn: Connection,
    park_id: int,
    day: date,
    job: str,
    times: tuple[datetime, datetime],
    rows: int,
    error: str | None = None,
) -> None:
    writes.log_aggregation(
        conn,
        park_id=park_id,
        park_date=day,
        job=job,
        status="failure" if error else "success",
        started_at=times[0],
        finished_at=times[1],
        rows_written=rows,
        error=error,
    )
