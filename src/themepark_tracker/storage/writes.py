"""Writes: functions taking a Connection; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, update
from sqlalchemy.dialects import mysql, sqlite

from themepark_tracker.catalogue import CataloguePlan
from themepark_tracker.sources.queue_times import CataloguePark
from themepark_tracker.storage.tables import parks


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
    if not rows:
        return
    if conn.dialect.name == "mysql":
        mysql_insert = mysql.insert(table)
        conn.execute(
            mysql_insert.on_duplicate_key_update(
                {name: mysql_insert.inserted[name] for name in update_columns}
            ),
            list(rows),
        )
    else:
        sqlite_insert = sqlite.insert(table)
        conn.execute(
            sqlite_insert.on_conflict_do_update(
                index_elements=list(keys),
                set_={name: sqlite_insert.excluded[name] for name in update_columns},
            ),
            list(rows),
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


def save_catalogue(conn: Connection, plan: CataloguePlan, now: datetime) -> None:
    """Apply a catalogue plan: parks are upserted or deactivated, never deleted."""
    upsert(
        conn,
        parks,
        [
            {
                "id": park.id,
                **_park_row(park),
                "is_active": True,
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
