"""A deterministic simulated Queue-Times feed: what each park would answer at any instant.

Everything is a pure function of (seed, catalogue, park, t): the same inputs give the same
bytes, on any machine, in any order of calls. Randomness comes from hashing those inputs,
never from a shared generator, so that asking about one park or instant cannot change the
answer for another.

The model keeps two things apart on purpose:
- the *truth*: when each ride really ran (schedules, refurbishments, late openings,
  breakdowns, storms, show times), exported by `truth()`;
- the *feed*: what Queue-Times would serve, which lags by up to one 5-minute refresh
  and lies in the ways the real feed was measured to lie (see `QuirkRates`). Every lie
  is labelled on the `Reading`, so tests can tell a quirk from a bug.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from themepark_tracker.catalogue import is_disney_or_universal
from themepark_tracker.sources.queue_times import CataloguePark, parse_parks_catalogue

DAY_START = time(4, 0)
REFRESH_SECONDS = 300

Interval = tuple[int, int]


@dataclass(frozen=True)
class QuirkRates:
    """How often each quirk of the real feed appears; 0 switches it off.

    Defaults follow a week of real 5-minute captures of nine Florida parks.
    """

    overnight_open_parks: float = 0.4
    """Share of parks that leave some rides `is_open=true, wait_time=0` all night."""
    overnight_open_share: tuple[float, float] = (0.16, 0.31)
    """Share of such a park's rides left open overnight (drawn per park)."""
    frozen_after_close: float = 0.3
    """Park-days whose posted waits stay up, frozen, for hours after closing."""
    frozen_for_days: float = 0.002
    """Ride-days on which a ride freezes "open" with a wait for one to four days."""
    midnight_burst: float = 0.1
    """Park-days with two or three rides "open" with waits for an hour after midnight."""
    storm: float = 0.15
    """Park-days with an afternoon storm closing nearly every ride for 30 to 120 minutes."""
    single_rider: float = 0.5
    """Headliners whose single-rider queue is listed as a ride of its own."""
    duplicate_name: float = 0.3
    """Parks where two ride ids share one name."""
    land_move: float = 0.3
    """Parks with lands where one ride moves to the top-level list every other period."""
    fancy_name: float = 0.08
    """Ride names with ™, ®, curly or embedded quotes, or trailing spaces."""
    invalid_wait: float = 0.002
    """Readings of an open ride whose wait is 601, 999, -1, null or a string."""
    closed_with_wait: float = 0.001
    """Readings of an open ride sent as `is_open=false` with a wait above zero."""
    rename: float = 0.02
    """Ride-periods in which a ride goes by another name."""
    disappear: float = 0.01
    """Ride-periods in which a ride is missing from the feed."""
    extra_fields: float = 0.05
    """Payloads carrying fields the API does not document."""


@dataclass(frozen=True)
class FeedConfig:
    """Parameters of the simulated world; every rate is per day unless said otherwise."""

    seed: int = 42
    rides_per_park: tuple[int, int] = (20, 45)
    quirks: QuirkRates = field(default_factory=QuirkRates)
    period_days: int = 14
    """Length of the periods in which names, placement and presence may change."""
    seasonal_parks: float = 0.35
    """Share of parks (other than Disney and Universal) that close on off-season weekdays."""
    closed_days: float = 0.05
    """Extra chance that a seasonal park is closed on any day."""
    late_nights: float = 0.03
    """Park-days that run past midnight (Halloween nights, New Year's Eve)."""
    refurbishment: float = 0.01
    """Ride-days closed all day."""
    late_opening: float = 0.05
    """Ride-days on which a ride opens one to three hours after the park."""
    breakdowns_per_hour: tuple[float, float, float] = (0.06, 0.04, 0.025)
    """Breakdown rate of an open ride by tier 1, 2, 3 (scaled per park)."""
    repair_median_minutes: tuple[float, float, float] = (35.0, 25.0, 18.0)
    """Median repair time by tier; repair times are log-normal."""


