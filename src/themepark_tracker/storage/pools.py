"""The pools a recovery estimate learns from: prepared, or read from the outages.

Every pool (a ride's own outages, its park's park-wide outages, its park's rides of its
tier, every park's rides of its tier) is the same for every question asked on the same
park day, and the last one holds thousands of outages. So `aggregate` prepares each
pool's curve (`prepare`), a question reads rows (`curves`), and a park day written
inside a prepared window deletes what it changes (`forget`): a prepared curve is always
the one the outages give, and a pool not prepared is computed from them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, overload

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
)

from themepark_tracker.engine.recovery import Pool, PoolCurve, Survival, pool_curve
from themepark_tracker.storage.outages import (
    ended_of_rides,
    from_little_endian,
    little_endian,
    of_days,
)
from themepark_tracker.storage.tables import recovery_pools, ride_outages, rides

#: How a pool's rides are chosen: unclassified rides count as tier 2.
UNCLASSIFIED_TIER = 2
#: The tiers a pool is prepared for.
TIERS = (1, 2, 3)
#: Where a key's part does not apply: `park_id` of a pool of every park, `tier` of a
#: ride's own pool or of park-wide outages, `ride_id` of any pool but a ride's.
NONE = 0


@dataclass(frozen=True)
class RideInPool:
    ride_id: int
    park_id: int
    tier: int | None


@dataclass(frozen=True, order=True)
class PoolKey:
    """Which pool, over which park days."""

    name: str
    park_id: int
    tier: int
    ride_id: int
    first: date
    last: date


def key_of(name: str, ride: RideInPool, first: date, last: date) -> PoolKey:
    """The pool `name` (`ride`, `park_wide`, `park_tier` or `tier`) of a ride."""
    tier = (ride.tier or UNCLASSIFIED_TIER) if name in ("park_tier", "tier") else NONE
    park = NONE if name == "tier" else ride.park_id
    return PoolKey(name, park, tier, ride.ride_id if name == "ride" else NONE, first, last)


def curves(conn: Connection, keys: Iterable[PoolKey]) -> dict[PoolKey, PoolCurve]:
    """The pools' curves, prepared ones read in one statement, the others computed from
    the outages (rides' own in one statement, each other pool in one)."""
    wanted = set(keys)
    found = _prepared(conn, wanted)
    missing = wanted - set(found)
    own = _own_outages(
        conn, {key.ride_id: (key.first, key.last) for key in missing if key.name == "ride"}
    )
    for key in missing:
        if key.name == "ride":
            found[key] = pool_curve(own[key.ride_id])
        else:
            found[key] = pool_curve(pool_of(conn, key))
    return found


def pool_of(conn: Connection, key: PoolKey) -> Pool:
    """The ended outages (minutes) of a park's or a tier's pool, read from the outages."""
    o, r = ride_outages.c, rides.c
    chosen = select(r.id)
    if key.park_id != NONE:
        chosen = chosen.where(r.park_id == key.park_id)
    if key.tier != NONE:
        chosen = chosen.where(func.coalesce(r.tier, UNCLASSIFIED_TIER) == key.tier)
    query = (
        select(o.minutes, o.censored, func.count())
        .where(
            of_days(key.first, key.last),
            o.ended_at.is_not(None),
            o.ride_id.in_(chosen),
            o.park_wide if key.name == "park_wide" else ~o.park_wide,
        )
        .group_by(o.minutes, o.censored)
    )
    lengths = _Lengths()
    for minutes, censored, count in conn.execute(query):
        lengths.add(float(minutes), bool(censored), int(count))
    return lengths.pool(key.name)


@dataclass
class _Lengths:
    """A pool's outages as read: ended ones, and those reported DOWN to the close, which
    the curve takes as censored at their length."""

    ended: list[float] = field(default_factory=list)
    censored: list[float] = field(default_factory=list)

    def add(self, minutes: float, censored: bool, count: int = 1) -> None:
        (self.censored if censored else self.ended).extend([minutes] * count)

    def pool(self, name: str) -> Pool:
        return Pool(name, tuple(sorted(self.ended)), tuple(sorted(self.censored)))


def _own_outages(conn: Connection, ranges: Mapping[int, tuple[date, date]]) -> dict[int, Pool]:
    """Each ride's own pool (its outages that are not park-wide) on its park days `first`
    to `last`, in one statement."""
    o = ride_outages.c
    chosen = ended_of_rides(ranges)
    found = {ride_id: _Lengths() for ride_id in ranges}
    if chosen is not None:
        query = select(o.ride_id, o.minutes, o.censored).where(chosen, ~o.park_wide)
        for ride_id, minutes, censored in conn.execute(query):
            found[ride_id].add(float(minutes), bool(censored))
    return {ride_id: lengths.pool("ride") for ride_id, lengths in found.items()}


_c = recovery_pools.c
_KEY = (_c.park_id, _c.pool, _c.tier, _c.ride_id, _c.first_day, _c.last_day)


def _prepared(conn: Connection, keys: set[PoolKey]) -> dict[PoolKey, PoolCurve]:
    """Those of the pools that are prepared: a seek each, in one statement."""
    if not keys:
        return {}
    by_kind: dict[tuple[int, str, int, date, date], set[int]] = {}
    for key in keys:
        kind = (key.park_id, key.name, key.tier, key.first, key.last)
        by_kind.setdefault(kind, set()).add(key.ride_id)
    query = select(*_KEY, _c.ended, _c.censored, _c.curve).where(
        or_(
            *(
                and_(
                    _c.park_id == park,
                    _c.pool == name,
                    _c.tier == tier,
                    _c.ride_id.in_(sorted(ride_ids)),
                    _c.first_day == first,
                    _c.last_day == last,
                )
                for (park, name, tier, first, last), ride_ids in by_kind.items()
            )
        )
    )
    found = {}
    for park, name, tier, ride, first, last, ended, censored, packed in conn.execute(query):
        key = PoolKey(name, park, tier, ride, first, last)
        found[key] = unpack(name, int(ended), int(censored), packed)
    return found


def pack(curve: PoolCurve) -> bytes:
    """The times in seconds (lengths are whole seconds) and the outages longer than each
    as int32, then the levels as float64 only when some are censored: without, a level
    is the share of ended outages longer than its time (`_Share`). Little-endian. A
    ride's own pool then fits in its row, and a pool of 100,000 steps loads in a
    millisecond."""
    parts: list[array[Any]] = [
        array("i", (round(t * 60) for t in curve.curve.times)),
        array("i", curve.longer),
    ]
    if curve.censored:
        parts.append(array("d", curve.curve.levels))
    return b"".join(map(little_endian, parts))


def unpack(name: str, ended: int, censored: int, packed: bytes) -> PoolCurve:
    steps = len(packed) // (16 if censored else 8)
    seconds = from_little_endian("i", packed[: 4 * steps])
    longer = from_little_endian("i", packed[4 * steps : 8 * steps])
    levels = from_little_endian("d", packed[8 * steps :])
    shares = levels if censored else _Share(longer, ended)
    return PoolCurve(name, Survival(_Share(seconds, 60), shares), ended, censored, longer)


class _Share(Sequence[float]):
    """`values[k] / whole`, worked out when asked: a curve is asked at a few steps."""

    def __init__(self, values: Sequence[int], whole: int) -> None:
        self.values = values
        self.whole = whole

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[float]: ...
    def __getitem__(self, index: int | slice) -> float | Sequence[float]:
        if isinstance(index, slice):
            return [value / self.whole for value in self.values[index]]
        return self.values[index] / self.whole


def prepare(conn: Connection, windows: Mapping[int, tuple[date, date]], at: datetime) -> int:
    """Prepare every pool of the parks' windows (park id: its first and last park day)
    that is not prepared yet, and drop the pools of other windows; returns the pools
    written. One read of the outages per window."""
    rides_of: dict[int, list[tuple[int, int]]] = {}
    for ride_id, park_id, tier in conn.execute(select(rides.c.id, rides.c.park_id, rides.c.tier)):
        rides_of.setdefault(park_id, []).append((ride_id, tier or UNCLASSIFIED_TIER))
    wanted: set[PoolKey] = set()
    for park_id, (first, last) in windows.items():
        wanted.add(PoolKey("park_wide", park_id, NONE, NONE, first, last))
        for tier in TIERS:
            wanted.add(PoolKey("park_tier", park_id, tier, NONE, first, last))
            wanted.add(PoolKey("tier", NONE, tier, NONE, first, last))
        for ride_id, _ in rides_of.get(park_id, []):
            wanted.add(PoolKey("ride", park_id, NONE, ride_id, first, last))
    spans = sorted({(key.first, key.last) for key in wanted})
    conn.execute(
        delete(recovery_pools).where(tuple_(_c.first_day, _c.last_day).not_in(spans))
        if spans
        else delete(recovery_pools)
    )
    have = {
        PoolKey(name, park, tier, ride, first, last)
        for park, name, tier, ride, first, last in conn.execute(select(*_KEY))
    }
    missing = sorted(wanted - have)
    for first, last in spans:
        todo = [key for key in missing if (key.first, key.last) == (first, last)]
        if not todo:
            continue
        pools = _pools_of_window(conn, first, last)
        rows = []
        for key in todo:
            curve = pool_curve(pools.get(key, _Lengths()).pool(key.name))
            rows.append(
                {
                    "pool": key.name,
                    "park_id": key.park_id,
                    "tier": key.tier,
                    "ride_id": key.ride_id,
                    "first_day": first,
                    "last_day": last,
                    "ended": curve.ended,
                    "censored": curve.censored,
                    "curve": pack(curve),
                    "prepared_at": at,
                }
            )
        for batch in _batches(rows):
            conn.execute(insert(recovery_pools), batch)
    return len(missing)


def _batches(rows: list[dict[str, object]]) -> Iterator[list[dict[str, object]]]:
    """Rows by about a megabyte of curves: a pool of every park alone is megabytes, and
    MySQL refuses a statement over `max_allowed_packet`."""
    batch: list[dict[str, object]] = []
    size = 0
    for row in rows:
        batch.append(row)
        size += len(row["curve"])  # type: ignore[arg-type]
        if size > 2**20:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _pools_of_window(conn: Connection, first: date, last: date) -> dict[PoolKey, _Lengths]:
    """Every pool's ended outages over these park days, from one read."""
    o, r = ride_outages.c, rides.c
    query = (
        select(r.park_id, r.tier, o.ride_id, o.park_wide, o.minutes, o.censored)
        .join_from(ride_outages, rides, r.id == o.ride_id)
        .where(of_days(first, last), o.ended_at.is_not(None))
    )
    pools: dict[PoolKey, _Lengths] = {}
    for park_id, tier, ride_id, park_wide, minutes, censored in conn.execute(query):
        length, down_to_close = float(minutes), bool(censored)
        if park_wide:
            keys = [PoolKey("park_wide", park_id, NONE, NONE, first, last)]
        else:
            tier = tier or UNCLASSIFIED_TIER
            keys = [
                PoolKey("ride", park_id, NONE, ride_id, first, last),
                PoolKey("park_tier", park_id, tier, NONE, first, last),
                PoolKey("tier", NONE, tier, NONE, first, last),
            ]
        for key in keys:
            pools.setdefault(key, _Lengths()).add(length, down_to_close)
    return pools


def forget(conn: Connection, park_id: int, day: date) -> None:
    """A park day was written: the prepared pools whose outages it may change go (its
    park's, and every park's tier pools). Looked for first with a plain read, which
    takes no lock: a delete that finds nothing would still lock the every-park rows on
    MySQL, and every park's writes (the collector's, an import's) would queue on them."""
    _forget(conn, _c.park_id.in_((park_id, NONE)), _c.first_day <= day, _c.last_day >= day)


def forget_tiers(conn: Connection) -> None:
    """Rides changed tier: every pool of a tier may have changed."""
    _forget(conn, _c.tier != NONE)


def _forget(conn: Connection, *which: ColumnElement[bool]) -> None:
    if conn.execute(select(_c.park_id).where(*which).limit(1)).first() is not None:
        conn.execute(delete(recovery_pools).where(*which))
