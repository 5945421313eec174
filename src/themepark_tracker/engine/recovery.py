"""Back soon? The chance that a ride down for `m` minutes is open again within the next
few, from the outages of a pool like it (docs/methodology.md, "Back soon?").

S(t), the share of outages lasting longer than t, is the Kaplan–Meier estimate: ended
outages are events, closures known to have gone on past their observed length are
censored there. Then P(open within x | down for m) = 1 − S(m + x) / S(m).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

#: The horizons (minutes) a recovery estimate answers for.
HORIZONS = (15, 30, 60)
#: A pool must hold at least this many outages longer than the current one.
MIN_LONGER = 3
#: Products of fractions carry float noise: a level within this (relative) of half is half.
_NOISE = 1e-9


@dataclass(frozen=True)
class Survival:
    """A right-continuous step function: `levels[i]` from `times[i]` (inclusive) on."""

    times: Sequence[float]
    levels: Sequence[float]

    def at(self, t: float) -> float:
        index = bisect.bisect_right(self.times, t)
        return 1.0 if index == 0 else self.levels[index - 1]


def kaplan_meier(ended: Iterable[float], censored: Iterable[float] = ()) -> Survival:
    """The product-limit estimate of P(duration > t). A closure censored at the same
    length as an event is still at risk at that event, as is usual. One pass over the
    sorted lengths."""
    events, losses = sorted(ended), sorted(censored)
    at_risk = len(events) + len(losses)
    times: list[float] = []
    levels: list[float] = []
    level, i, j = 1.0, 0, 0
    while i < len(events):
        t = events[i]
        while j < len(losses) and losses[j] < t:
            at_risk -= 1
            j += 1
        ended_here = i
        while i < len(events) and events[i] == t:
            i += 1
        # Without censoring the product is the share still going: computed as that, a
        # curve kept as counts (storage.pools) is the same to the last bit.
        level = (
            (at_risk - (i - ended_here)) / len(events)
            if not losses
            else level * (1 - (i - ended_here) / at_risk)
        )
        times.append(t)
        levels.append(level)
        at_risk -= i - ended_here
    return Survival(tuple(times), tuple(levels))


@dataclass(frozen=True)
class Recovery:
    p_open_within: dict[int, float]
    median_remaining_minutes: float | None
    """The smallest r with S(m + r) ≤ S(m) / 2; None when the curve never gets there."""


def minutes_down(started: datetime, now: datetime) -> float:
    """How long a ride has been down: from its outage's first closed poll to now."""
    return (now - started).total_seconds() / 60


def recovery(curve: Survival, down_for: float) -> Recovery | None:
    """The estimate for a ride down for `down_for` minutes; None when no outage of the
    pool lasted that long (S(m) = 0)."""
    now = curve.at(down_for)
    if now <= 0:
        return None
    chances = {x: 1 - curve.at(down_for + x) / now for x in HORIZONS}
    times, levels = curve.times, curve.levels
    median = next(
        (
            times[k] - down_for
            for k in range(bisect.bisect_left(times, down_for), len(times))
            if levels[k] <= now / 2 * (1 + _NOISE)
        ),
        None,
    )
    return Recovery(chances, median)


def still_down(curve: Survival, down_for: float, horizon: float) -> list[tuple[float, float]]:
    """The chance of being still down x minutes from now, S(m + x) / S(m), at x = 0 and at
    each step of the curve up to `horizon` minutes from now: the curve a chart draws."""
    now = curve.at(down_for)
    if now <= 0:
        return []
    first = bisect.bisect_right(curve.times, down_for)
    last = bisect.bisect_right(curve.times, down_for + horizon)
    return [(0.0, 1.0)] + [
        (curve.times[k] - down_for, curve.levels[k] / now) for k in range(first, last)
    ]


@dataclass(frozen=True)
class Pool:
    name: str
    """`park_wide`, `ride`, `park_tier` or `tier`."""
    ended: tuple[float, ...]
    censored: tuple[float, ...] = ()


@dataclass(frozen=True)
class PoolCurve:
    """A pool's curve with what choosing the pool needs, so that a pool of thousands of
    outages can be prepared once (`aggregate`) and asked in a few steps."""

    name: str
    curve: Survival
    ended: int
    censored: int
    longer: Sequence[int]
    """How many ended outages lasted longer than `curve.times[k]`."""

    def longer_than(self, minutes: float) -> int:
        index = bisect.bisect_right(self.curve.times, minutes)
        return self.ended if index == 0 else self.longer[index - 1]


def pool_curve(pool: Pool) -> PoolCurve:
    curve = kaplan_meier(pool.ended, pool.censored)
    ending = Counter(pool.ended)
    longer, left = [], len(pool.ended)
    for t in curve.times:
        left -= ending[t]
        longer.append(left)
    return PoolCurve(pool.name, curve, len(pool.ended), len(pool.censored), tuple(longer))


def pool_window(today: date, days: int) -> tuple[date, date]:
    """The park days a pool holds the outages of: the `days` before today's."""
    return today - timedelta(days=days), today - timedelta(days=1)


def pools_in_turn(park_wide: bool) -> tuple[str, ...]:
    """The pools an outage learns from, in the order they are tried: a park-wide
    outage from its park's park-wide outages; any other from ride outages, of the ride
    itself, then its park's rides of its tier, then every park's."""
    return ("park_wide",) if park_wide else ("ride", "park_tier", "tier")


def choose_pool(candidates: Iterable[PoolCurve], down_for: float, minimum: int) -> PoolCurve | None:
    """The first pool with at least `minimum` ended outages, `MIN_LONGER` of them longer
    than the current outage."""
    for pool in candidates:
        if pool.ended >= minimum and pool.longer_than(down_for) >= MIN_LONGER:
            return pool
    return None
