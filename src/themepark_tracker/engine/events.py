"""Events a subscriber is told of, from one park day as the engine counts it: outages
started and ended, refurbishments, the park opening and closing (docs/methodology.md,
"Events").

Each event's id is derived from what it describes, never from when it was computed: a
day computed again gives the same events with the same ids, so that storing them twice
sends nothing twice. An event is only emitted once a poll has confirmed it, so that
closing time raises no false alarm:

- `outage.started` once the ride has been closed in two consecutive polls, or at once
  when its status is DOWN; never for a park-wide outage, nor for one starting within
  `QUIET_BEFORE_CLOSE` of the published close;
- `outage.ended` for a started outage that ended (down to the close included);
- `park.opened` at the first of two consecutive active polls of the session;
- `park.closed` once the session is known to have ended: its published close passed,
  `bridge` of observed inactivity followed its last active poll, or the day ended;
- `ride.refurbishment_started` / `_ended` where the status changes to or from
  REFURBISHMENT between two polls (the day before's last status counts).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from themepark_tracker.engine.days import ParkDay
from themepark_tracker.engine.outages import Outage
from themepark_tracker.engine.sessions import DayRules, Hours, Poll
from themepark_tracker.engine.states import Status

#: An outage starting this close to the published close is not announced.
QUIET_BEFORE_CLOSE = timedelta(minutes=30)


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    park_id: int
    ride_id: int | None
    at: datetime
    """When what it describes happened (an outage's first closed poll, its end, ...)."""
    confirmed_at: datetime
    """The poll that confirmed it: "within 60 s" counts from here."""
    data: Mapping[str, Any] = field(default_factory=dict)


def event_id(kind: str, park_id: int, ride_id: int | None, at: datetime) -> str:
    """Stable: the kind, the park, the ride and the instant it describes."""
    key = f"{kind}|{park_id}|{ride_id or 0}|{at.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _event(
    kind: str,
    park_id: int,
    ride_id: int | None,
    at: datetime,
    confirmed_at: datetime,
    key: datetime | None = None,
    **data: Any,
) -> Event:
    """`key`: the instant the id is derived from, when not `at` (an outage's end is
    known by its start: a late poll may move the end, never make another outage)."""
    found = event_id(kind, park_id, ride_id, key or at)
    return Event(found, kind, park_id, ride_id, at, confirmed_at, data)


def day_events(
    park_id: int,
    day: ParkDay,
    polls: Sequence[Poll],
    *,
    now: datetime,
    day_end: datetime,
    rules: DayRules,
    hours: Hours | None = None,
    statuses_before: Mapping[int, Status] | None = None,
) -> list[Event]:
    """The day's events, in time order. `polls` are the day's, with their statuses;
    `statuses_before` the last statuses of the day before (refurbishments run on)."""
    found = _park_events(park_id, day, polls, now, day_end, rules, hours)
    index = {poll.at: k for k, poll in enumerate(polls)}
    close = hours[-1][1] if hours else None
    for ride in day.rides.values():
        for outage in ride.outages:
            found += _outage_events(park_id, outage, polls, index, close)
    found += _refurbishments(park_id, polls, statuses_before or {})
    return sorted(found, key=lambda event: (event.at, event.kind, event.ride_id or 0))


def _park_events(
    park_id: int,
    day: ParkDay,
    polls: Sequence[Poll],
    now: datetime,
    day_end: datetime,
    rules: DayRules,
    hours: Hours | None,
) -> list[Event]:
    opened = next(
        (k for k in range(len(polls) - 1) if polls[k].active and polls[k + 1].active), None
    )
    if opened is None or day.session_start is None:
        return []
    # One opening and one closing a park day: known by the day, so that polls arriving
    # later move them (a correction), never make another.
    found = [_event("park.opened", park_id, None, polls[opened].at, polls[opened + 1].at, day_end)]
    last_active = max(k for k, poll in enumerate(polls) if poll.active)
    if hours:
        closed_at = known = hours[-1][1]
    else:
        closed_at = polls[last_active].at
        quiet = polls[-1].at - closed_at  # observed: only polls after it say it is over
        known = closed_at + rules.bridge if quiet > rules.bridge else day_end
    known = min(known, day_end)
    if now >= known:
        found.append(_event("park.closed", park_id, None, closed_at, known, day_end))
    return found


def _outage_events(
    park_id: int,
    outage: Outage,
    polls: Sequence[Poll],
    index: Mapping[datetime, int],
    close: datetime | None,
) -> list[Event]:
    if outage.park_wide:
        return []
    if close is not None and outage.start >= close - QUIET_BEFORE_CLOSE:
        return []
    first = index[outage.start]
    ride = outage.ride_id
    statuses = polls[first].statuses or {}
    if statuses.get(ride) == "DOWN":
        confirmed = outage.start
    elif first + 1 < len(polls) and polls[first + 1].states.get(ride) == "closed":
        confirmed = polls[first + 1].at
    else:
        return []
    found = [_event("outage.started", park_id, ride, outage.start, confirmed, park_wide=False)]
    if outage.end is not None:
        found.append(
            _event(
                "outage.ended",
                park_id,
                ride,
                outage.end,
                outage.end,
                key=outage.start,
                started_at=outage.start.isoformat(),
                duration_minutes=round(outage.minutes, 2),
                down_to_close=outage.censored,
            )
        )
    return found


def _refurbishments(
    park_id: int, polls: Sequence[Poll], before: Mapping[int, Status]
) -> list[Event]:
    found: list[Event] = []
    last = dict(before)
    for poll in polls:
        if poll.statuses is None:
            continue
        for ride, status in poll.statuses.items():
            was = last.get(ride)
            if status == "REFURBISHMENT" and was != "REFURBISHMENT":
                found.append(_event("ride.refurbishment_started", park_id, ride, poll.at, poll.at))
            elif status != "REFURBISHMENT" and was == "REFURBISHMENT":
                found.append(_event("ride.refurbishment_ended", park_id, ride, poll.at, poll.at))
            last[ride] = status
    return found
