"""Reads: functions taking a Connection and returning plain data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, func, select

from themepark_tracker.catalogue import StoredPark
from themepark_tracker.ingest import StoredRide
from themepark_tracker.sources.queue_times import CataloguePark
from themepark_tracker.storage.tables import parks, polls, rides


def stored_parks(conn: Connection) -> dict[int, StoredPark]:
    rows = conn.execute(select(parks)).mappings()
    return {
        row["id"]: StoredPark(
            park=CataloguePark(
                id=row["id"],
                name=row["name"],
                operator=row["operator"],
                operator_id=row["operator_id"],
                country=row["country"],
                continent=row["continent"],
                latitude=row["latitude"],
                longitude=row["longitude"],
                timezone=row["timezone"],
            ),
            is_active=bool(row["is_active"]),
        )
        for row in rows
    }


@dataclass(frozen=True)
class OperatorCount:
    operator: str
    active: int
    inactive: int


def park_counts_by_operator(conn: Connection) -> list[OperatorCount]:
    active = func.sum(case((parks.c.is_active, 1), else_=0))
    query = (
        select(parks.c.operator, active.label("active"), func.count().label("total"))
        .group_by(parks.c.operator)
        .order_by(active.desc(), parks.c.operator)
    )
    return [
        OperatorCount(row.operator, int(row.active), int(row.total) - int(row.active))
        for row in conn.execute(query)
    ]


def active_park_ids(conn: Connection) -> list[int]:
    return list(
        conn.execute(select(parks.c.id).where(parks.c.is_active).order_by(parks.c.id)).scalars()
    )


def catalogue_synced_at(conn: Connection) -> datetime | None:
    """When the catalogue last listed any park we track: its age decides a refresh."""
    return conn.execute(select(func.max(parks.c.last_seen_at))).scalar_one_or_none()


def all_park_ids(conn: Connection) -> list[int]:
    return list(conn.execute(select(parks.c.id)).scalars())


def stored_poll_keys(
    conn: Connection, keys: Sequence[tuple[int, datetime]]
) -> set[tuple[int, datetime]]:
    """Which of these (park, time) polls are stored already: one query for a batch."""
    if not keys:
        return set()
    times = [t for _, t in keys]
    query = select(polls.c.park_id, polls.c.polled_at).where(
        polls.c.park_id.in_({park_id for park_id, _ in keys}),
        polls.c.polled_at.between(min(times), max(times)),
    )
    wanted = set(keys)
    return {(row.park_id, row.polled_at) for row in conn.execute(query)} & wanted


def poll_exists(conn: Connection, park_id: int, polled_at: datetime) -> bool:
    query = select(polls.c.id).where(polls.c.park_id == park_id, polls.c.polled_at == polled_at)
    return conn.execute(query).first() is not None


def park_rides(conn: Connection, park_id: int) -> dict[int, StoredRide]:
    query = select(
        rides.c.id,
        rides.c.name,
        rides.c.land_id,
        rides.c.land_name,
        rides.c.category,
        rides.c.current_state,
        rides.c.state_since,
        rides.c.is_active,
        rides.c.last_seen_at,
    ).where(rides.c.park_id == park_id)
    return {
        row.id: StoredRide(
            row.id,
            row.name,
            row.land_id,
            row.land_name,
            row.category,
            row.current_state,
            row.state_since,
            bool(row.is_active),
            row.last_seen_at,
        )
        for row in conn.execute(query)
    }
