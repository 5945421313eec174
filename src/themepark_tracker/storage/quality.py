"""What a park's days were counted from: polls and the answers of each source, the
disagreements between them, stale readings and invalid waits (`/api/parks/{id}/data-quality`).

Counted per park day (from `day_start` local to the next), from the raw rows: a page
covers at most `MAX_DAYS` days, a few thousand polls."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from themepark_tracker.engine.sessions import DayRules, day_bounds, park_day_of
from themepark_tracker.storage import ride_states
from themepark_tracker.storage.tables import (
    data_quality_issues,
    park_daily_stats,
    polls,
    ride_daily_stats,
    wiki_live,
)

#: The longest span one answer covers.
MAX_DAYS = 31
#: Issues of a posted wait that was refused (docs/methodology.md, "A ride's state").
INVALID_WAITS = ("wait_not_a_number", "wait_negative", "wait_too_long")


@dataclass
class DayQuality:
    day: date
    polls: int = 0
    """Queue-Times fetches of the day, failed ones included."""
    answered: Counter[str] = field(default_factory=Counter)
    """Answers read, by source: `queue_times` (successful polls), `themeparks_wiki`."""
    scheduled: bool | None = None
    """Counted with published hours; None: the day has no figures."""
    disagreements: int = 0
    stale_readings: int = 0
    """Ride readings of successful polls that were unknown (open, but not refreshed
    within `stale_after`)."""
    invalid_waits: int = 0


def park_quality(
    conn: Connection, park_id: int, zone: ZoneInfo, first: date, last: date, rules: DayRules
) -> list[DayQuality]:
    """Each of the park's days `first` to `last`, in order."""
    start, end = day_bounds(first, zone, rules)[0], day_bounds(last, zone, rules)[1]
    days = {d: DayQuality(d) for d in _dates(first, last)}

    def of(at: datetime) -> DayQuality | None:
        return days.get(park_day_of(at, zone, rules))

    p = polls.c
    unknown: dict[str | None, int] = {}
    query = select(p.polled_at, p.outcome, p.ride_states).where(
        p.park_id == park_id, p.polled_at >= start, p.polled_at < end
    )
    for polled_at, outcome, text in conn.execute(query):
        found = of(polled_at)
        if found is None:
            continue
        found.polls += 1
        if outcome == "ok":
            found.answered["queue_times"] += 1
            if text not in unknown:
                states = ride_states.decode(text)[0]
                unknown[text] = sum(1 for state in states.values() if state == "unknown")
            found.stale_readings += unknown[text]
    w = wiki_live.c
    answers = select(w.fetched_at).where(
        w.park_id == park_id, w.fetched_at >= start, w.fetched_at < end
    )
    for (fetched_at,) in conn.execute(answers):
        if (found := of(fetched_at)) is not None:
            found.answered["themeparks_wiki"] += 1
    i = data_quality_issues.c
    issues = select(i.observed_at).where(
        i.park_id == park_id,
        i.observed_at >= start,
        i.observed_at < end,
        i.issue_type.in_(INVALID_WAITS),
    )
    for (observed_at,) in conn.execute(issues):
        if (found := of(observed_at)) is not None:
            found.invalid_waits += 1
    s, d = park_daily_stats.c, ride_daily_stats.c
    flags = select(s.stat_date, s.scheduled).where(
        s.park_id == park_id, s.stat_date.between(first, last)
    )
    for day, scheduled in conn.execute(flags):
        days[day].scheduled = bool(scheduled)
    disagreed = (
        select(d.stat_date, func.sum(d.disagreements))
        .where(d.park_id == park_id, d.stat_date.between(first, last))
        .group_by(d.stat_date)
    )
    for day, count in conn.execute(disagreed):
        days[day].disagreements = int(count or 0)
    return list(days.values())


def _dates(first: date, last: date) -> list[date]:
    return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]