@dataclass(frozen=True)
class SimRide:
    id: int
    name: str
    other_name: str
    kind: str
    tier: int
    popularity: float
    land: int | None
    """Index into the park's lands; None for the top-level `rides` list."""
    parent_id: int | None
    """For a single-rider queue: the ride it belongs to."""
    storm_exposed: bool


@dataclass(frozen=True)
class SimPark:
    id: int
    name: str
    operator: str
    timezone: ZoneInfo
    lands: tuple[tuple[int, str], ...]
    rides: tuple[SimRide, ...]
    reliability: float
    seasonal: bool
    opening_hour: int
    closing_hour: int
    overnight_open: frozenset[int]
    moving_ride: int | None


@dataclass(frozen=True)
class Freeze:
    start: int
    end: int
    wait: int
    last_updated: int


@dataclass(frozen=True)
class DayPlan:
    """One park day: from 04:00 local on `day` to 04:00 local on the next date."""

    day: date
    start: int
    end: int
    opens: int | None
    closes: int | None
    storm: Interval | None
    windows: dict[int, tuple[Interval, ...]]
    """True open intervals per ride id, sorted and disjoint."""
    frozen: dict[int, Freeze]
    """Rides that keep lying "open" after closing time, or for days."""
    burst: tuple[Interval, tuple[int, ...]] | None
    breakdowns: dict[int, tuple[Interval, ...]] = field(default_factory=dict)
    """True breakdowns per ride id: each from the failure to the repair."""


@dataclass(frozen=True)
class Reading:
    """What the feed says about one ride at one instant, and why."""

    ride: SimRide
    name: str
    land: int | None
    is_open: bool
    wait_time: Any
    last_updated: int
    truly_open: bool
    """The truth at `last_updated`, the instant this reading describes."""
    lie: str | None
    """The quirk that makes this reading disagree with the truth, if any."""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.ride.id,
            "name": self.name,
            "is_open": self.is_open,
            "wait_time": self.wait_time,
            "last_updated": _iso_millis(self.last_updated),
        }


