"""A ride's state in one poll, and whether the park is operating in it (docs/methodology.md).

Pure functions on plain data: the collector and the importer call them on every ride of
every poll, and every later number is built on what they decide.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

State = Literal["open", "closed", "unknown"]
#: A ride's status from the second source (ThemeParks.wiki): why a closed ride is closed.
Status = Literal["OPERATING", "DOWN", "CLOSED", "REFURBISHMENT"]
STATUSES: tuple[Status, ...] = ("OPERATING", "DOWN", "CLOSED", "REFURBISHMENT")
NOT_RIDES = frozenset({"show", "meet_greet", "parade", "other"})


@dataclass(frozen=True)
class StateRules:
    """The parameters that decide states, with the defaults docs/methodology.md gives."""

    max_valid_wait: int = 360
    stale_after: timedelta = timedelta(minutes=60)
    min_active_rides: int = 2
    active_fresh_after: timedelta = timedelta(minutes=20)
    exclude_ride_patterns: tuple[str, ...] = ("single rider",)

    def excludes(self, name: str) -> bool:
        """Secondary queues ("… Single Rider") are listed as rides but are not rides."""
        return _matches(self.exclude_ride_patterns, name)


@functools.lru_cache(maxsize=8192)
def _matches(patterns: tuple[str, ...], name: str) -> bool:
    """Remembered: every poll of a park asks again about the same few hundred names."""
    return any(re.search(pattern, name, flags=re.IGNORECASE) for pattern in patterns)


@dataclass(frozen=True)
class WaitCheck:
    """A posted wait after validation; `problem` names why the raw value was refused."""

    minutes: int | None
    problem: str | None


def check_wait(raw: Any, max_valid_wait: int) -> WaitCheck:
    """Null, missing, non-numeric, negative or above `max_valid_wait` is invalid."""
    if raw is None:
        return WaitCheck(None, "wait_missing")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return WaitCheck(None, "wait_not_a_number")
    if isinstance(raw, float) and not raw.is_integer():
        return WaitCheck(None, "wait_not_a_number")
    minutes = int(raw)
    if minutes < 0:
        return WaitCheck(None, "wait_negative")
    if minutes > max_valid_wait:
        return WaitCheck(None, "wait_too_long")
    return WaitCheck(minutes, None)


def ride_state(
    is_open: bool | None,
    wait: int | None,
    last_updated: datetime | None,
    polled_at: datetime,
    rules: StateRules,
) -> State:
    """Open with a valid wait above zero or `is_open`; an open reading gone stale is unknown.

    A closed reading stays closed whatever its age: some parks stop refreshing closed
    rides. An open reading without a timestamp cannot be shown fresh, so it is unknown.
    """
    if not ((wait is not None and wait > 0) or is_open is True):
        return "closed"
    if last_updated is None or last_updated < polled_at - rules.stale_after:
        return "unknown"
    return "open"


@dataclass(frozen=True)
class CountedReading:
    """What the active-poll rule needs of one counted ride."""

    state: State
    wait: int | None
    last_updated: datetime | None


def poll_is_active(
    readings: Sequence[CountedReading], polled_at: datetime, rules: StateRules
) -> bool:
    """At least `min_active_rides` counted rides open with a valid wait above zero updated
    at most `active_fresh_after` before the poll.

    A park with fewer counted rides than that needs all of them. An open flag alone never
    makes a park active: real feeds leave rides open with zero wait all night. The
    freshness is tighter than `stale_after` so that waits left frozen after closing stop
    making a park active within two polls.
    """
    if not readings:
        return False
    needed = min(rules.min_active_rides, len(readings))
    fresh_since = polled_at - rules.active_fresh_after
    running = sum(
        1
        for r in readings
        if r.state == "open"
        and r.wait is not None
        and r.wait > 0
        and r.last_updated is not None
        and r.last_updated >= fresh_since
    )
    return running >= needed


def is_counted(name: str, category: str | None, rules: StateRules) -> bool:
    """Counted in downtime and uptime: a real ride, not a queue variant or a show."""
    return not rules.excludes(name) and category not in NOT_RIDES


def count_states(states: Iterable[State]) -> dict[State, int]:
    counts: dict[State, int] = {"open": 0, "closed": 0, "unknown": 0}
    for state in states:
        counts[state] += 1
    return counts
