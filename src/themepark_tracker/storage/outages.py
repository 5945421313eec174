"""Reading a ride's outages: its list, their lengths, the ones going on now."""

from __future__ import annotations

import bisect
import sys
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, or_, select

from themepark_tracker.engine.outages import (
    BUCKET_MINUTES,
    PeriodOutages,
    bucket_of,
    lengths_of,
    lengths_of_buckets,
)
from themepark_tracker.storage.statistics import ParkSums, grouped
from themepark_tracker.storage.tables import park_daily_stats, parks, ride_outages, rides


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


def ended_of_rides(ranges: Mapping[int, tuple[date, date]]) -> ColumnElement[bool] | None:
    """The ended outages of each ride of `ranges` on its park days `first` to `last` (one
    condition per span, over the key); None when there is no ride."""
    o = ride_outages.c
    groups = grouped(ranges)
    if not groups:
        return None
    return o.ended_at.is_not(None) & or_(
        *(o.ride_id.in_(ids) & of_days(*span) for span, ids in groups.items())
    )


def outage_lengths_by_ride(
    conn: Connection, ranges: Mapping[int, tuple[date, date]]
) -> dict[int, list[tuple[float, bool]]]:
    """The (length, park-wide) of each ended outage of each ride of `ranges` on its park
    days `first` to `last`: the few rides a ranking returns, in one statement, reading
    no times (making them costs more than reading the rows)."""
    o = ride_outages.c
    chosen = ended_of_rides(ranges)
    if chosen is None:
        return {}
    query = select(o.ride_id, o.minutes, o.park_wide).where(chosen)
    found: dict[int, list[tuple[float, bool]]] = {ride_id: [] for ride_id in ranges}
    for ride_id, minutes, park_wide in conn.execute(query):
        found[ride_id].append((float(minutes), bool(park_wide)))
    return found


#: A park's outages over a period of more than this many days are read from buckets
#: (`CHECKPOINT_DAYS`); over a shorter one, exactly from each day's lengths.
EXACT_DAYS = 31
#: Every this many park days, the park's row holds the buckets of all its days so far:
#: any day's are then that and at most 7 days' lengths.
CHECKPOINT_DAYS = 8
#: A bucket list starts with the ride outages, their seconds, the park-wide outages and
#: their seconds; then the ride and park-wide outages nearest each 10 minutes, in turn.
_HEAD = 4


def park_outages(conn: Connection, ranked: Sequence[ParkSums]) -> dict[int, PeriodOutages]:
    """The ended outages of each park's counted rides over its period, from the park's
    rows: a row a day (`outage_seconds`), or over more than `EXACT_DAYS` days the
    buckets of a checkpoint and of a few days at each end (`cum_outages`)."""
    short = {
        park.park_id: (park.park.first, park.park.last)
        for park in ranked
        if (park.park.last - park.park.first).days < EXACT_DAYS
    }
    found = {park_id: _exact(seconds) for park_id, seconds in _seconds_by_park(conn, short).items()}
    numbers = {park.park_id: park.day_numbers for park in ranked if park.park_id not in short}
    through = buckets_through(conn, {p: set(pair) for p, pair in numbers.items()})
    for park_id, (before, end) in numbers.items():
        found[park_id] = _bucketed(_added(through[(park_id, end)], through[(park_id, before)], -1))
    return found


def _seconds_by_park(
    conn: Connection, ranges: Mapping[int, tuple[date, date]]
) -> dict[int, array[int]]:
    p = park_daily_stats.c
    found = {park_id: array("i") for park_id in ranges}
    groups = grouped(ranges)
    if not groups:
        return found
    query = select(p.park_id, p.outage_seconds).where(
        p.outage_seconds.is_not(None),
        or_(*(p.park_id.in_(ids) & p.stat_date.between(*span) for span, ids in groups.items())),
    )
    for park_id, packed in conn.execute(query):
        found[park_id].extend(from_little_endian("i", packed))
    return found


def _exact(seconds: array[int]) -> PeriodOutages:
    """Each day's lengths are stored sorted, so sorting the period's merges runs; the
    park-wide ones are negative and come first, the longest first."""
    ordered = sorted(seconds)
    split = bisect.bisect_left(ordered, 0)
    ride = ordered[split:]
    every = sorted(ride + [-length for length in reversed(ordered[:split])])
    return PeriodOutages(lengths_of(every, per_minute=60), lengths_of(ride, per_minute=60))


