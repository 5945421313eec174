"""A ride's day and a park's day, from the park's polls of that day (docs/methodology.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from themepark_tracker.engine.outages import Outage, closed_runs, first_open_polls, park_wide_at
from themepark_tracker.engine.sessions import (
    DayRules,
    Hours,
    Poll,
    clip_to_hours,
    coverage,
    find_session,
    in_hours,
)
from themepark_tracker.engine.states import State, Status

#: Minutes (and waits times samples) are exact to this many decimals: period sums are
#: differences of running totals, which carry float noise far below a microsecond.
PLACES = 6


def minutes(value: Any) -> float:
    """A sum of minutes as shown and compared: rounded to `PLACES`."""
    return round(float(value or 0), PLACES)


def had_downtime(downtime_minutes: float) -> bool:
    """A ride had downtime on a day when its downtime, so rounded, is above 0; in a
    period when it had downtime on a day of it."""
    return minutes(downtime_minutes) > 0


@dataclass(frozen=True)
class RideDay:
    ride_id: int
    window_start: datetime
    window_end: datetime
    uptime_minutes: float
    downtime_minutes: float
    downtime_events: int
    """Its outages, the ongoing one included."""
    longest_downtime_minutes: float
    avg_wait: float | None
    peak_wait: int | None
    wait_samples: int
    outages: tuple[Outage, ...] = ()

    @property
    def uptime_pct(self) -> float | None:
        total = self.uptime_minutes + self.downtime_minutes
        return None if total == 0 else 100 * self.uptime_minutes / total


@dataclass(frozen=True)
class ParkDay:
    day: date
    session_start: datetime | None
    session_end: datetime | None
    operating_minutes: float
    polls: int
    active_polls: int
    running: bool
    """The session is still going on: the latest poll is fresh and, without published
    hours, active; with them, now is inside them."""
    rides: dict[int, RideDay]
    """Eligible rides only: those open in at least one poll of the session (or, with
    statuses, reported DOWN in one), none reported under refurbishment in it."""
    scheduled: bool = False
    """The session is the park's published hours, not inferred from its polls."""
    observed_start: datetime | None = None
    observed_end: datetime | None = None
    """The run of active polls (the session the day would have without published hours)."""
    disagreements: dict[int, int] = field(default_factory=dict)
    """Per ride, the polls of the session where the two sources disagreed on open or
    closed (rides without any are left out)."""

    @property
    def rides_with_downtime(self) -> int:
        return sum(1 for ride in self.rides.values() if had_downtime(ride.downtime_minutes))


