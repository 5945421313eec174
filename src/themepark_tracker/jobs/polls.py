"""Storing polls: the single path that `collect` and `import` share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from themepark_tracker.engine.states import StateRules
from themepark_tracker.ingest import PollInput, PollPlan, StoredRide, apply_plan, plan_poll
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


class PollStore:
    """Stores the polls of one job run (a collection cycle, an import).

    It remembers each park's rides as its own writes leave them, so that a run reads a
    park's rides once rather than once per poll; any failed transaction makes it forget,
    and the next poll reads them again.
    """

    def __init__(self, engine: Engine, *, cycle_id: str, source: str, rules: PollRules) -> None:
        self.engine = engine
        self.cycle_id = cycle_id
        self.source = source
        self.rules = rules
        self._parks: set[int] | None = None
        self._rides: dict[int, dict[int, StoredRide]] = {}

    def store(self, poll: PollInput) -> StoredPoll:
        """One poll in its own transaction."""
        return self.store_many([poll])[0]

    def store_many(self, polls: Sequence[PollInput]) -> list[StoredPoll]:
        """Polls in one transaction; a poll already stored is left alone.

        Should another writer store one of them meanwhile, the batch is rolled back and
        redone one poll per transaction, so that only that poll is skipped.
        """
        try:
            with self.engine.begin() as conn:
                return self._store(conn, polls)
        except IntegrityError:
            self.forget()
            if len(polls) > 1:
                return [result for poll in polls for result in self.store_many([poll])]
            with self.engine.connect() as conn:
                if queries.poll_exists(conn, polls[0].park_id, polls[0].fetched_at):
                    return [StoredPoll("duplicate", polls[0].outcome)]
            raise
        except BaseException:
            self.forget()
            raise

    def forget(self) -> None:
        """Drop what is remembered: after a rollback, or when the catalogue changed."""
        self._parks = None
        self._rides.clear()

    def _store(self, conn: Connection, polls: Sequence[PollInput]) -> list[StoredPoll]:
        if self._parks is None:
            self._parks = set(queries.all_park_ids(conn))
        stored = queries.stored_poll_keys(conn, [(p.park_id, p.fetched_at) for p in polls])
        results: list[StoredPoll] = []
        plans: list[PollPlan] = []
        written: dict[int, tuple[datetime, bool]] = {}
        for poll in polls:
            key = (poll.park_id, poll.fetched_at)
            if poll.park_id not in self._parks:
                results.append(StoredPoll("unknown_park", poll.outcome))
                continue
            if key in stored:
                results.append(StoredPoll("duplicate", poll.outcome))
                continue
            stored.add(key)
            rides = self._rides.get(poll.park_id)
            if rides is None:
                rides = queries.park_rides(conn, poll.park_id)
            for ride in rides.values():
                written.setdefault(ride.id, (ride.last_seen_at, ride.is_active))
            plan = plan_poll(
                poll,
                rides,
                cycle_id=self.cycle_id,
                source=self.source,
                rules=self.rules.states,
                ride_absence=self.rules.ride_absence,
            )
            self._rides[poll.park_id] = apply_plan(rides, plan)
            for row in plan.new_rides:
                written[row["id"]] = (row["last_seen_at"], True)
            plans.append(plan)
            results.append(
                StoredPoll(
                    "stored",
                    plan.poll["outcome"],
                    len(plan.snapshots),
                    len(plan.status_changes),
                    len(plan.issues),
                    bool(plan.poll["is_active"]),
                )
            )
        writes.save_polls(conn, plans)
        final = {
            ride.id: (ride.last_seen_at, ride.is_active)
            for park_id in {plan.poll["park_id"] for plan in plans}
            for ride in self._rides[park_id].values()
        }
        writes.save_ride_presence(
            conn,
            {ride_id: value for ride_id, value in final.items() if written.get(ride_id) != value},
        )
        return results