def _bucketed(buckets: Sequence[int]) -> PeriodOutages:
    ride, wide = buckets[_HEAD::2], buckets[_HEAD + 1 :: 2]
    both = [a + b for a, b in zip(ride, wide, strict=False)] + list(ride[len(wide) :])
    return PeriodOutages(
        lengths_of_buckets(both, (buckets[1] + buckets[3]) / 60, BUCKET_MINUTES),
        lengths_of_buckets(ride, buckets[1] / 60, BUCKET_MINUTES),
    )


def buckets_through(
    conn: Connection, numbers: Mapping[int, Iterable[int]]
) -> dict[tuple[int, int], list[int]]:
    """The buckets of each park's days up to and including each of its day numbers: the
    checkpoint at or before it, and the lengths of the days after the checkpoint."""
    p = park_daily_stats.c
    wanted = [(park_id, n) for park_id, ns in numbers.items() for n in ns]
    found: dict[tuple[int, int], list[int]] = {key: [0] * _HEAD for key in wanted}
    spans = [(park_id, n - n % CHECKPOINT_DAYS, n) for park_id, n in wanted if n > 0]
    if not spans:
        return found
    query = select(p.park_id, p.day_number, p.outage_seconds, p.cum_outages).where(
        or_(*((p.park_id == park_id) & p.day_number.between(lo, hi) for park_id, lo, hi in spans))
    )
    rows: dict[tuple[int, int], tuple[bytes | None, bytes | None]] = {
        (park_id, number): (packed, checkpoint)
        for park_id, number, packed, checkpoint in conn.execute(query)
    }
    for park_id, lo, hi in spans:
        into = found[(park_id, hi)]
        for number in range(lo, hi + 1):
            packed, checkpoint = rows.get((park_id, number), (None, None))
            if number == lo and checkpoint is not None:
                into[:] = _added(into, from_little_endian("q", checkpoint))
            elif number > lo and packed is not None:
                add_to_buckets(into, from_little_endian("i", packed))
    return found


def add_to_buckets(buckets: list[int], seconds: Iterable[int]) -> None:
    """Count lengths (seconds, negative when park-wide) into `buckets`, each in the one
    of its nearest 10 minutes."""
    for length in seconds:
        wide = length < 0
        length = -length if wide else length
        slot = _HEAD + 2 * bucket_of(length) + wide
        if slot >= len(buckets):
            buckets.extend([0] * (slot + 1 - len(buckets)))
        buckets[slot] += 1
        buckets[2 * wide] += 1
        buckets[2 * wide + 1] += length


def _added(left: Sequence[int], right: Sequence[int], sign: int = 1) -> list[int]:
    total = list(left) + [0] * (len(right) - len(left))
    for index, value in enumerate(right):
        total[index] += sign * value
    return total


def pack_buckets(buckets: Sequence[int]) -> bytes:
    return little_endian(array("q", buckets))


def from_little_endian(kind: str, packed: bytes) -> array[Any]:
    """An `array` of `kind` from the little-endian bytes the database holds."""
    found = array(kind)
    found.frombytes(packed)
    if sys.byteorder == "big":
        found.byteswap()
    return found


def little_endian(values: array[Any]) -> bytes:
    """An `array`'s bytes as the database holds them, whatever the machine."""
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def pack_lengths(lengths: Iterable[tuple[float, bool]]) -> bytes | None:
    """(minutes, park-wide) as little-endian int32 seconds, negative when park-wide, in
    order; None for none. Ended outages are whole seconds: sums of the gaps between polls, which are
    whole seconds, or of `max_gap`."""
    seconds = array("i", sorted(round(m * 60) * (-1 if wide else 1) for m, wide in lengths))
    return little_endian(seconds) if seconds else None


def unpack_lengths(packed: bytes) -> list[tuple[float, bool]]:
    return [(abs(s) / 60, s < 0) for s in unpack_seconds(packed)]


def unpack_seconds(packed: bytes) -> array[int]:
    return from_little_endian("i", packed)


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
