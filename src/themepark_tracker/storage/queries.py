"""Reads: functions taking a Connection and returning plain data."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, case, func, select

from themepark_tracker.catalogue import StoredPark
from themepark_tracker.sources.queue_times import CataloguePark
from themepark_tracker.storage.tables import parks


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
