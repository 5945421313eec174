"""Writes: functions taking a Connection; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import mysql, sqlite

from themepark_tracker.catalogue import CataloguePlan
from themepark_tracker.classify import Decision
from themepark_tracker.engine.live import Live
from themepark_tracker.ingest import PollPlan
from themepark_tracker.sources.queue_times import CataloguePark
from themepark_tracker.storage import pools, ride_states
from themepark_tracker.storage.tables import (
    aggregation_log,
    closed_park_days,
    data_quality_issues,
    parks,
    polls,
    ride_snapshots,
    rides,
    stale_park_days,
    status_changes,
)


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """Insert rows, or update `update_columns` where a row with the same unique `keys` exists.

    The one place where the dialects differ in how a write is made idempotent.
    """
    if rows:
        statement = _upsert(conn.dialect.name, table, tuple(keys), tuple(update_columns))
        conn.execute(statement, rows[0] if len(rows) == 1 else list(rows))


@lru_cache(maxsize=32)
def _upsert(dialect: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    """Built once per table: a poll upserts its park day's rows, and building a statement
    costs a good part of running it."""
    if dialect == "mysql":
        mysql_insert = mysql.insert(table)
        return mysql_insert.on_duplicate_key_update(
            {name: mysql_insert.inserted[name] for name in columns}
        )
    sqlite_insert = sqlite.insert(table)
    return sqlite_insert.on_conflict_do_update(
        index_elements=list(keys), set_={name: sqlite_insert.excluded[name] for name in columns}
    )


_PARK_FIELDS = (
    "name",
    "operator",
    "operator_id",
    "country",
    "continent",
    "latitude",
    "longitude",
    "timezone",
)


def _park_row(park: CataloguePark) -> dict[str, Any]:
    return {name: getattr(park, name) for name in _PARK_FIELDS}


def save_catalogue(
    conn: Connection, plan: CataloguePlan, now: datetime, *, active: bool = True
) -> None:
    """Apply a catalogue plan: parks are upserted or deactivated, never deleted."""
    upsert(
        conn,
        parks,
        [
            {
                "id": park.id,
                **_park_row(park),
                "is_active": active,
                "first_seen_at": now,
                "last_seen_at": now,
                "updated_at": now,
            }
            for park in plan.added
        ],
        keys=["id"],
        update_columns=[*_PARK_FIELDS, "is_active", "last_seen_at", "updated_at"],
    )
    changed = plan.updated + plan.reactivated
    if changed:
        conn.execute(
            update(parks)
            .where(parks.c.id == bindparam("park_id"))
            .values(is_active=True, last_seen_at=now, updated_at=now),
            [{"park_id": park.id, **_park_row(park)} for park in changed],
        )
    if plan.unchanged:
        conn.execute(
            update(parks)
            .where(parks.c.id.in_([park.id for park in plan.unchanged]))
            .values(last_seen_at=now)
        )
    if plan.deactivated:
        conn.execute(
            update(parks)
            .where(parks.c.id.in_(plan.deactivated))
            .values(is_active=False, updated_at=now)
        )


def save_ride_presence(conn: Connection, presence: dict[int, tuple[datetime, bool]]) -> None:
    """Set when rides were last seen and whether they are active: one statement per value.

    Polls of a batch share few distinct times, so grouping by value keeps this to a
    handful of statements however many rides a batch touches.
    """
    groups: dict[tuple[datetime, bool], list[int]] = {}
    for ride_id, value in presence.items():
        groups.setdefault(value, []).append(ride_id)
    for (last_seen_at, is_active), ride_ids in groups.items():
        conn.execute(
            update(rides)
            .where(rides.c.id.in_(ride_ids))
            .values(last_seen_at=last_seen_at, is_active=is_active)
        )


def save_polls(conn: Connection, plans: Sequence[PollPlan]) -> None:
    """Write planned polls, in order, with everything they imply.

    Ride rows are written poll by poll (a later poll may rename what an earlier one
    added); snapshots, status changes and issues of all the polls go in one statement
    each. When rides were last seen is the caller's to write (`save_ride_presence`).
    The unique key of polls (park, time) makes a poll saved twice fail inside the
    caller's transaction, so nothing of it is written twice.
    """
    if not plans:
        return
    snapshots: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    issues: list[dict[str, Any]] = []
    ids = _insert_polls(
        conn,
        [
            {
                **plan.poll,
                "ride_states": (
                    ride_states.encode(plan.snapshots) if plan.poll["outcome"] == "ok" else None
                ),
            }
            for plan in plans
        ],
    )
    for plan in plans:
        poll_id = ids[(plan.poll["park_id"], plan.poll["polled_at"])]
        snapshots.extend({**row, "poll_id": poll_id} for row in plan.snapshots)
        changes.extend(plan.status_changes)
        issues.extend(plan.issues)
        _save_rides(conn, plan)
    if snapshots:
        conn.execute(insert(ride_snapshots), snapshots)
    if changes:
        upsert(
            conn,
            status_changes,
            changes,
            keys=["ride_id", "changed_at"],
            update_columns=["to_state"],
        )
    if issues:
        upsert(
            conn,
            data_quality_issues,
            issues,
            keys=["park_id", "ride_id", "observed_at", "issue_type"],
            update_columns=["detail"],
        )


def _insert_polls(conn: Connection, rows: list[dict[str, Any]]) -> dict[tuple[int, datetime], int]:
    """Insert poll rows in one statement and read their ids back by their natural key."""
    if len(rows) == 1:
        key = conn.execute(insert(polls).values(rows[0])).inserted_primary_key
        assert key is not None
        return {(rows[0]["park_id"], rows[0]["polled_at"]): int(key[0])}
    conn.execute(insert(polls), rows)
    wanted = {(row["park_id"], row["polled_at"]) for row in rows}
    times = [t for _, t in wanted]
    query = select(polls.c.park_id, polls.c.polled_at, polls.c.id).where(
        polls.c.park_id.in_({park_id for park_id, _ in wanted}),
        polls.c.polled_at.between(min(times), max(times)),
    )
    return {
        (park_id, polled_at): poll_id
        for park_id, polled_at, poll_id in conn.execute(query)
        if (park_id, polled_at) in wanted
    }


def _save_rides(conn: Connection, plan: PollPlan) -> None:
    if plan.new_rides:
        conn.execute(insert(rides), plan.new_rides)
    if plan.changed_rides:
        conn.execute(
            update(rides)
            .where(rides.c.id == bindparam("ride_id"))
            .values(
                name=bindparam("name"),
                land_id=bindparam("land_id"),
                land_name=bindparam("land_name"),
                updated_at=bindparam("updated_at"),
            ),
            plan.changed_rides,
        )
    if plan.state_updates:
        conn.execute(
            update(rides)
            .where(rides.c.id == bindparam("ride_id"))
            .values(current_state=bindparam("current_state"), state_since=bindparam("state_since")),
            plan.state_updates,
        )


def log_aggregation(
    conn: Connection,
    *,
    park_id: int,
    park_date: date,
    job: str,
    status: str,
    started_at: datetime,
    finished_at: datetime,
    rows_written: int,
    error: str | None = None,
) -> None:
    conn.execute(
        insert(aggregation_log).values(
            park_id=park_id,
            park_date=park_date,
            job=job,
            status=status,
            started_at=started_at,
            finished_at=finished_at,
            rows_written=rows_written,
            error=error,
        )
    )


def delete_polls(conn: Connection, park_id: int, start: datetime, end: datetime) -> int:
    """Delete a park's polls in [start, end) and their snapshots; returns polls deleted."""
    in_range = (polls.c.park_id == park_id, polls.c.polled_at >= start, polls.c.polled_at < end)
    ids = select(polls.c.id).where(*in_range).scalar_subquery()
    conn.execute(delete(ride_snapshots).where(ride_snapshots.c.poll_id.in_(ids)))
    return conn.execute(delete(polls).where(*in_range)).rowcount