def _unit(*parts: object) -> float:
    """A uniform number in [0, 1) determined by `parts` alone."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _rng(*parts: object) -> random.Random:
    return random.Random(int(_unit(*parts) * 2**53))  # noqa: S311 - a simulation, not crypto


@lru_cache(maxsize=65536)
def _iso_millis(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _local_epoch(day: date, at: time, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, at, tzinfo=zone).timestamp())


def _subtract(windows: list[Interval], holes: Iterable[Interval]) -> list[Interval]:
    result = windows
    for hole_start, hole_end in holes:
        next_result: list[Interval] = []
        for start, end in result:
            if hole_end <= start or hole_start >= end:
                next_result.append((start, end))
                continue
            if start < hole_start:
                next_result.append((start, hole_start))
            if hole_end < end:
                next_result.append((hole_end, end))
        result = next_result
    return result


def _covers(windows: Sequence[Interval], t: int) -> bool:
    index = bisect.bisect_right(windows, (t, 2**62)) - 1
    return index >= 0 and windows[index][0] <= t < windows[index][1]


# --- the parks and their rides ----------------------------------------------------------

_ADJECTIVES = (
    "Thunder",
    "Crystal",
    "Runaway",
    "Haunted",
    "Lost",
    "Wild",
    "Flying",
    "Golden",
    "Mystic",
    "Galactic",
    "Roaring",
    "Hidden",
    "Twisted",
    "Silver",
    "Whispering",
    "Blazing",
    "Frozen",
    "Enchanted",
    "Rapid",
    "Midnight",
    "Jungle",
    "Pirate",
    "Atomic",
    "Velvet",
)
_NOUNS = (
    "Canyon",
    "Mountain",
    "River",
    "Temple",
    "Comet",
    "Dragon",
    "Falcon",
    "Lagoon",
    "Voyage",
    "Mine",
    "Rocket",
    "Safari",
    "Castle",
    "Harbor",
    "Summit",
    "Forest",
    "Tornado",
    "Glacier",
    "Caravan",
    "Lighthouse",
    "Reef",
    "Meteor",
    "Carousel",
    "Cyclone",
)
_RIDE_TYPES = {
    1: ("Coaster", "Expedition", "Flight", "Adventure", "Drop Tower", "Rapids"),
    2: ("Railroad", "Racers", "Odyssey", "Spin", "Mission", "Log Flume", "Dark Ride"),
    3: ("Carousel", "Teacups", "Spinners", "Bumper Cars", "Swings", "Junior", "Train"),
}
_LANDS = (
    "Adventure Bay",
    "Frontier Town",
    "Tomorrow Plaza",
    "Fantasy Meadow",
    "Lost Continent",
    "Harbor District",
    "Discovery Island",
    "Main Street",
    "Kingdom Gardens",
    "Galaxy Edge",
)
_CHARACTERS = ("Captain Comet", "Princess Aurelia", "the Friendly Yeti", "Marvelous Max")
_PLACES = ("the Royal Hall", "Harbor Gazebo", "Town Square Theater", "the Comet Dome")
_FANCY = (
    "{}™",
    "{}®",
    "“{}”",
    "The “{}” Experience",
    '{} "Classic"',
    "{}'s Quest",
    "{}  ",
)


def build_park(catalogue_park: CataloguePark, config: FeedConfig) -> SimPark:
    """A park's fixed layout: lands, rides, tiers, popularity, character."""
    rng = _rng(config.seed, "park", catalogue_park.id)
    quirks = config.quirks
    big = is_disney_or_universal(catalogue_park.operator)
    low, high = config.rides_per_park
    count = rng.randint(low, high)
    land_count = rng.randint(4, 7) if big else 0
    lands = tuple(
        (catalogue_park.id * 100 + index + 1, name)
        for index, name in enumerate(rng.sample(_LANDS, land_count))
    )
    used: set[str] = set()
    rides: list[SimRide] = []
    next_id = catalogue_park.id * 1000 + 1
    for index in range(count):
        kind, tier = _draw_kind_and_tier(rng, index, count)
        name = _unique_name(rng, kind, tier, used)
        if rng.random() < quirks.fancy_name:
            name = rng.choice(_FANCY).format(name)
        rides.append(
            SimRide(
                id=next_id,
                name=name,
                other_name=_unique_name(rng, kind, tier, used),
                kind=kind,
                tier=tier,
                popularity=min(1.0, max(0.05, rng.gauss((0.85, 0.55, 0.25)[tier - 1], 0.12))),
                land=rng.randrange(land_count) if land_count else None,
                parent_id=None,
                storm_exposed=kind == "ride" and rng.random() < 0.9,
            )
        )
        next_id += 1
    for parent in [r for r in rides if r.tier == 1 and r.kind == "ride"]:
        if rng.random() < quirks.single_rider:
            rides.append(
                SimRide(
                    id=next_id,
                    name=f"{parent.name.rstrip()} Single Rider",
                    other_name=f"{parent.other_name} Single Rider",
                    kind="single_rider",
                    tier=parent.tier,
                    popularity=parent.popularity * 0.5,
                    land=parent.land,
                    parent_id=parent.id,
                    storm_exposed=parent.storm_exposed,
                )
            )
            next_id += 1
    if len(rides) >= 2 and rng.random() < quirks.duplicate_name:
        first, second = rng.sample(range(len(rides)), 2)
        twin = rides[second]
        rides[second] = replace(twin, name=rides[first].name)
    low_share, high_share = quirks.overnight_open_share
    overnight: frozenset[int] = frozenset()
    if rng.random() < quirks.overnight_open_parks:
        share = rng.uniform(low_share, high_share)
        overnight = frozenset(r.id for r in rng.sample(rides, round(share * len(rides))))
    movable = [r.id for r in rides if r.land is not None and r.kind == "ride"]
    moving = rng.choice(movable) if movable and rng.random() < quirks.land_move else None
    return SimPark(
        id=catalogue_park.id,
        name=catalogue_park.name,
        operator=catalogue_park.operator,
        timezone=ZoneInfo(catalogue_park.timezone),
        lands=lands,
        rides=tuple(rides),
        reliability=rng.uniform(0.5, 1.8),
        seasonal=not big and rng.random() < config.seasonal_parks,
        opening_hour=rng.choice((8, 9, 9, 10)) if big else rng.choice((10, 10, 11)),
        closing_hour=rng.choice((20, 21, 22)) if big else rng.choice((18, 19, 20, 21)),
        overnight_open=overnight,
        moving_ride=moving,
    )


