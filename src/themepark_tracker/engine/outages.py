"""Outages: a ride's downtime as events, and what they say over a period
(docs/methodology.md, "Outages").

An outage is a maximal run of closed polls inside the ride's window, the same polls that
make its downtime; unknown polls neither split nor lengthen it. So a ride's outages sum
exactly to its downtime and their number is its `downtime_events`, by construction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from themepark_tracker.engine.states import State

#: Rides already open that day, at the least, for a park to have park-wide outages.
MIN_PARK_WIDE_RIDES = 4


@dataclass(frozen=True)
class Outage:
    ride_id: int
    start: datetime
    """The first closed poll."""
    end: datetime | None
    """The next open poll; None while the outage goes on (provisional, as its downtime);
    the session's end for one reported DOWN to the close."""
    minutes: float
    """Σ Δ of its closed polls."""
    park_wide: bool
    censored: bool = False
    """Down to the close: it ended with the session, not with the ride open again, so
    recovery estimates take its length as a lower bound."""

    @property
    def ongoing(self) -> bool:
        return self.end is None


def closed_runs(states: Sequence[State], first: int, last: int) -> list[tuple[int, int | None]]:
    """(index of the first closed poll, index of the open poll that ends it, None when
    none does by `last`) of each run of closed polls in `states[first : last + 1]`."""
    runs: list[tuple[int, int | None]] = []
    start = None
    for index in range(first, last + 1):
        state = states[index]
        if state == "closed" and start is None:
            start = index
        elif state == "open" and start is not None:
            runs.append((start, index))
            start = None
    if start is not None:
        runs.append((start, None))
    return runs


def park_wide_at(
    readings: Sequence[Mapping[int, State]], index: int, share: float, first_open: Mapping[int, int]
) -> bool:
    """Whether the park is broadly closed at poll `index` of the day: at least `share` of
    the rides open earlier that day (`first_open`: each ride's first open poll) are
    closed, rides read unknown counting in neither part; never with fewer than
    `MIN_PARK_WIDE_RIDES` such rides."""
    earlier = [ride for ride, opened in first_open.items() if opened < index]
    if len(earlier) < MIN_PARK_WIDE_RIDES:
        return False
    states = [readings[index].get(ride, "unknown") for ride in earlier]
    known = [state for state in states if state != "unknown"]
    return bool(known) and states.count("closed") >= share * len(known)


def first_open_polls(
    readings: Sequence[Mapping[int, State]], rides: Iterable[int]
) -> dict[int, int]:
    """Each ride's first open poll of the day (rides never open are left out)."""
    wanted = set(rides)
    found: dict[int, int] = {}
    for index, states in enumerate(readings):
        for ride, state in states.items():
            if state == "open" and ride in wanted and ride not in found:
                found[ride] = index
    return found


@dataclass(frozen=True)
class Gates:
    """How much a period must hold for its figures to be published."""

    min_exposure_hours: float = 20.0
    min_outages: int = 5


@dataclass(frozen=True)
class Reliability:
    """A ride's or a park's outages over a period, from its sums (docs/methodology.md)."""

    outages: int | None
    outages_per_100h: float | None
    mtbf_hours: float | None
    mttr_minutes: float | None
    median_outage_minutes: float | None
    p90_outage_minutes: float | None
    longest_outage_minutes: float | None
    insufficient_data: str | None
    """Why gated figures are null: too little time observed, or too few outages."""


def nearest_rank(durations: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile of sorted `durations` (not empty)."""
    rank = max(1, math.ceil(percent / 100 * len(durations)))
    return durations[rank - 1]


@dataclass(frozen=True)
class Lengths:
    """What the figures need of a period's ended outages (minutes): exact, or read from
    buckets `bucket_minutes` wide, where the median, the P90 and the longest are those of
    the lengths rounded to the nearest bucket (exact when every length is a whole number
    of buckets)."""

    count: int
    total: float
    median: float | None
    p90: float | None
    longest: float | None
    bucket_minutes: int | None = None


def lengths_of(ordered: Sequence[float], per_minute: int = 1) -> Lengths:
    """The exact figures of lengths already sorted, `per_minute` to the minute (60: in
    seconds)."""
    if not ordered:
        return Lengths(0, 0.0, None, None, None)
    return Lengths(
        len(ordered),
        sum(ordered) / per_minute,
        nearest_rank(ordered, 50) / per_minute,
        nearest_rank(ordered, 90) / per_minute,
        ordered[-1] / per_minute,
    )


@dataclass(frozen=True)
class PeriodOutages:
    """A period's ended outages: all of them, and the ride outages (not park-wide)."""

    all: Lengths
    ride_outages: Lengths


def period_outages(ended: Iterable[tuple[float, bool]]) -> PeriodOutages:
    """From each ended outage's (length, park-wide)."""
    pairs = list(ended)
    return PeriodOutages(
        lengths_of(sorted(minutes for minutes, _ in pairs)),
        lengths_of(sorted(minutes for minutes, park_wide in pairs if not park_wide)),
    )


#: The buckets of outage lengths a period over 31 days may be read from: a poll interval.
BUCKET_MINUTES = 10


def bucket_of(seconds: int) -> int:
    """The bucket of a length in seconds: its nearest whole number of buckets (a half
    rounds up)."""
    half = BUCKET_MINUTES * 30
    return (seconds + half) // (2 * half)


def lengths_of_buckets(counts: Sequence[int], total: float, width: int) -> Lengths:
    """The figures of lengths counted in buckets (`counts[b]` lengths nearest `b` ×
    `width` minutes), whose exact sum is `total` minutes."""
    count = sum(counts)
    if count == 0:
        return Lengths(0, 0.0, None, None, None, width)

    def rank(percent: float) -> float:
        wanted, seen = max(1, math.ceil(percent / 100 * count)), 0
        for bucket, found in enumerate(counts):
            seen += found
            if seen >= wanted:
                return float(bucket * width)
        raise AssertionError("the counts add up to count")

    longest = max(bucket for bucket, found in enumerate(counts) if found)
    return Lengths(count, total, rank(50), rank(90), float(longest * width), width)


def reliability(
    found: Lengths, up_minutes: float, down_minutes: float, gates: Gates
) -> Reliability:
    """Figures of a period's ended outages over its sums of up and down time. Below
    `min_exposure_hours` of up + down time every figure is null; the median and the P90
    need `min_outages` outages too."""
    if (up_minutes + down_minutes) / 60 < gates.min_exposure_hours:
        reason = f"less than {gates.min_exposure_hours:g} hours observed"
        return Reliability(None, None, None, None, None, None, None, reason)
    count = found.count
    up_hours = up_minutes / 60
    per_100h = None if up_hours == 0 else 100 * count / up_hours
    if count == 0:
        return Reliability(0, per_100h, None, None, None, None, None, None)
    spread = count >= gates.min_outages
    return Reliability(
        count,
        per_100h,
        up_hours / count,
        found.total / count,
        found.median if spread else None,
        found.p90 if spread else None,
        found.longest,
        None if spread else f"fewer than {gates.min_outages} outages",
    )
