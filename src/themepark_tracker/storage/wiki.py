"""What is stored of the second source: the pairs of parks and rides with ThemeParks.wiki
entities (`wiki_parks`, `wiki_rides`), its live answers as ride statuses (`wiki_live`)
and its published hours (`wiki_schedules`).

A new mapping replaces the old one and says what it changed, so that the caller logs
it: what was stored under the old pairs stays as it was (statuses are stored by ride,
under the pairs of their time)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from themepark_tracker.engine.sessions import Hours, Poll, operating_hours, with_statuses
from themepark_tracker.engine.states import STATUSES, Status
from themepark_tracker.sources.themeparks_wiki import ScheduledHours
from themepark_tracker.storage import writes
from themepark_tracker.storage.tables import (
    rides,
    wiki_live,
    wiki_parks,
    wiki_rides,
    wiki_schedules,
)
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


def rides_by_entity(conn: Connection, park_id: int) -> dict[str, list[int]]:
    """The park's paired rides by entity: several rides may be one entity."""
    w = wiki_rides.c
    found: dict[str, list[int]] = {}
    query = select(w.wiki_id, w.ride_id).where(w.park_id == park_id).order_by(w.ride_id)
    for wiki_id, ride_id in conn.execute(query):
        found.setdefault(wiki_id, []).append(ride_id)
    return found


_LETTERS = {status: status[0] for status in STATUSES}
_STATUSES = {letter: status for status, letter in _LETTERS.items()}


def encode_statuses(statuses: Mapping[int, Status]) -> str:
    """`{ride id}{O|D|C|R}`, comma-separated, by ride."""
    return ",".join(f"{ride}{_LETTERS[statuses[ride]]}" for ride in sorted(statuses))


def decode_statuses(text: str) -> dict[int, Status]:
    return {int(token[:-1]): _STATUSES[token[-1]] for token in text.split(",") if token}


def save_live(
    conn: Connection, park_id: int, fetched_at: datetime, statuses: Mapping[int, Status]
) -> bool:
    """Store an answer's statuses; False when that fetch is stored already (a re-import)."""
    w = wiki_live.c
    key = (w.park_id == park_id, w.fetched_at == fetched_at)
    if conn.execute(select(w.park_id).where(*key)).first() is not None:
        return False
    # An upsert: a collector and an import storing the same fetch at once both pass the
    # look above, and the second must not fail on the key.
    row = {"park_id": park_id, "fetched_at": fetched_at, "statuses": encode_statuses(statuses)}
    writes.upsert(conn, wiki_live, [row], ["park_id", "fetched_at"], ["statuses"])
    return True


def live_between(
    conn: Connection, park_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, dict[int, Status]]]:
    """The park's answers fetched in [start, end), in time order."""
    w = wiki_live.c
    query = (
        select(w.fetched_at, w.statuses)
        .where(w.park_id == park_id, w.fetched_at >= start, w.fetched_at < end)
        .order_by(w.fetched_at)
    )
    return [(at, decode_statuses(text)) for at, text in conn.execute(query)]


def statuses_before(conn: Connection, park_id: int, at: datetime) -> dict[int, Status]:
    """The statuses of the park's last answer fetched before `at` (none: empty)."""
    w = wiki_live.c
    query = (
        select(w.statuses)
        .where(w.park_id == park_id, w.fetched_at < at)
        .order_by(w.fetched_at.desc())
        .limit(1)
    )
    found = conn.execute(query).scalar_one_or_none()
    return {} if found is None else decode_statuses(found)


def statuses_of(
    conn: Connection, park_id: int, polls: Sequence[Poll], within: timedelta
) -> list[Poll]:
    """The park's polls (in time order) with the statuses that go with each."""
    if not polls:
        return []
    answers = live_between(
        conn, park_id, polls[0].at - within, polls[-1].at + within + timedelta(seconds=1)
    )
    return with_statuses(polls, answers, within) if answers else list(polls)


def hours_of(conn: Connection, park_id: int, day: date) -> Hours | None:
    """The park day's published operating hours; None when no schedule of it is stored
    (an empty tuple: published, with no operating hours)."""
    entries = schedule_of(conn, park_id, day, day)
    if not entries:
        return None
    return operating_hours(
        [(entry.opens, entry.closes) for entry in entries if entry.kind == "OPERATING"]
    )


