"""Live status (now) of a park and its rides, from the park's latest poll (docs/methodology.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from themepark_tracker.engine.days import ParkDay
from themepark_tracker.engine.sessions import DayRules, Poll

LiveState = Literal["running", "down", "closed", "refurbishment", "unknown"]


@dataclass(frozen=True)
class Live:
    at: datetime | None
    park_open: bool
    rides: dict[int, LiveState]


def average_wait(waits: Sequence[int]) -> float | None:
    """A park's wait now: the mean of the waits its running rides post."""
    return sum(waits) / len(waits) if waits else None


def is_fresh(at: datetime | None, now: datetime, max_gap: timedelta) -> bool:
    """Live status needs a poll at most `max_gap` old; anything older says nothing of now."""
    return at is not None and now - at <= max_gap


def is_open_now(
    open_now: bool | None, at: datetime | None, now: datetime, max_gap: timedelta
) -> bool:
    """A park is open now by a fresh poll that found it operating."""
    return bool(open_now) and is_fresh(at, now, max_gap)


def rides_down_now(
    rides_down: int, open_now: bool | None, at: datetime | None, now: datetime, max_gap: timedelta
) -> int:
    """Rides stored down count only while their park is open now."""
    return rides_down if is_open_now(open_now, at, now, max_gap) else 0


def status_now(status: str | None, at: datetime | None, now: datetime, max_gap: timedelta) -> str:
    """A stored ride status, or unknown when its park's poll says nothing of now."""
    return status if status and is_fresh(at, now, max_gap) else "unknown"


def live_status(
    today: ParkDay,
    latest: Poll | None,
    ride_ids: Iterable[int],
    now: datetime,
    rules: DayRules,
    statuses: Mapping[int, str] | None = None,
) -> Live:
    """Running when open; down when closed while today's session runs and the ride was
    open earlier in it; closed otherwise; unknown without a fresh poll or a known state.
    With statuses (ThemeParks.wiki's, fetched within one interval of the poll): a ride
    whose status is REFURBISHMENT is under refurbishment, and one closed with a DOWN
    status while the session runs is down, opened earlier or not."""
    ids = list(ride_ids)
    if latest is None or not is_fresh(latest.at, now, rules.max_gap):
        return Live(latest.at if latest else None, False, dict.fromkeys(ids, "unknown"))
    rides: dict[int, LiveState] = {}
    for ride_id in ids:
        state = latest.states.get(ride_id, "unknown")
        status = (statuses or {}).get(ride_id)
        if status == "REFURBISHMENT":
            rides[ride_id] = "refurbishment"
        elif state == "open":
            rides[ride_id] = "running"
        elif state == "closed":
            opened = ride_id in today.rides or status == "DOWN"
            rides[ride_id] = "down" if today.running and opened else "closed"
        else:
            rides[ride_id] = "unknown"
    return Live(latest.at, latest.active, rides)
