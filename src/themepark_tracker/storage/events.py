"""The events of each park day as subscribers are told them (`events`): a day computed
again adds only what changed, as rows naming what they change, so that nothing is told
twice and nothing told is taken back silently."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from themepark_tracker.engine.events import Event
from themepark_tracker.storage.tables import events, rides

#: How many events a feed shows.
RECENT = 100


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    id: str
    kind: str
    park_id: int
    ride_id: int | None
    park_date: date
    occurred_at: datetime
    confirmed_at: datetime
    data: dict[str, Any]
    corrects: str | None
    recorded_at: datetime
    ride_name: str | None


def _json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _derived(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def save_day(
    conn: Connection, park_id: int, day: date, found: Sequence[Event], now: datetime
) -> int:
    """Record the day's events against what was recorded of it; returns the rows added.

    - an event not recorded yet is added;
    - one recorded with other facts (a late poll moved an outage's end) gets a
      correction: the same kind, the new facts, `corrects` naming it;
    - one recorded that the day no longer has (an announced outage the ride never
      reopened from) gets a retraction: `outage.retracted`, or `event.retracted`.
    """
    e = events.c
    rows = conn.execute(
        select(e.id, e.kind, e.ride_id, e.occurred_at, e.data, e.corrects)
        .where(e.park_id == park_id, e.park_date == day)
        .order_by(e.seq)
    ).all()
    latest: dict[str, tuple[str, datetime, str]] = {}
    rides: dict[str, int | None] = {}
    retracted: set[str] = set()
    corrections: dict[str, int] = {}
    for row in rows:
        base = row.corrects or row.id
        if row.kind.endswith(".retracted"):
            retracted.add(base)
            continue
        if row.corrects:
            corrections[base] = corrections.get(base, 0) + 1
        latest[base] = (row.kind, row.occurred_at, row.data)
        rides[base] = row.ride_id
    added: list[dict[str, Any]] = []

    def add(event_id: str, kind: str, event: Event, corrects: str | None) -> None:
        added.append(
            {
                "id": event_id,
                "kind": kind,
                "park_id": park_id,
                "ride_id": event.ride_id,
                "park_date": day,
                "occurred_at": event.at.replace(microsecond=0),
                "confirmed_at": event.confirmed_at.replace(microsecond=0),
                "data": _json(dict(event.data)),
                "corrects": corrects,
                "recorded_at": now,
            }
        )

    current = {event.id: event for event in found}
    for event in found:
        known = latest.get(event.id)
        facts = (event.kind, event.at.replace(microsecond=0), _json(dict(event.data)))
        if known is None:
            add(event.id, event.kind, event, None)
        elif known != facts or event.id in retracted:
            count = corrections.get(event.id, 0) + 1
            add(_derived(event.id, "corrected", count), event.kind, event, event.id)
    for base, (kind, at, data) in latest.items():
        if base in current or base in retracted:
            continue
        gone = Event(base, kind, park_id, rides[base], at, now, json.loads(data))
        undo = "outage.retracted" if kind.startswith("outage.") else "event.retracted"
        add(_derived(base, "retracted"), undo, gone, base)
    if added:
        conn.execute(insert(events), added)
    return len(added)


def recent(
    conn: Connection,
    *,
    park_id: int | None = None,
    ride_id: int | None = None,
    limit: int = RECENT,
) -> list[StoredEvent]:
    """A park's or a ride's latest events, newest recorded first, with its ride's name."""
    e = events.c
    query = (
        select(events, rides.c.name.label("ride_name"))
        .outerjoin(rides, rides.c.id == e.ride_id)
        .order_by(e.seq.desc())
        .limit(limit)
    )
    if park_id is not None:
        query = query.where(e.park_id == park_id)
    if ride_id is not None:
        query = query.where(e.ride_id == ride_id)
    return [
        StoredEvent(
            row.seq,
            row.id,
            row.kind,
            row.park_id,
            row.ride_id,
            row.park_date,
            row.occurred_at,
            row.confirmed_at,
            json.loads(row.data),
            row.corrects,
            row.recorded_at,
            row.ride_name,
        )
        for row in conn.execute(query)
    ]
