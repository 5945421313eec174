"""What storing one poll changes: pure planning, shared by `collect` and `import`.

`plan_poll` takes what the database knows of a park's rides and one fetch of its feed, and
returns every row to write: the poll, its ride snapshots (state as docs/methodology.md defines
it), new and renamed rides, status changes, rides gone missing, data-quality issues.
`storage.writes.save_poll` writes the plan; nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from themepark_tracker.classify import Decisions
from themepark_tracker.engine.states import (
    CountedReading,
    State,
    StateRules,
    check_wait,
    count_states,
    is_counted,
    poll_is_active,
    ride_state,
)
from themepark_tracker.sources.queue_times import (
    RAW_LENGTH,
    SourceError,
    parse_queue_times,
    raw_text,
    safe_text,
)

ERROR_LENGTH = 1000
"""Longest error or issue detail kept: a fetch error is a line, not a document, and a Text
column on MariaDB holds 64 KB at most."""
WAIT_RAW_LENGTH = 32
"""Length of `ride_snapshots.wait_time_raw`."""


@dataclass(frozen=True)
class PollInput:
    """One fetch of one park: a decoded payload, or the reason there is none."""

    park_id: int
    fetched_at: datetime
    payload: Any = None
    outcome: str = "ok"
    error: str | None = None
    http_status: int | None = None
    duration_ms: int | None = None


class StoredRide(NamedTuple):
    """A ride as stored, as far as planning a poll needs it (a named tuple: a busy day's
    import derives a new one per ride and poll, where `dataclasses.replace` costs ten
    times as much)."""

    id: int
    name: str
    land_id: int | None
    land_name: str | None
    category: str | None
    current_state: str | None
    state_since: datetime | None
    is_active: bool
    last_seen_at: datetime


@dataclass
class PollPlan:
    poll: dict[str, Any]
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    new_rides: list[dict[str, Any]] = field(default_factory=list)
    changed_rides: list[dict[str, Any]] = field(default_factory=list)
    seen_ride_ids: list[int] = field(default_factory=list)
    state_updates: list[dict[str, Any]] = field(default_factory=list)
    status_changes: list[dict[str, Any]] = field(default_factory=list)
    vanished_ride_ids: list[int] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)


def plan_poll(
    poll: PollInput,
    stored: dict[int, StoredRide],
    *,
    cycle_id: str,
    source: str,
    rules: StateRules,
    ride_absence: timedelta,
    decisions: Decisions,
    foreign: Collection[int] = frozenset(),
) -> PollPlan:
    """What storing `poll` writes, given the park's `stored` rides.

    Rides whose ids are stored under another park (`foreign`) are refused with an issue:
    a ride id names one ride of one park, and the row cannot be shared.
    """
    t = poll.fetched_at
    row: dict[str, Any] = {
        "park_id": poll.park_id,
        "polled_at": t,
        "cycle_id": cycle_id,
        "source": source,
        "outcome": poll.outcome,
        "http_status": poll.http_status,
        "error": None if poll.error is None else safe_text(poll.error, ERROR_LENGTH),
        "duration_ms": poll.duration_ms,
        "rides_total": 0,
        "rides_open": 0,
        "rides_closed": 0,
        "rides_unknown": 0,
        "is_active": False,
    }
    plan = PollPlan(poll=row)
    if poll.outcome == "invalid_payload":
        plan.issues.append(_issue(poll, 0, "invalid_payload", None, row["error"]))
    if poll.outcome != "ok":
        return plan
    try:
        rides, payload_problems = parse_queue_times(poll.payload)
    except SourceError as exc:
        row.update(outcome="invalid_payload", error=str(exc))
        plan.issues.append(_issue(poll, 0, "invalid_payload", None, str(exc)))
        return plan
    for issue_type, raw in payload_problems:
        plan.issues.append(_issue(poll, 0, issue_type, raw))
    if foreign:
        for ride in rides:
            if ride.id in foreign:
                plan.issues.append(_issue(poll, ride.id, "ride_of_another_park", ride.name))
        rides = [ride for ride in rides if ride.id not in foreign]

    states: list[State] = []
    counted: list[CountedReading] = []
    for ride in rides:
        wait = check_wait(ride.wait_raw, rules.max_valid_wait)
        if wait.problem:
            plan.issues.append(_issue(poll, ride.id, wait.problem, raw_text(ride.wait_raw)))
        for issue_type, raw in ride.problems:
            plan.issues.append(_issue(poll, ride.id, issue_type, raw))
        state = ride_state(ride.is_open, wait.minutes, ride.last_updated, t, rules)
        states.append(state)
        before = stored.get(ride.id)
        decision = decisions.decide(poll.park_id, ride.id, ride.name) if before is None else None
        category = before.category if before is not None else None
        if decision is not None:
            category = decision.category
        if is_counted(ride.name, category, rules):
            counted.append(CountedReading(state, wait.minutes, ride.last_updated))
        plan.snapshots.append(
            {
                "ride_id": ride.id,
                "polled_at": t,
                "is_open_raw": ride.is_open,
                "wait_time_raw": (
                    None if ride.wait_raw is None else raw_text(ride.wait_raw)[:WAIT_RAW_LENGTH]
                ),
                "wait_time": wait.minutes,
                "last_updated": ride.last_updated,
                "state": state,
            }
        )
        plan.seen_ride_ids.append(ride.id)
        if before is None:
            assert decision is not None
            plan.new_rides.append(
                {
                    "id": ride.id,
                    "park_id": poll.park_id,
                    "name": ride.name,
                    "land_id": ride.land_id,
                    "land_name": ride.land_name,
                    "tier": decision.tier,
                    "category": decision.category,
                    "tier_source": decision.source,
                    "tier_confidence": decision.confidence,
                    "current_state": state if state != "unknown" else None,
                    "state_since": t if state != "unknown" else None,
                    "is_active": True,
                    "first_seen_at": t,
                    "last_seen_at": t,
                    "updated_at": t,
                }
            )
            continue
        newer = t > before.last_seen_at
        if newer and (ride.name, ride.land_id) != (before.name, before.land_id):
            if ride.name != before.name:
                plan.issues.append(
                    _issue(poll, ride.id, "ride_renamed", before.name, f"now {ride.name!r}")
                )
            plan.changed_rides.append(
                {
                    "ride_id": ride.id,
                    "name": ride.name,
                    "land_id": ride.land_id,
                    "land_name": ride.land_name,
                    "updated_at": t,
                }
            )
        _plan_state_change(plan, poll, before, state)

    counts = count_states(states)
    row.update(
        rides_total=len(rides),
        rides_open=counts["open"],
        rides_closed=counts["closed"],
        rides_unknown=counts["unknown"],
        is_active=poll_is_active(counted, t, rules),
    )
    seen = set(plan.seen_ride_ids)
    plan.vanished_ride_ids = sorted(
        ride.id
        for ride in stored.values()
        if ride.is_active and ride.id not in seen and ride.last_seen_at < t - ride_absence
    )
    return plan


def _plan_state_change(plan: PollPlan, poll: PollInput, before: StoredRide, state: State) -> None:
    """Open↔closed flips, stamped with how long the previous state lasted.

    Unknown readings change nothing; a poll older than the state it would end (an archive
    imported out of order) cannot say when the state changed, so it changes nothing.
    """
    t = poll.fetched_at
    if state == "unknown" or state == before.current_state:
        return
    if before.state_since is not None and t <= before.state_since:
        return
    plan.state_updates.append({"ride_id": before.id, "current_state": state, "state_since": t})
    if before.current_state is None or before.state_since is None:
        return
    plan.status_changes.append(
        {
            "ride_id": before.id,
            "park_id": poll.park_id,
            "changed_at": t,
            "to_state": state,
            "previous_duration_seconds": int((t - before.state_since).total_seconds()),
        }
    )


def _issue(
    poll: PollInput, ride_id: int, issue_type: str, raw: str | None, detail: str | None = None
) -> dict[str, Any]:
    """An issue row; its texts came from outside, so they are made safe to store here."""
    return {
        "park_id": poll.park_id,
        "ride_id": ride_id,
        "observed_at": poll.fetched_at,
        "issue_type": issue_type,
        "raw_value": None if raw is None else safe_text(raw, RAW_LENGTH),
        "detail": None if detail is None else safe_text(detail, ERROR_LENGTH),
    }


def apply_plan(stored: dict[int, StoredRide], plan: PollPlan) -> dict[int, StoredRide]:
    """The park's rides as they are once `plan` is written: what the next poll starts from."""
    t = plan.poll["polled_at"]
    rides = dict(stored)
    for row in plan.new_rides:
        rides[row["id"]] = StoredRide(
            row["id"],
            row["name"],
            row["land_id"],
            row["land_name"],
            row["category"],
            row["current_state"],
            row["state_since"],
            True,
            t,
        )
    for row in plan.changed_rides:
        rides[row["ride_id"]] = rides[row["ride_id"]]._replace(
            name=row["name"],
            land_id=row["land_id"],
            land_name=row["land_name"],
        )
    for ride_id in plan.seen_ride_ids:
        ride = rides[ride_id]
        if ride.last_seen_at < t:
            rides[ride_id] = ride._replace(last_seen_at=t, is_active=True)
    for row in plan.state_updates:
        rides[row["ride_id"]] = rides[row["ride_id"]]._replace(
            current_state=row["current_state"],
            state_since=row["state_since"],
        )
    for ride_id in plan.vanished_ride_ids:
        rides[ride_id] = rides[ride_id]._replace(is_active=False)
    return rides
