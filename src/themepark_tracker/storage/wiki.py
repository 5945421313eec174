"""The stored pairs of parks and rides with ThemeParks.wiki entities (`wiki_parks`,
`wiki_rides`). A new mapping replaces the old one and says what it changed, so that the
caller logs it: what was stored under the old pairs stays as it was."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select

from themepark_tracker.storage import writes
from themepark_tracker.storage.tables import rides, wiki_parks, wiki_rides
from themepark_tracker.wiki_mapping import ParkPair, RidePair


@dataclass(frozen=True)
class Change:
    kind: str
    """`park` or `ride`."""
    queue_times_id: int
    before: str | None
    """The ThemeParks.wiki id it had (None: none)."""
    after: str | None


def rides_of(conn: Connection, park_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """The active rides of these parks, (id, name), by park."""
    r = rides.c
    found: dict[int, list[tuple[int, str]]] = {}
    query = (
        select(r.park_id, r.id, r.name)
        .where(r.park_id.in_(list(park_ids)), r.is_active)
        .order_by(r.park_id, r.id)
    )
    for park_id, ride_id, name in conn.execute(query):
        found.setdefault(park_id, []).append((ride_id, name))
    return found


def stored_parks(conn: Connection) -> dict[int, str]:
    w = wiki_parks.c
    return {park_id: wiki_id for park_id, wiki_id in conn.execute(select(w.park_id, w.wiki_id))}


def stored_rides(conn: Connection, park_ids: Iterable[int] | None = None) -> dict[int, str]:
    w = wiki_rides.c
    query = select(w.ride_id, w.wiki_id)
    if park_ids is not None:
        query = query.where(w.park_id.in_(list(park_ids)))
    return {ride_id: wiki_id for ride_id, wiki_id in conn.execute(query)}


def save_parks(conn: Connection, pairs: Mapping[int, ParkPair], at: datetime) -> list[Change]:
    """The parks' pairs replace the stored ones (a park without a pair loses its row)."""
    before = stored_parks(conn)
    rows = [
        {
            "park_id": pair.queue_times_id,
            "wiki_id": pair.wiki_id,
            "wiki_name": pair.wiki_name,
            "how": pair.how,
            "mapped_at": at,
        }
        for pair in pairs.values()
    ]
    gone = sorted(set(before) - set(pairs))
    if gone:
        conn.execute(delete(wiki_parks).where(wiki_parks.c.park_id.in_(gone)))
    if rows:
        writes.upsert(
            conn, wiki_parks, rows, ["park_id"], ["wiki_id", "wiki_name", "how", "mapped_at"]
        )
    return _changes("park", before, {p.queue_times_id: p.wiki_id for p in pairs.values()})


def save_rides(
    conn: Connection, park_id: int, pairs: Iterable[RidePair], at: datetime
) -> list[Change]:
    """A park's ride pairs replace its stored ones; unmatched, ambiguous and turned-off
    rides have no row."""
    before = stored_rides(conn, [park_id])
    matched = [pair for pair in pairs if pair.wiki_id is not None]
    gone = sorted(set(before) - {pair.queue_times_id for pair in matched})
    if gone:
        conn.execute(delete(wiki_rides).where(wiki_rides.c.ride_id.in_(gone)))
    rows = [
        {
            "ride_id": pair.queue_times_id,
            "park_id": park_id,
            "wiki_id": pair.wiki_id,
            "wiki_name": pair.wiki_name,
            "how": pair.how,
            "mapped_at": at,
        }
        for pair in matched
    ]
    if rows:
        writes.upsert(
            conn,
            wiki_rides,
            rows,
            ["ride_id"],
            ["park_id", "wiki_id", "wiki_name", "how", "mapped_at"],
        )
    after = {pair.queue_times_id: pair.wiki_id for pair in matched if pair.wiki_id}
    return _changes("ride", before, after)


def _changes(kind: str, before: Mapping[int, str], after: Mapping[int, str]) -> list[Change]:
    return [
        Change(kind, key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]
