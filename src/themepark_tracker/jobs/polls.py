"""Storing one poll: the single path that `collect` and `import` share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from themepark_tracker.engine.states import StateRules
from themepark_tracker.ingest import PollInput, plan_poll
from themepark_tracker.storage import queries, writes


@dataclass(frozen=True)
class StoredPoll:
    status: Literal["stored", "duplicate", "unknown_park"]
    outcome: str
    rides: int = 0
    status_changes: int = 0
    issues: int = 0
    is_active: bool = False


@dataclass(frozen=True)
class PollRules:
    """Everything storing a poll depends on, besides the poll itself."""

    states: StateRules
    ride_absence: timedelta


def store_poll(
    engine: Engine, poll: PollInput, *, cycle_id: str, source: str, rules: PollRules
) -> StoredPoll:
    """Store a poll in one transaction; a poll already stored is left alone."""
    try:
        with engine.begin() as conn:
            if not queries.park_is_known(conn, poll.park_id):
                return StoredPoll("unknown_park", poll.outcome)
            if queries.poll_exists(conn, poll.park_id, poll.fetched_at):
                return StoredPoll("duplicate", poll.outcome)
            plan = plan_poll(
                poll,
                queries.park_rides(conn, poll.park_id),
                cycle_id=cycle_id,
                source=source,
                rules=rules.states,
                ride_absence=rules.ride_absence,
            )
            writes.save_poll(conn, plan)
    except IntegrityError:
        # Another writer stored the same poll between our check and our insert.
        with engine.connect() as conn:
            if queries.poll_exists(conn, poll.park_id, poll.fetched_at):
                return StoredPoll("duplicate", poll.outcome)
        raise
    return StoredPoll(
        "stored",
        plan.poll["outcome"],
        len(plan.snapshots),
        len(plan.status_changes),
        len(plan.issues),
        bool(plan.poll["is_active"]),
    )