def _draw_kind_and_tier(rng: random.Random, index: int, count: int) -> tuple[str, int]:
    if index < max(2, count // 7):
        return "ride", 1
    roll = rng.random()
    if roll < 0.08:
        return "show", 3
    if roll < 0.13:
        return "meet_greet", 3
    return "ride", 2 if roll < 0.55 else 3


def _unique_name(rng: random.Random, kind: str, tier: int, used: set[str]) -> str:
    for _ in range(200):
        if kind == "show":
            name = rng.choice(
                (f"Festival of the {rng.choice(_NOUNS)}", f"{rng.choice(_ADJECTIVES)} Nights Show")
            )
        elif kind == "meet_greet":
            name = f"Meet {rng.choice(_CHARACTERS)} at {rng.choice(_PLACES)}"
        else:
            type_name = rng.choice(_RIDE_TYPES[tier])
            name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {type_name}"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("ran out of ride names")


# --- the days ---------------------------------------------------------------------------


class FeedModel:
    """The simulated feed for a catalogue (the decoded `parks.json` of Queue-Times)."""

    def __init__(self, parks_document: list[dict[str, Any]], config: FeedConfig | None = None):
        self.config = config or FeedConfig()
        self.parks_document = parks_document
        catalogue, problems = parse_parks_catalogue(parks_document)
        if problems:
            raise ValueError(f"catalogue has unusable parks: {problems[0]}")
        self.parks: dict[int, SimPark] = {p.id: build_park(p, self.config) for p in catalogue}
        self._parks_bytes = json.dumps(parks_document, ensure_ascii=False).encode()
        self.day_plan = lru_cache(maxsize=8192)(self._day_plan)
        self.listing = lru_cache(maxsize=8192)(self._listing)
        # Both feeds read a park at the same instant (Queue-Times, then ThemeParks.wiki):
        # the second asks for readings the first has just made.
        self._readings = lru_cache(maxsize=256)(self._readings_at)

    # Queue-Times API ----------------------------------------------------------------------

    def parks_json(self) -> bytes:
        return self._parks_bytes

    def queue_times_json(self, park_id: int, at: datetime) -> bytes | None:
        if park_id not in self.parks:
            return None
        return json.dumps(self.queue_times(park_id, at), ensure_ascii=False).encode()

    def queue_times(self, park_id: int, at: datetime) -> dict[str, Any]:
        park = self.parks[park_id]
        t = int(at.timestamp())
        lands: list[dict[str, Any]] = [
            {"id": land_id, "name": name, "rides": []} for land_id, name in park.lands
        ]
        top: list[dict[str, Any]] = []
        for reading in self.readings(park_id, at):
            (top if reading.land is None else lands[reading.land]["rides"]).append(
                reading.as_json()
            )
        payload: dict[str, Any] = {"lands": [land for land in lands if land["rides"]]}
        payload["rides"] = top
        if _unit(self.config.seed, "extra", park_id, t // 60) < self.config.quirks.extra_fields:
            payload["crowd_level"] = int(_unit(self.config.seed, "crowd", park_id, t) * 100)
            for land in payload["lands"]:
                land["wait_time_average"] = None
        return payload

    def readings(self, park_id: int, at: datetime) -> list[Reading]:
        return list(self._readings(park_id, int(at.timestamp())))

    def _readings_at(self, park_id: int, t: int) -> tuple[Reading, ...]:
        park = self.parks[park_id]
        plan = self.day_plan(park_id, self._schedule_day(park, t))
        return tuple(
            self._reading(park, plan, ride, t, name, land)
            for ride, name, land in self.listing(park_id, self._period(t))
        )

    def _listing(self, park_id: int, period: int) -> tuple[tuple[SimRide, str, int | None], ...]:
        """The rides a park lists during a period: under which name, in which land."""
        park = self.parks[park_id]
        seed, quirks = self.config.seed, self.config.quirks
        listed = []
        for ride in park.rides:
            if _unit(seed, "gone", ride.id, period) < quirks.disappear:
                continue
            renamed = _unit(seed, "rename", ride.id, period) < quirks.rename
            land = None if ride.id == park.moving_ride and period % 2 else ride.land
            listed.append((ride, ride.other_name if renamed else ride.name, land))
        return tuple(listed)

    def _reading(
        self, park: SimPark, plan: DayPlan, ride: SimRide, t: int, name: str, land: int | None
    ) -> Reading:
        seed, quirks = self.config.seed, self.config.quirks
        slot = t - t % REFRESH_SECONDS
        stamp = slot + int(_unit(seed, "lag", ride.id, slot) * 60)
        if stamp > t:
            slot -= REFRESH_SECONDS
            stamp -= REFRESH_SECONDS
        truly_open = _covers(plan.windows.get(ride.id, ()), stamp)

        frozen = plan.frozen.get(ride.id)
        if frozen and frozen.start <= t < frozen.end:
            return Reading(
                ride, name, land, True, frozen.wait, frozen.last_updated, truly_open, "frozen"
            )
        operating = plan.opens is not None and plan.opens <= t < (plan.closes or 0)
        if plan.burst and plan.burst[0][0] <= t < plan.burst[0][1] and ride.id in plan.burst[1]:
            burst_wait = 5 + 5 * int(_unit(seed, "burst", ride.id, slot) * 4)
            return Reading(ride, name, land, True, burst_wait, stamp, truly_open, "midnight_burst")
        if not truly_open:
            if not operating and ride.id in park.overnight_open:
                return Reading(ride, name, land, True, 0, stamp, False, "overnight_open")
            return Reading(ride, name, land, False, 0, stamp, False, None)

        wait = self._wait(ride, plan.opens or plan.start, plan.closes or plan.end, slot)
        roll = _unit(seed, "reading", ride.id, slot)
        if roll < quirks.invalid_wait:
            invalid = (601, 999, -1, None, "Closed")[int(roll / quirks.invalid_wait * 5) % 5]
            return Reading(ride, name, land, True, invalid, stamp, True, None)
        if roll < quirks.invalid_wait + quirks.closed_with_wait and wait > 0:
            return Reading(ride, name, land, False, wait, stamp, True, None)
        return Reading(ride, name, land, True, wait, stamp, True, None)

    def _wait(self, ride: SimRide, opens: int, closes: int, slot: int) -> int:
        """Posted wait: low at opening, peaking mid-afternoon, in 5-minute steps."""
        fraction = min(1.0, max(0.0, (slot - opens) / max(1, closes - opens)))
        curve = 0.25 + 0.75 * math.exp(-(((fraction - 0.55) / 0.3) ** 2))
        noise = 0.8 + 0.4 * _unit(self.config.seed, "wait", ride.id, slot)
        if ride.kind in ("show", "meet_greet"):
            ceiling = 30.0
        elif ride.kind == "single_rider":
            ceiling = 50.0
        else:
            ceiling = 10 + 110 * ride.popularity
        minutes = ceiling * curve * noise * ride.popularity**0.3
        return int(5 * round(minutes / 5))

    # the days ---------------------------------------------------------------------------

    def _schedule_day(self, park: SimPark, t: int) -> date:
        local = datetime.fromtimestamp(t, park.timezone)
        return local.date() if local.time() >= DAY_START else local.date() - timedelta(days=1)

    def _period(self, t: int) -> int:
        return t // (86400 * self.config.period_days)

    def _day_plan(self, park_id: int, day: date) -> DayPlan:
        park = self.parks[park_id]
        config, quirks = self.config, self.config.quirks
        zone = park.timezone
        rng = _rng(config.seed, "day", park_id, day.toordinal())
        start = _local_epoch(day, DAY_START, zone)
        end = _local_epoch(day + timedelta(days=1), DAY_START, zone)
        frozen = self._multi_day_freezes(park, day, end)
        if self._closed_on(park, day, rng):
            return DayPlan(day, start, end, None, None, None, {}, frozen, None)

        weekend = day.weekday() >= 5
        opening = park.opening_hour - (1 if weekend and rng.random() < 0.3 else 0)
        closing = park.closing_hour + (1 if weekend else 0) + rng.choice((-1, 0, 0, 0, 1))
        opens = _local_epoch(day, time(opening, rng.choice((0, 0, 30))), zone)
        if rng.random() < config.late_nights:
            closes = _local_epoch(day + timedelta(days=1), time(0, 30), zone)
        else:
            closes = _local_epoch(day, time(min(closing, 23), 0), zone)

        storm: Interval | None = None
        if rng.random() < quirks.storm:
            storm_start = _local_epoch(
                day, time(rng.randint(13, 16), rng.choice((0, 15, 30))), zone
            )
            storm = (storm_start, storm_start + 60 * rng.randint(30, 120))

        windows: dict[int, tuple[Interval, ...]] = {}
        breakdowns: dict[int, tuple[Interval, ...]] = {}
        for ride in park.rides:
            if ride.parent_id is None:
                open_spans, failures = self._ride_windows(park, ride, day, opens, closes, storm)
                windows[ride.id], breakdowns[ride.id] = tuple(open_spans), tuple(failures)
        for ride in park.rides:
            if ride.parent_id is not None:
                windows[ride.id] = windows.get(ride.parent_id, ())

        if rng.random() < quirks.frozen_after_close:
            share = rng.uniform(0.1, 0.4)
            freeze_end = min(end, closes + 3600 * rng.randint(2, 6))
            for ride in park.rides:
                if (
                    ride.kind == "ride"
                    and rng.random() < share
                    and _covers(windows[ride.id], closes - 1)
                ):
                    last = closes - 1 - (closes - 1) % REFRESH_SECONDS
                    wait = max(5, self._wait(ride, opens, closes, last))
                    frozen.setdefault(ride.id, Freeze(closes, freeze_end, wait, last))

        burst: tuple[Interval, tuple[int, ...]] | None = None
        burst_start = _local_epoch(day + timedelta(days=1), time(0, rng.choice((10, 20, 40))), zone)
        if rng.random() < quirks.midnight_burst and closes < burst_start:
            chosen = rng.sample([r.id for r in park.rides], min(len(park.rides), rng.randint(2, 3)))
            burst = ((burst_start, burst_start + 3600), tuple(chosen))
        return DayPlan(day, start, end, opens, closes, storm, windows, frozen, burst, breakdowns)

    def refurbishing(self, ride: SimRide, day: date) -> bool:
        """Whether the ride is closed for refurbishment on its park's day."""
        rider = ride.parent_id if ride.parent_id is not None else ride.id
        rng = _rng(self.config.seed, "ride-day", rider, day.toordinal())
        return rng.random() < self.config.refurbishment

    def schedule_day(self, park_id: int, at: datetime) -> date:
        """The park day `at` falls in."""
        return self._schedule_day(self.parks[park_id], int(at.timestamp()))

    def _closed_on(self, park: SimPark, day: date, rng: random.Random) -> bool:
        if not park.seasonal:
            return False
        off_season = day.month in (11, 12, 1, 2, 3, 4)
        return (off_season and day.weekday() < 5) or rng.random() < self.config.closed_days

    def _ride_windows(
        self,
        park: SimPark,
        ride: SimRide,
        day: date,
        opens: int,
        closes: int,
        storm: Interval | None,
    ) -> tuple[list[Interval], list[Interval]]:
        """The ride's true open intervals of the day, and its breakdowns."""
        config = self.config
        rng = _rng(config.seed, "ride-day", ride.id, day.toordinal())
        if rng.random() < config.refurbishment:  # the draw `refurbishing` makes again
            return [], []
        first = opens
        if rng.random() < config.late_opening:
            first = opens + 60 * rng.choice((60, 90, 120, 180))
        if first >= closes:
            return [], []
        if ride.kind == "show":
            every = rng.choice((60, 90))
            return self._performances(rng, first, closes, every=every, length=25), []
        if ride.kind == "meet_greet":
            return self._performances(rng, first, closes, every=120, length=90), []
        windows = [(first, closes)]
        tier = ride.tier - 1
        rate = config.breakdowns_per_hour[tier] * park.reliability / 3600
        median = config.repair_median_minutes[tier] * 60
        clock = first
        breakdowns = []
        while rate > 0:
            clock += int(rng.expovariate(rate))
            if clock >= closes:
                break
            repair = min(4 * 3600, max(300, int(median * math.exp(rng.gauss(0, 0.6)))))
            breakdowns.append((clock, clock + repair))
            clock += repair
        windows = _subtract(windows, breakdowns)
        if storm and ride.storm_exposed:
            windows = _subtract(windows, [storm])
        return windows, breakdowns

    @staticmethod
    def _performances(
        rng: random.Random, first: int, closes: int, every: int, length: int
    ) -> list[Interval]:
        start = first + 60 * rng.choice((15, 30, 45))
        windows = []
        while start + 60 * length <= closes:
            windows.append((start, start + 60 * length))
            start += 60 * every
        return windows

    def _multi_day_freezes(self, park: SimPark, day: date, end: int) -> dict[int, Freeze]:
        """Rides frozen "open" across days: started on this day or up to three days before."""
        freezes: dict[int, Freeze] = {}
        rate = self.config.quirks.frozen_for_days
        if rate <= 0:
            return freezes
        for back in range(4):
            origin = day - timedelta(days=back)
            for ride in park.rides:
                if _unit(self.config.seed, "freeze", ride.id, origin.toordinal()) >= rate:
                    continue
                rng = _rng(self.config.seed, "freeze-length", ride.id, origin.toordinal())
                length_days = rng.randint(1, 4)
                if back >= length_days:
                    continue
                begin = _local_epoch(origin, time(rng.randint(10, 18)), park.timezone)
                finish = begin + 86400 * length_days
                wait = 5 * rng.randint(2, 12)
                freezes[ride.id] = Freeze(begin, finish, wait, begin)
        return freezes

    # the truth --------------------------------------------------------------------------

    def truth(self, park_id: int, start: datetime, end: datetime) -> dict[str, Any]:
        """True operating hours and ride open intervals over [start, end), as JSON data."""
        park = self.parks[park_id]
        t0, t1 = int(start.timestamp()), int(end.timestamp())
        days = []
        intervals: dict[int, list[Interval]] = {ride.id: [] for ride in park.rides}
        failures: dict[int, list[Interval]] = {ride.id: [] for ride in park.rides}
        day = self._schedule_day(park, t0)
        while True:
            plan = self.day_plan(park_id, day)
            if plan.start >= t1:
                break
            days.append(
                {
                    "date": day.isoformat(),
                    "opens": _iso(plan.opens),
                    "closes": _iso(plan.closes),
                    "storm": [_iso(plan.storm[0]), _iso(plan.storm[1])] if plan.storm else None,
                }
            )
            for ride_id, windows in plan.windows.items():
                for a, b in windows:
                    if a < t1 and b > t0:
                        intervals[ride_id].append((max(a, t0), min(b, t1)))
            for ride_id, broken in plan.breakdowns.items():
                failures[ride_id] += [(a, b) for a, b in broken if t0 <= a < t1]
            day += timedelta(days=1)
        return {
            "park_id": park.id,
            "name": park.name,
            "timezone": park.timezone.key,
            "from": _iso(t0),
            "to": _iso(t1),
            "days": days,
            "rides": [
                {
                    "id": ride.id,
                    "name": ride.name,
                    "kind": ride.kind,
                    "tier": ride.tier,
                    "open_intervals": [[_iso(a), _iso(b)] for a, b in intervals[ride.id]],
                    "breakdowns": [[_iso(a), _iso(b)] for a, b in failures[ride.id]],
                }
                for ride in park.rides
            ],
        }


def _iso(epoch: int | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
