"""Sums over rides and days, and the figures built on them (docs/methodology.md).

Always sum minutes first, then divide: an average of percentages weighs a ride that
ran ten minutes like one that ran twelve hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from themepark_tracker.engine.days import RideDay

#: Tier weights of docs/methodology.md; unclassified rides weigh 2.
TIER_WEIGHTS: Mapping[int | None, int] = {1: 3, 2: 2, 3: 1, None: 2}


def tier_weight(tier: int | None) -> int:
    return TIER_WEIGHTS.get(tier, TIER_WEIGHTS[None])


@dataclass(frozen=True)
class Totals:
    """Additive sums: a period's totals are the sum of its days' totals."""

    uptime_minutes: float = 0.0
    downtime_minutes: float = 0.0
    weighted_downtime_minutes: float = 0.0
    weighted_total_minutes: float = 0.0
    wait_sum: float = 0.0
    wait_samples: int = 0
    peak_wait: int | None = None

    def __add__(self, other: Totals) -> Totals:
        peaks = [p for p in (self.peak_wait, other.peak_wait) if p is not None]
        return Totals(
            self.uptime_minutes + other.uptime_minutes,
            self.downtime_minutes + other.downtime_minutes,
            self.weighted_downtime_minutes + other.weighted_downtime_minutes,
            self.weighted_total_minutes + other.weighted_total_minutes,
            self.wait_sum + other.wait_sum,
            self.wait_samples + other.wait_samples,
            max(peaks) if peaks else None,
        )

    @property
    def downtime_hours(self) -> float:
        return self.downtime_minutes / 60

    @property
    def weighted_downtime_hours(self) -> float:
        return self.weighted_downtime_minutes / 60

    @property
    def uptime_pct(self) -> float | None:
        total = self.uptime_minutes + self.downtime_minutes
        return None if total == 0 else 100 * self.uptime_minutes / total

    @property
    def shame_score(self) -> float | None:
        """0 = nothing ever down, 10 = everything down all the time."""
        if self.weighted_total_minutes == 0:
            return None
        return round(10 * self.weighted_downtime_minutes / self.weighted_total_minutes, 2)

    @property
    def avg_wait(self) -> float | None:
        return None if self.wait_samples == 0 else self.wait_sum / self.wait_samples


def tier_totals(
    up: float,
    down: float,
    tier: int | None,
    wait_sum: float = 0.0,
    wait_samples: int = 0,
    peak_wait: int | None = None,
) -> Totals:
    """Minutes of rides of one tier, weighted as docs/methodology.md weighs that tier."""
    weight = tier_weight(tier)
    return Totals(up, down, weight * down, weight * (up + down), wait_sum, wait_samples, peak_wait)


def ride_totals(day: RideDay, tier: int | None) -> Totals:
    return tier_totals(
        day.uptime_minutes,
        day.downtime_minutes,
        tier,
        (day.avg_wait or 0.0) * day.wait_samples,
        day.wait_samples,
        day.peak_wait,
    )


def total(parts: Iterable[Totals]) -> Totals:
    result = Totals()
    for part in parts:
        result = result + part
    return result


def per_day(minutes: float, days: int) -> float | None:
    """Minutes per day the ride ran (the 7-day average downtime): a day it never ran
    is no day of downtime."""
    return None if days == 0 else minutes / days


def trend_pct(current_down: float, previous_down: float | None) -> float | None:
    """Positive = worse; null when there was no downtime before to compare with."""
    if not previous_down:
        return None
    return 100 * (current_down - previous_down) / previous_down


def uptime_change(current: float | None, previous: float | None) -> float | None:
    """In percentage points; improving at +5 or more, declining at -5 or less."""
    if current is None or previous is None:
        return None
    return current - previous
