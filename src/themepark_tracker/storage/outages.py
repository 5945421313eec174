"""Reading a ride's outages: its list, their lengths, the ones going on now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, func, or_, select

from themepark_tracker.storage.statistics import grouped
from themepark_tracker.storage.tables import parks, ride_outages, rides


@dataclass(frozen=True)
class OutageRow:
    started_at: datetime
    ended_at: datetime | None
    minutes: float
    park_wide: bool
    park_date: date


def outages_of(
    conn: Connection, ride_id: int, first: date, last: date, limit: int | None = None
) -> list[OutageRow]:
    """The ride's outages on its park's days `first` to `last`, newest first. They
    started between the day before `first` and two days after `last` in UTC, whatever
    the park's timezone: that bounds the read of the key."""
    o = ride_outages.c
    query = (
        select(o.started_at, o.ended_at, o.minutes, o.park_wide, o.park_date)
        .where(
            o.ride_id == ride_id,
            of_days(first, last),
        )
        .order_by(o.started_at.desc())
        .limit(limit)
    )
    return [OutageRow(*row) for row in conn.execute(query)]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def outage_lengths_by_ride(
    conn: Connection, ranges: Mapping[int, tuple[date, date]]
) -> dict[int, list[tuple[float, bool]]]:
    """The (length, park-wide) of each ended outage of each ride of `ranges` on its park
    days `first` to `last`: the few rides a ranking returns, in one statement, reading
    no times (making them costs more than reading the rows)."""
    o = ride_outages.c
    groups = grouped(ranges)
    if not groups:
        return {}
    query = select(o.ride_id, o.minutes, o.park_wide).where(
        o.ended_at.is_not(None),
        or_(*(o.ride_id.in_(ids) & of_days(*span) for span, ids in groups.items())),
    )
    found: dict[int, list[tuple[float, bool]]] = {ride_id: [] for ride_id in ranges}
    for ride_id, minutes, park_wide in conn.execute(query):
        found[ride_id].append((float(minutes), bool(park_wide)))
    return found


def outage_lengths_by_park(
    conn: Connection, ranges: Mapping[int, tuple[date, date]]
) -> dict[int, list[tuple[float, bool]]]:
    """The (length, park-wide) of each ended outage of each park's rides on its park days
    `first` to `last`, counted per length in SQL."""
    o, r = ride_outages.c, rides.c
    groups = grouped(ranges)
    if not groups:
        return {}
    query = (
        select(r.park_id, o.minutes, o.park_wide, func.count())
        .join_from(ride_outages, rides, r.id == o.ride_id)
        .where(
            o.ended_at.is_not(None),
            or_(
                *(
                    o.ride_id.in_(select(r.id).where(r.park_id.in_(ids))) & of_days(*span)
                    for span, ids in groups.items()
                )
            ),
        )
        .group_by(r.park_id, o.minutes, o.park_wide)
    )
    found: dict[int, list[tuple[float, bool]]] = {park_id: [] for park_id in ranges}
    for park_id, minutes, park_wide, count in conn.execute(query):
        found[park_id] += [(float(minutes), bool(park_wide))] * int(count)
    return found


def _whole_second(moment: datetime) -> datetime:
    """Starts are whole seconds (`UTCSeconds` refuses a fraction): a bound on them is too."""
    return moment.replace(microsecond=0)


def of_days(first: date, last: date) -> ColumnElement[bool]:
    """Outages of the park days `first` to `last`, found through their start in the key:
    an outage starts within its day, which begins on its date in the park's timezone,
    so in UTC between the day before the date and two days after it."""
    o = ride_outages.c
    return (
        (o.started_at >= _midnight(first) - timedelta(days=1))
        & (o.started_at < _midnight(last) + timedelta(days=2))
        & o.park_date.between(first, last)
    )


def ongoing_outage(conn: Connection, ride_id: int, since: datetime) -> OutageRow | None:
    """The ride's outage going on now, if one started after `since`."""
    o = ride_outages.c
    since = _whole_second(since)
    row = conn.execute(
        select(o.started_at, o.ended_at, o.minutes, o.park_wide, o.park_date)
        .where(o.ride_id == ride_id, o.started_at >= since, o.ended_at.is_(None))
        .order_by(o.started_at.desc())
        .limit(1)
    ).first()
    return None if row is None else OutageRow(*row)


@dataclass(frozen=True)
class DownRide:
    ride_id: int
    name: str
    park_id: int
    park_name: str
    timezone: str
    tier: int | None
    live_at: datetime | None
    """The park's latest poll: the stored status is from it."""
    started_at: datetime | None
    """Its ongoing outage's first closed poll (None: not recomputed yet)."""
    park_wide: bool


def rides_down(conn: Connection, since: datetime) -> list[DownRide]:
    """Active rides whose stored live status is down, with their ongoing outage (one
    that started after `since`)."""
    o, r = ride_outages.c, rides.c
    since = _whole_second(since)
    down = select(r.id).where(r.live_status == "down")
    ongoing = (
        select(o.ride_id, func.max(o.started_at).label("started_at"))
        .where(o.ride_id.in_(down), o.ended_at.is_(None), o.started_at >= since)
        .group_by(o.ride_id)
        .subquery()
    )
    query = (
        select(
            r.id,
            r.name,
            r.park_id,
            parks.c.name,
            parks.c.timezone,
            r.tier,
            parks.c.live_at,
            ongoing.c.started_at,
            o.park_wide,
        )  # fmt: skip
        .join_from(rides, parks, parks.c.id == r.park_id)
        .outerjoin(ongoing, ongoing.c.ride_id == r.id)
        .outerjoin(ride_outages, (o.ride_id == r.id) & (o.started_at == ongoing.c.started_at))
        .where(r.live_status == "down", r.is_active, parks.c.is_active)
    )
    return [DownRide(*row[:8], bool(row.park_wide)) for row in conn.execute(query)]