def mark_stale(conn: Connection, days: Iterable[tuple[int, date]], at: datetime) -> None:
    """Record that these park days' statistics must be recomputed: in the transaction
    that stores their polls, so that no stored poll can go uncounted."""
    upsert(
        conn,
        stale_park_days,
        [{"park_id": park_id, "park_date": day, "marked_at": at} for park_id, day in days],
        keys=["park_id", "park_date"],
        update_columns=["marked_at"],
    )


def clear_stale(conn: Connection, park_id: int, day: date) -> None:
    """In the transaction that writes the day's recomputed statistics."""
    conn.execute(
        delete(stale_park_days).where(
            stale_park_days.c.park_id == park_id, stale_park_days.c.park_date == day
        )
    )


def close_day(conn: Connection, park_id: int, day: date, at: datetime) -> None:
    """Record that the day's polls are deleted: in the transaction that deletes them."""
    upsert(
        conn,
        closed_park_days,
        [{"park_id": park_id, "park_date": day, "closed_at": at}],
        keys=["park_id", "park_date"],
        update_columns=["closed_at"],
    )


def save_classification(conn: Connection, decisions: Sequence[tuple[int, Decision]]) -> None:
    if not decisions:
        return
    conn.execute(
        update(rides)
        .where(rides.c.id == bindparam("ride_id"))
        .values(
            tier=bindparam("tier"),
            category=bindparam("category"),
            tier_source=bindparam("source"),
            tier_confidence=bindparam("confidence"),
        ),
        [
            {
                "ride_id": ride_id,
                "tier": d.tier,
                "category": d.category,
                "source": d.source,
                "confidence": d.confidence,
            }
            for ride_id, d in decisions
        ],
    )
    changed = select(rides.c.park_id).where(rides.c.id.in_([ride_id for ride_id, _ in decisions]))
    bump_data_version(conn, parks.c.id.in_(changed))
    pools.forget_tiers(conn)


