"""What rankings order by, and the trend rule (docs/methodology.md).

Pure rules on sums. The storage layer sorts rides in SQL (thousands of them, to return
the top few) by the figures declared here (`RIDE_FIGURES`), rendering each declaration
rather than a rule of its own; parks (a hundred) are sorted here (`PARK_SORTS`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from themepark_tracker.engine.scores import Totals, trend_pct, uptime_change

#: Improving at +5 uptime points or more on the period before, declining at -5 or less.
TREND_THRESHOLD = 5.0


@dataclass(frozen=True)
class Figure:
    """A ride's sort figure as sums give it: `numerator`, or `numerator` divided by the
    sum of `denominator` (none when that is 0). `column` figures are read as they are:
    a maximum (peak wait), a count (closures) or the ride's name."""

    numerator: str
    denominator: tuple[str, ...] = ()
    column: bool = False
    gated: bool = False
    """Only rides whose period passes the exposure gate, and that have the figure, are
    ranked by it (docs/methodology.md, "Outages")."""


#: What rides sort by: each a figure of the ride's period sums (`RideSums`).
RIDE_FIGURES: dict[str, Figure] = {
    "downtime": Figure("downtime_minutes"),
    "weighted_downtime": Figure("weighted_downtime_minutes"),
    "uptime": Figure("uptime_minutes", ("uptime_minutes", "downtime_minutes")),
    "events": Figure("downtime_events", column=True),
    "avg_wait": Figure("wait_sum", ("wait_samples",)),
    "peak_wait": Figure("peak_wait", column=True),
    "name": Figure("name", column=True),
    "outages_per_100h": Figure("outages", ("uptime_minutes",), gated=True),
    "mtbf": Figure("uptime_minutes", ("outages",), gated=True),
    "mttr": Figure("outage_minutes", ("outages",), gated=True),
}


class Compared(Protocol):
    """A park's or a ride's figures over a period next to the period before's."""

    @property
    def totals(self) -> Totals: ...

    @property
    def previous(self) -> Totals: ...


def trend(item: Compared) -> float | None:
    return trend_pct(item.totals.downtime_minutes, item.previous.downtime_minutes)


def change(item: Compared) -> float | None:
    return uptime_change(item.totals.uptime_pct, item.previous.uptime_pct)


def _minutes_if_any(figure: Callable[[Totals], float]) -> Callable[[Any], Any]:
    """A park without any ride minutes in the period has no figure, not zero."""
    return lambda park: figure(park.totals) if park.totals.uptime_pct is not None else None


#: What parks sort by: the figure of a park's period each key reads.
PARK_SORTS: dict[str, Callable[[Any], Any]] = {
    "shame": lambda park: park.totals.shame_score,
    "downtime": _minutes_if_any(lambda totals: totals.downtime_minutes),
    "weighted_downtime": _minutes_if_any(lambda totals: totals.weighted_downtime_minutes),
    "uptime": lambda park: park.totals.uptime_pct,
    "rides_with_downtime": lambda park: park.rides_with_downtime if park.rides_tracked else None,
    "trend": trend,
    "avg_wait": lambda park: park.totals.avg_wait,
    "peak_wait": lambda park: park.totals.peak_wait,
    "name": lambda park: park.name,
}

T = TypeVar("T")


def ranked(
    items: Sequence[T], figure: Callable[[T], Any], *, descending: bool, name: Callable[[T], str]
) -> list[T]:
    """Items by `figure`, worst first when `descending`; items without the figure last,
    either way, and by name among themselves and among ties."""
    known = sorted((item for item in items if figure(item) is not None), key=name)
    known.sort(key=figure, reverse=descending)
    return known + sorted((item for item in items if figure(item) is None), key=name)


def sort_parks(items: Sequence[T], sort: str, *, descending: bool = True) -> list[T]:
    if sort not in PARK_SORTS:
        raise ValueError(f"unknown sort {sort!r}; known: {', '.join(PARK_SORTS)}")
    return ranked(items, PARK_SORTS[sort], descending=descending, name=lambda p: p.name)  # type: ignore[attr-defined]


def check_ride_sort(sort: str) -> Figure:
    if sort not in RIDE_FIGURES:
        raise ValueError(f"unknown sort {sort!r}; known: {', '.join(RIDE_FIGURES)}")
    return RIDE_FIGURES[sort]


C = TypeVar("C", bound=Compared)


def trend_lists(items: Sequence[C]) -> tuple[list[C], list[C]]:
    """(improving, declining): uptime up or down by at least `TREND_THRESHOLD` points on
    the period before, largest change first."""
    moved = [(item, change(item)) for item in items]
    improving = [(item, c) for item, c in moved if c is not None and c >= TREND_THRESHOLD]
    declining = [(item, c) for item, c in moved if c is not None and c <= -TREND_THRESHOLD]
    improving.sort(key=lambda pair: -pair[1])
    declining.sort(key=lambda pair: pair[1])
    return [item for item, _ in improving], [item for item, _ in declining]