def delete_live(conn: Connection, park_id: int, start: datetime, end: datetime) -> int:
    w = wiki_live.c
    which = (w.park_id == park_id, w.fetched_at >= start, w.fetched_at < end)
    return int(conn.execute(delete(wiki_live).where(*which)).rowcount or 0)


def save_schedule(
    conn: Connection,
    park_id: int,
    fetched_at: datetime,
    hours: Sequence[ScheduledHours],
    covered: tuple[date, date],
) -> list[date]:
    """A fetched schedule covering the dates `covered` (from the park's local date when it
    was fetched: none of them is over) up to the last day it lists: it replaces each of
    those days stored from an older fetch or not at all (a day missing from it is not
    published), so that a day counts with the version last fetched before it ended, and
    a re-import of an older fetch changes nothing. Days before `covered` in it (a month
    asked for) fill days that have none: days no fetch covered before they ended.
    Returns the days whose published hours changed."""
    s = wiki_schedules.c
    first, last = covered
    if hours:
        # An answer covers up to its last listed day: a month asked for ends with it.
        last = min(last, max(entry.day for entry in hours))
    by_day: dict[date, list[ScheduledHours]] = {}
    for entry in hours:
        if entry.day <= last:
            by_day.setdefault(entry.day, []).append(entry)
    earliest = min([first, *by_day])
    stored = dict(
        conn.execute(
            select(s.park_date, func.max(s.fetched_at))
            .where(s.park_id == park_id, s.park_date.between(earliest, last))
            .group_by(s.park_date)
        ).all()
    )
    every = (first + timedelta(days=n) for n in range((last - first).days + 1))
    replaced = [day for day in every if day not in stored or stored[day] < fetched_at]
    filled = [day for day in by_day if day < first and day not in stored]
    if replaced:
        conn.execute(delete(wiki_schedules).where(s.park_id == park_id, s.park_date.in_(replaced)))
    rows = [
        {
            "park_id": park_id,
            "park_date": entry.day,
            "kind": entry.kind,
            "opens_at": entry.opens.replace(microsecond=0),
            "closes_at": entry.closes.replace(microsecond=0),
            "description": entry.description,
            "fetched_at": fetched_at,
        }
        for day in sorted(set(replaced) | set(filled))
        for entry in _unique(by_day.get(day, []))
    ]
    if rows:
        conn.execute(insert(wiki_schedules), rows)
    # A day replaced by one with nothing published changed too: it had hours.
    return sorted({*replaced, *filled} & ({*stored} | {row["park_date"] for row in rows}))


def schedule_of(conn: Connection, park_id: int, first: date, last: date) -> list[ScheduledHours]:
    s = wiki_schedules.c
    query = (
        select(s.park_date, s.kind, s.opens_at, s.closes_at, s.description)
        .where(s.park_id == park_id, s.park_date.between(first, last))
        .order_by(s.park_date, s.opens_at)
    )
    return [ScheduledHours(*row) for row in conn.execute(query)]


def _unique(entries: list[ScheduledHours]) -> list[ScheduledHours]:
    """One entry per (kind, opening): the key of the stored rows."""
    seen: dict[tuple[str, datetime], ScheduledHours] = {}
    for entry in entries:
        seen.setdefault((entry.kind, entry.opens.replace(microsecond=0)), entry)
    return list(seen.values())


def schedules_fetched(conn: Connection) -> dict[int, datetime]:
    """When each paired park's schedule was last fetched, for those fetched once."""
    w = wiki_parks.c
    query = select(w.park_id, w.schedule_fetched_at).where(w.schedule_fetched_at.is_not(None))
    return {park_id: at for park_id, at in conn.execute(query)}


def schedule_fetched(conn: Connection, park_id: int, at: datetime) -> None:
    """A schedule answer of a paired park was read at `at` (an older one, re-imported,
    changes nothing)."""
    w = wiki_parks.c
    conn.execute(
        update(wiki_parks)
        .where(
            w.park_id == park_id,
            or_(w.schedule_fetched_at.is_(None), w.schedule_fetched_at < at),
        )
        .values(schedule_fetched_at=at.replace(microsecond=0))
    )