def bump_data_version(conn: Connection, which: ColumnElement[bool]) -> None:
    """Tell answers cached for these parks (API memo, ETags) that they changed."""
    conn.execute(update(parks).where(which).values(data_version=parks.c.data_version + 1))


#: Built once: a poll runs these for its park, and building a statement costs a good part
#: of running it.
_LOCK = {
    changing: update(parks)
    .where(parks.c.id.in_(bindparam("ids", expanding=True)))
    .values(data_version=parks.c.data_version + 1 if changing else parks.c.data_version)
    for changing in (False, True)
}
_PARK_LIVE = (
    update(parks)
    .where(parks.c.id == bindparam("park"))
    .values(
        open_now=bindparam("open_now", type_=parks.c.open_now.type),
        live_at=bindparam("live_at", type_=parks.c.live_at.type),
    )
)
_RIDES_LIVE = (
    update(rides)
    .where(rides.c.park_id == bindparam("park"), rides.c.id.in_(bindparam("ids", expanding=True)))
    .values(live_status=bindparam("status", type_=rides.c.live_status.type))
)


def lock_parks(conn: Connection, park_ids: Iterable[int], *, changing: bool = False) -> None:
    """Make the transaction the one writer of these parks' polls and statistics until it
    ends; call it before the transaction reads anything.

    MariaDB takes a transaction's snapshot at its first read: a writer that read before
    waiting for the lock would go on reading the running totals and held ranges that the
    other writer has since replaced. The lock is a write (on SQLite it takes the
    database's write lock the same way): the data version's bump when the transaction
    is `changing` the parks' statistics, else a write that changes nothing, so that
    caches keep their answers.
    """
    ids = sorted(set(park_ids))
    if ids:
        conn.execute(_LOCK[changing], {"ids": ids})


def save_live(conn: Connection, park_id: int, live: Live, stored: Mapping[int, str | None]) -> None:
    """Store a park's live status; its rides not in `live` become unknown.

    Only the rides whose status differs from the `stored` one are written: most polls
    change none. `stored` must hold every ride of the park, read after `lock_parks`.
    """
    conn.execute(_PARK_LIVE, {"park": park_id, "open_now": live.park_open, "live_at": live.at})
    changed: dict[str, list[int]] = {}
    for ride_id in sorted(stored.keys() | live.rides.keys()):
        status = live.rides.get(ride_id, "unknown")
        if stored.get(ride_id) != status:
            changed.setdefault(status, []).append(ride_id)
    for value, ride_ids in sorted(changed.items()):
        conn.execute(_RIDES_LIVE, {"park": park_id, "ids": ride_ids, "status": value})
