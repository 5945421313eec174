"""A park's day, the time each poll covers, and the operating session (docs/methodology.md).

Times are aware UTC datetimes; a day is cut in the park's own timezone. Subtract only
UTC times: a local subtraction across a DST change is off by an hour.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from themepark_tracker.engine.states import State, Status

DAY_START = time(4, 0)


@dataclass(frozen=True)
class DayRules:
    """The docs/methodology.md parameters of days, coverage and sessions."""

    day_start: time = DAY_START
    interval: timedelta = timedelta(minutes=10)
    bridge: timedelta = timedelta(minutes=120)
    park_wide_share: float = 0.5
    """An outage is park-wide when at least this share of the rides open earlier that
    day are closed at its start."""

    @property
    def max_gap(self) -> timedelta:
        return 2 * self.interval


@dataclass(frozen=True)
class Poll:
    """One stored poll of a park: its time, whether it was active, each ride's reading."""

    at: datetime
    active: bool
    states: Mapping[int, State] = field(default_factory=dict)
    waits: Mapping[int, int | None] = field(default_factory=dict)
    statuses: Mapping[int, Status] | None = None
    """The second source's statuses of the answer fetched within one interval of the
    poll (None: none was); a ride missing from it has no status."""


def with_statuses(
    polls: Sequence[Poll],
    answers: Sequence[tuple[datetime, Mapping[int, Status]]],
    within: timedelta,
) -> list[Poll]:
    """Each poll with the statuses of the answer fetched nearest it, if one was within
    `within` of it, whatever its `lastUpdated` (`answers` in time order)."""
    times = [at for at, _ in answers]
    found = []
    for poll in polls:
        index = bisect.bisect_left(times, poll.at)
        near = [k for k in (index - 1, index) if 0 <= k < len(times)]
        best = min(near, key=lambda k: abs(times[k] - poll.at), default=None)
        if best is None or abs(times[best] - poll.at) > within:
            found.append(poll)
        else:
            found.append(replace(poll, statuses=answers[best][1]))
    return found


Hours = tuple[tuple[datetime, datetime], ...]
"""A park day's published operating hours: UTC (opens, closes), sorted, not overlapping."""


def operating_hours(entries: Sequence[tuple[datetime, datetime]]) -> Hours:
    """The union of a day's published OPERATING entries (a split day keeps its gap)."""
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in sorted(entries):
        if closes <= opens:
            continue
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return tuple(merged)


def clip_to_hours(
    polls: Sequence[Poll], spans: Sequence[timedelta], hours: Hours
) -> list[timedelta]:
    """Each poll's coverage inside the published hours: a poll straddling the opening or
    the closing covers only its part inside them, one outside covers nothing."""
    clipped = []
    for poll, span in zip(polls, spans, strict=True):
        end = poll.at + span
        parts = (min(end, closes) - max(poll.at, opens) for opens, closes in hours)
        clipped.append(sum((part for part in parts if part > timedelta(0)), timedelta(0)))
    return clipped


def in_hours(at: datetime, hours: Hours) -> bool:
    return any(opens <= at < closes for opens, closes in hours)


def day_bounds(day: date, zone: ZoneInfo, rules: DayRules) -> tuple[datetime, datetime]:
    """The UTC instants where park day `day` starts and ends (23 or 25 h across DST)."""
    start = datetime.combine(day, rules.day_start, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), rules.day_start, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def park_day_of(at: datetime, zone: ZoneInfo, rules: DayRules) -> date:
    """The park day an instant belongs to: before `day_start` it is still yesterday."""
    local = at.astimezone(zone)
    return local.date() if local.time() >= rules.day_start else local.date() - timedelta(days=1)


def coverage(polls: Sequence[Poll], now: datetime, rules: DayRules) -> list[timedelta]:
    """Δ of each poll: up to the next poll, at most `max_gap`; the latest poll up to now,
    at most one interval. Time not covered is unknown."""
    result = []
    for index, poll in enumerate(polls):
        if index + 1 < len(polls):
            span = min(polls[index + 1].at - poll.at, rules.max_gap)
        else:
            span = min(now - poll.at, rules.interval)
        result.append(max(span, timedelta(0)))
    return result


@dataclass(frozen=True)
class Session:
    """The operating session of a park day: indexes into the day's polls, inclusive."""

    first: int
    last: int


def find_session(
    polls: Sequence[Poll], spans: Sequence[timedelta], rules: DayRules
) -> Session | None:
    """The run of active polls with the longest span; None when the park never operated.

    The next active poll joins the current run unless the park was *observed* inactive
    for more than `bridge` since the run's last active poll (Σ Δ of inactive polls):
    time with no poll at all does not break a run.
    """
    runs: list[Session] = []
    start: int | None = None
    last_active = -1
    inactive = timedelta(0)
    for index, poll in enumerate(polls):
        if poll.active:
            if start is not None and inactive > rules.bridge:
                runs.append(Session(start, last_active))
                start = None
            if start is None:
                start = index
            last_active = index
            inactive = timedelta(0)
        elif start is not None:
            inactive += spans[index]
    if start is not None:
        runs.append(Session(start, last_active))
    if not runs:
        return None
    return max(runs, key=lambda run: (polls[run.last].at - polls[run.first].at, -run.first))
