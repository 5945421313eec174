"""Storing polls: the single path that `collect` and `import` share."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from themepark_tracker.classify import ClassificationError, Decisions
from themepark_tracker.config import Settings
from themepark_tracker.engine.sessions import DayRules, park_day_of
from themepark_tracker.engine.states import StateRules
from themepark_tracker.ingest import PollInput, PollPlan, StoredRide, apply_plan, plan_poll
from themepark_tracker.jobs.classify import load_decisions
from themepark_tracker.jobs.daily_stats import StatsRules, refresh_park_day
from themepark_tracker.storage import queries, writes
from themepark_tracker.storage.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredPoll:
    """What became of a poll. A `late` one belongs to a closed day (`day`): its day's
    polls are deleted, so it was not stored and changes nothing."""

    status: Literal["stored", "duplicate", "unknown_park", "late"]
    outcome: str
    rides: int = 0
    status_changes: int = 0
    issues: int = 0
    is_active: bool = False
    day: date | None = None


@dataclass(frozen=True)
class PollRules:
    """Everything storing a poll depends on, besides the poll itself."""

    states: StateRules
    days: DayRules
    ride_absence: timedelta
    decisions: Decisions

    @classmethod
    def from_settings(cls, settings: Settings) -> PollRules:
        """A broken overrides or cache file does not stop collection: new rides are then
        decided by the keyword rules alone, and `classify` says what is wrong."""
        try:
            decisions = load_decisions(
                settings.tier_overrides_path, settings.classification_cache_path
            )
        except (ClassificationError, OSError) as exc:
            log.error(
                "tier decisions unreadable; new rides get keyword rules only",
                extra={"error": str(exc)},
            )
            decisions = Decisions()
        return cls(
            settings.state_rules(),
            settings.day_rules(),
            timedelta(hours=settings.ride_absence_hours),
            decisions,
        )


class PollStore:
    """Stores the polls of one job run (a collection cycle, an import).

    It remembers each park's rides as its own writes leave them, so that a run reads a
    park's rides once rather than once per poll; any failed transaction makes it forget,
    and the next poll reads them again.

    Each stored poll's park day gets its statistics recomputed: in the poll's own
    transaction by default (collect), or, with `defer_stats`, once per park day when
    `refresh_stats()` is called (an import touches each day hundreds of times). Deferred
    days are marked stale in the transaction that stores their polls, so a run killed
    before it recomputed them leaves them named for the next one (or `aggregate`).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        cycle_id: str,
        source: str,
        rules: PollRules,
        now: Callable[[], datetime],
        defer_stats: bool = False,
    ) -> None:
        self.engine = engine
        self.cycle_id = cycle_id
        self.source = source
        self.rules = rules
        self.now = now
        self.defer_stats = defer_stats
        self._parks: dict[int, ZoneInfo] | None = None
        self._rides: dict[int, dict[int, StoredRide]] = {}

    def store(self, poll: PollInput) -> StoredPoll:
        """One poll in its own transaction."""
        return self.store_many([poll])[0]

    def store_many(self, polls: Sequence[PollInput]) -> list[StoredPoll]:
        """Polls in one transaction; a poll already stored is left alone.

        Should another writer store one of them meanwhile, the batch is rolled back and
        redone one poll per transaction, so that only that poll is skipped. A deadlock
        runs the transaction again.
        """
        try:
            return transaction(self.engine, lambda conn: self._store(conn, polls))
        except IntegrityError:
            if len(polls) > 1:
                return [result for poll in polls for result in self.store_many([poll])]
            with self.engine.connect() as conn:
                key = (polls[0].park_id, polls[0].fetched_at)
                if queries.stored_poll_keys(conn, [key]):
                    return [StoredPoll("duplicate", polls[0].outcome)]
            raise

    def forget(self) -> None:
        """Drop what is remembered: after a rollback, or when the catalogue changed."""
        self._parks = None
        self._rides.clear()

    def refresh_stats(self) -> int:
        """Recompute the statistics of every park day marked stale: this run's, and any
        that a killed run left."""
        with self.engine.connect() as conn:
            stale = queries.stale_days(conn)
        written = 0
        for park_id, day in stale:
            written += transaction(self.engine, partial(self._refresh, park_id=park_id, day=day))
        return written

    def _refresh(self, conn: Connection, *, park_id: int, day: date) -> int:
        writes.lock_parks(conn, [park_id])  # before anything is read
        zone = self._zones(conn).get(park_id)
        if zone is None:
            self._parks = None
            zone = self._zones(conn)[park_id]
        rules = StatsRules(self.rules.states, self.rules.days)
        return refresh_park_day(conn, park_id, zone, day, now=self.now(), rules=rules)

    def _zones(self, conn: Connection) -> dict[int, ZoneInfo]:
        if self._parks is None:
            self._parks = {
                park_id: ZoneInfo(zone) for park_id, zone in queries.park_timezones(conn).items()
            }
        return self._parks

    def _plan(
        self,
        conn: Connection,
        poll: PollInput,
        rides: dict[int, StoredRide],
        created: dict[int, int],
    ) -> PollPlan:
        """The poll's plan, without the rides that are another park's: a payload may list
        a ride id that is stored under another park (or that another poll of the batch
        adds for its park). Only polls that add rides pay for the look-up."""
        plan_for = partial(
            plan_poll,
            poll,
            rides,
            cycle_id=self.cycle_id,
            source=self.source,
            rules=self.rules.states,
            ride_absence=self.rules.ride_absence,
            decisions=self.rules.decisions,
        )
        plan = plan_for()
        new = [row["id"] for row in plan.new_rides]
        if new:
            owners = queries.ride_parks(conn, new) | {i: created[i] for i in new if i in created}
            foreign = {ride_id for ride_id, park_id in owners.items() if park_id != poll.park_id}
            if foreign:
                plan = plan_for(foreign=foreign)
            created.update((row["id"], poll.park_id) for row in plan.new_rides)
        return plan

    def _store(self, conn: Connection, polls: Sequence[PollInput]) -> list[StoredPoll]:
        try:
            return self._store_in(conn, polls)
        except BaseException:
            self.forget()  # what was remembered may be what is now rolled back
            raise

    def _store_in(self, conn: Connection, polls: Sequence[PollInput]) -> list[StoredPoll]:
        writes.lock_parks(conn, (poll.park_id for poll in polls))
        zones = self._zones(conn)
        stored = queries.stored_poll_keys(conn, [(p.park_id, p.fetched_at) for p in polls])
        days = [
            park_day_of(poll.fetched_at, zones[poll.park_id], self.rules.days)
            if poll.park_id in zones
            else None
            for poll in polls
        ]
        known = [day for day in days if day is not None]
        closed = (
            queries.closed_days(conn, sorted({p.park_id for p in polls}), min(known), max(known))
            if known
            else set()
        )
        results: list[StoredPoll] = []
        plans: list[PollPlan] = []
        stale: set[tuple[int, date]] = set()
        created: dict[int, int] = {}
        written: dict[int, tuple[datetime, bool]] = {}
        for poll, day in zip(polls, days, strict=True):
            key = (poll.park_id, poll.fetched_at)
            if day is None:
                results.append(StoredPoll("unknown_park", poll.outcome))
                continue
            if key in stored:
                results.append(StoredPoll("duplicate", poll.outcome))
                continue
            if (poll.park_id, day) in closed:
                results.append(StoredPoll("late", poll.outcome, day=day))
                continue
            stored.add(key)
            stale.add((poll.park_id, day))
            rides = self._rides.get(poll.park_id)
            if rides is None:
                rides = queries.park_rides(conn, poll.park_id)
            for ride in rides.values():
                written.setdefault(ride.id, (ride.last_seen_at, ride.is_active))
            plan = self._plan(conn, poll, rides, created)
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
                    day,
                )
            )
        writes.save_polls(conn, plans)
        final = {
            ride.id: (ride.last_seen_at, ride.is_active)
            for park_id in {plan.poll["park_id"] for plan in plans}
            for ride in self._rides[park_id].values()
        }
        changed = {
            ride_id: value for ride_id, value in final.items() if written.get(ride_id) != value
        }
        writes.save_ride_presence(conn, changed)
        if self.defer_stats:
            writes.mark_stale(conn, sorted(stale), self.now())
        else:
            for park_id, day in sorted(stale):
                self._refresh(conn, park_id=park_id, day=day)
        return results
