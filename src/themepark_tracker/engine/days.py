"""A ride's day and a park's day, from the park's polls of that day (docs/methodology.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from themepark_tracker.engine.outages import Outage, closed_runs, first_open_polls, park_wide_at
from themepark_tracker.engine.sessions import DayRules, Poll, coverage, find_session
from themepark_tracker.engine.states import State

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
    """The session is still going on: the latest poll is active and fresh."""
    rides: dict[int, RideDay]
    """Eligible rides only: those open in at least one poll of the session."""

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
) -> ParkDay:
    """Everything docs/methodology.md derives from one park day's polls (sorted by time).

    `counted` limits the rides to those counted in downtime (not shows, not queue
    variants); `next_poll_at` is the park's first poll after the day, which bounds the
    coverage of the day's last poll.
    """
    spans = _spans(polls, now, rules, next_poll_at)
    session = find_session(polls, spans, rules)
    active = sum(1 for poll in polls if poll.active)
    if session is None:
        return ParkDay(day, None, None, 0.0, len(polls), active, False, {})
    latest = polls[-1]
    running = session.last == len(polls) - 1 and latest.active and now - latest.at <= rules.max_gap
    inside = polls[session.first : session.last + 1]
    seen = set().union(*(poll.states for poll in inside))
    candidates = sorted(seen if counted is None else seen.intersection(counted))
    # Whole microseconds, as timedelta keeps them: integer sums are exact and cheaper.
    micros = [span // _MICROSECOND for span in spans[session.first : session.last + 1]]
    times = [poll.at for poll in inside]
    readings = [poll.states for poll in polls]
    opened = first_open_polls(readings, candidates)

    def park_wide(index: int) -> bool:
        return park_wide_at(readings, session.first + index, rules.park_wide_share, opened)

    rides: dict[int, RideDay] = {}
    for ride_id in candidates:
        # A ride's readings over the session as one column: a day is read ride by ride.
        states = [poll.states.get(ride_id, "unknown") for poll in inside]
        if "open" in states:
            waits = [poll.waits.get(ride_id) for poll in inside]
            rides[ride_id] = _ride_day(ride_id, states, waits, times, micros, running, park_wide)
    operating = sum(spans[session.first : session.last + 1], timedelta(0))
    return ParkDay(
        day,
        polls[session.first].at,
        polls[session.last].at,
        _minutes(operating),
        len(polls),
        active,
        running,
        rides,
    )


def _spans(
    polls: Sequence[Poll], now: datetime, rules: DayRules, next_poll_at: datetime | None
) -> list[timedelta]:
    spans = coverage(polls, now, rules)
    if polls and next_poll_at is not None:
        spans[-1] = min(next_poll_at - polls[-1].at, rules.max_gap)
    return spans


def _ride_day(
    ride_id: int,
    states: Sequence[State],
    waits: Sequence[int | None],
    times: Sequence[datetime],
    micros: Sequence[int],
    running: bool,
    park_wide: Callable[[int], bool],
) -> RideDay:
    first = states.index("open")
    last = len(states) - 1 - states[::-1].index("open")
    if running and states[-1] == "closed":
        # An ongoing closure counts provisionally; it drops out if the ride never reopens.
        last = len(states) - 1
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
            None if end is None else times[end],
            _micros_to_minutes(
                sum(
                    micros[i]
                    for i in range(start, last + 1 if end is None else end)
                    if states[i] == "closed"
                )
            ),
            park_wide(start),
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