def compute_park_day(
    day: date,
    polls: Sequence[Poll],
    *,
    now: datetime,
    rules: DayRules,
    counted: Iterable[int] | None = None,
    next_poll_at: datetime | None = None,
    hours: Hours | None = None,
) -> ParkDay:
    """Everything docs/methodology.md derives from one park day's polls (sorted by time).

    `counted` limits the rides to those counted in downtime (not shows, not queue
    variants); `next_poll_at` is the park's first poll after the day, which bounds the
    coverage of the day's last poll; `hours` are the day's published operating hours
    when known (an empty tuple: published closed), which then are its session.
    """
    spans = _spans(polls, now, rules, next_poll_at)
    observed = find_session(polls, spans, rules)
    active = sum(1 for poll in polls if poll.active)
    seen_start = polls[observed.first].at if observed else None
    seen_end = polls[observed.last].at if observed else None
    fresh = bool(polls) and now - polls[-1].at <= rules.max_gap
    if hours is None:
        if observed is None:
            return ParkDay(day, None, None, 0.0, len(polls), active, False, {})
        first, last = observed.first, observed.last
        running = last == len(polls) - 1 and polls[-1].active and fresh
        start, end = seen_start, seen_end
        closes = polls[last].at + spans[last]
        operated = True
    else:
        spans = clip_to_hours(polls, spans, hours)
        inside = [i for i, poll in enumerate(polls) if spans[i] or in_hours(poll.at, hours)]
        scheduled = ParkDay(
            day, None, None, 0.0, len(polls), active, False, {}, True, seen_start, seen_end
        )
        if not hours:
            return scheduled
        start, closes = hours[0][0], hours[-1][1]
        running = fresh and in_hours(now, hours)
        if not inside:
            return replace(scheduled, session_start=start, session_end=closes, running=running)
        first, last = inside[0], inside[-1]
        end = closes
        # A poll between two published stretches (a split day) says nothing of them.
        gap = set(range(first, last + 1)) - set(inside)
        if gap:
            polls = [Poll(poll.at, False) if i in gap else poll for i, poll in enumerate(polls)]
        operated = any(poll.active for poll in polls[first : last + 1])
    inside_polls = polls[first : last + 1]
    # Whole microseconds, as timedelta keeps them: integer sums are exact and cheaper.
    micros = [span // _MICROSECOND for span in spans[first : last + 1]]
    times = [poll.at for poll in inside_polls]
    readings = [poll.states for poll in polls]
    seen = set().union(*(poll.states for poll in inside_polls))
    candidates = sorted(seen if counted is None else seen.intersection(counted))
    opened = first_open_polls(readings, candidates)
    running = running and last == len(polls) - 1

    def park_wide(index: int) -> bool:
        return park_wide_at(readings, first + index, rules.park_wide_share, opened)

    rides: dict[int, RideDay] = {}
    disagreements: dict[int, int] = {}
    for ride_id in candidates:
        # A ride's readings over the session as one column: a day is read ride by ride.
        column = _Column.of(ride_id, inside_polls)
        if column.disagreements:
            disagreements[ride_id] = column.disagreements
        if operated and column.eligible:
            waits = [poll.waits.get(ride_id) for poll in inside_polls]
            rides[ride_id] = _ride_day(
                ride_id, column, waits, times, micros, running, park_wide, closes
            )
    operating = sum(spans[first : last + 1], timedelta(0)) if operated else timedelta(0)
    return ParkDay(
        day,
        start,
        end,
        _minutes(operating),
        len(polls),
        active,
        running,
        rides,
        hours is not None,
        seen_start,
        seen_end,
        disagreements,
    )


def _spans(
    polls: Sequence[Poll], now: datetime, rules: DayRules, next_poll_at: datetime | None
) -> list[timedelta]:
    spans = coverage(polls, now, rules)
    if polls and next_poll_at is not None:
        spans[-1] = min(next_poll_at - polls[-1].at, rules.max_gap)
    return spans


@dataclass(frozen=True)
class _Column:
    """One ride's readings over the session, with what its statuses make of them."""

    states: list[State]
    statuses: list[Status | None]
    disagreements: int

    @classmethod
    def of(cls, ride_id: int, polls: Sequence[Poll]) -> _Column:
        states: list[State] = [poll.states.get(ride_id, "unknown") for poll in polls]
        statuses: list[Status | None] = [
            poll.statuses.get(ride_id) if poll.statuses else None for poll in polls
        ]
        disagreements = 0
        for index, status in enumerate(statuses):
            state = states[index]
            if status is not None and state != "unknown":
                if (state == "open") != (status == "OPERATING"):
                    # The sources disagree on open or closed: neither is taken.
                    states[index] = "unknown"
                    disagreements += 1
        return cls(states, statuses, disagreements)

    @property
    def eligible(self) -> bool:
        return "REFURBISHMENT" not in self.statuses and (
            "open" in self.states or "DOWN" in self.statuses
        )

    def counted_span(self, running: bool) -> tuple[int, int]:
        """The first and last poll whose closures count: its first and last open poll,
        or poll reported DOWN; while the session runs, up to a closure going on now."""
        anchors = [
            index
            for index, state in enumerate(self.states)
            if state == "open" or self.statuses[index] == "DOWN"
        ]
        last = anchors[-1]
        if running and self.states[-1] == "closed":
            # An ongoing closure counts provisionally; it drops out if the ride never reopens.
            last = len(self.states) - 1
        return anchors[0], last


def _ride_day(
    ride_id: int,
    column: _Column,
    waits: Sequence[int | None],
    times: Sequence[datetime],
    micros: Sequence[int],
    running: bool,
    park_wide: Callable[[int], bool],
    closes: datetime,
) -> RideDay:
    states = column.states
    first, last = column.counted_span(running)
    up = down = longest = run = 0
    posted: list[int] = []
    for index in range(first, last + 1):
        state = states[index]
        span = micros[index]
        if state == "open":
            up += span
            wait = waits[index]
            if wait is not None and wait > 0:
                posted.append(wait)
            run = 0
        elif state == "closed":
            down += span
            run += span
            longest = max(longest, run)
        else:
            run = 0
    outages = tuple(
        Outage(
            ride_id,
            times[start],
            # Not reopened by the end: going on while the session runs, else down to the
            # close (reported DOWN to the end, or the span would have ended before it).
            times[end] if end is not None else (None if running else closes),
            _micros_to_minutes(
                sum(
                    micros[i]
                    for i in range(start, last + 1 if end is None else end)
                    if states[i] == "closed"
                )
            ),
            park_wide(start),
            censored=end is None and not running,
        )
        for start, end in closed_runs(states, first, last)
    )
    return RideDay(
        ride_id,
        times[first],
        times[last],
        _micros_to_minutes(up),
        _micros_to_minutes(down),
        len(outages),
        _micros_to_minutes(longest),
        sum(posted) / len(posted) if posted else None,
        max(posted) if posted else None,
        len(posted),
        outages,
    )


_MICROSECOND = timedelta(microseconds=1)


def _micros_to_minutes(micros: int) -> float:
    """Whole microseconds as minutes, as `timedelta.total_seconds() / 60` gives them."""
    return micros / 1_000_000 / 60


def _minutes(span: timedelta) -> float:
    return _micros_to_minutes(span // _MICROSECOND)
