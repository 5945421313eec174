"""The simulated feed's ThemeParks.wiki answers, from the same model as its Queue-Times
answers, so that both sources describe the same days.

- Parks of the shipped mapping table keep their real ThemeParks.wiki ids (the tracker's
  own table maps them); the others and every ride get ids derived from the seed.
- Statuses follow the truth at the instant asked: `OPERATING` while a ride truly runs,
  `DOWN` during a breakdown or a storm (`CLOSED` in a park whose feed never says `DOWN`),
  `REFURBISHMENT` on a refurbishment day, `CLOSED` otherwise (not open yet, after
  closing, between shows, a closed park). Standby waits are null unless operating.
- `lastUpdated` is the Queue-Times reading's, except for a few rides that report one
  from months ago, as the real API does.
- Schedules publish the true hours as `OPERATING`, with Disney's early entry and
  extended evenings as `TICKETED_EVENT`, nights past midnight, some days not published,
  and some days where the park opened late or closed early against what it published.

Pure functions of (seed, catalogue, park, t), like the rest of the model.
"""

from __future__ import annotations

import calendar
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from themepark_tracker.feed.model import DayPlan, FeedModel, SimPark, SimRide, _unit
from themepark_tracker.wiki_mapping import shipped_parks

#: Shares of the simulated ThemeParks.wiki feed's quirks.
NEVER_DOWN_PARKS = 0.25
"""Parks whose feed reports a breakdown as CLOSED (SeaWorld, attractions.io parks)."""
STALE_LAST_UPDATED = 0.05
"""Rides whose `lastUpdated` is months old."""
UNPUBLISHED_DAYS = 0.05
"""Operating days missing from the published schedule."""
OFF_SCHEDULE_DAYS = 0.08
"""Days the park opened late or closed early against its published hours."""
SCHEDULE_DAYS_AHEAD = 30
_STALE = datetime(2024, 5, 14, 13, 36, 4, tzinfo=UTC)
_NAMESPACE = uuid.UUID("6f1f3a52-7c55-4d0c-9a43-2f3d8b1d9e70")
_TYPES = {"ride": "ATTRACTION", "show": "SHOW", "meet_greet": "SHOW"}


@dataclass(frozen=True)
class _Hours:
    kind: str
    opens: int
    closes: int
    description: str | None = None


class WikiFeed:
    """ThemeParks.wiki documents (decoded JSON) of a `FeedModel`'s parks."""

    def __init__(self, model: FeedModel) -> None:
        self.model = model
        seed = model.config.seed
        table = shipped_parks()
        self.park_ids = {
            park_id: table[park_id].wiki_id if park_id in table else _id(seed, "park", park_id)
            for park_id in model.parks
        }
        self.parks_by_wiki = {wiki: park for park, wiki in self.park_ids.items()}
        self.destination_ids = {park: _id(seed, "destination", park) for park in model.parks}
        # Asked for every ride of every answer: made once.
        self._ride_ids: dict[int, str] = {}
        self.with_single_rider = {
            child.parent_id
            for park in model.parks.values()
            for child in park.rides
            if child.parent_id is not None
        }

    def ride_id(self, ride: SimRide) -> str:
        found = self._ride_ids.get(ride.id)
        if found is None:
            found = self._ride_ids[ride.id] = _id(self.model.config.seed, "ride", ride.id)
        return found

    def never_down(self, park_id: int) -> bool:
        return _unit(self.model.config.seed, "never-down", park_id) < NEVER_DOWN_PARKS

    # documents ------------------------------------------------------------------------

    def destinations(self) -> dict[str, Any]:
        return {
            "destinations": [
                {
                    "id": self.destination_ids[park.id],
                    "name": f"{park.name} Resort",
                    "slug": None,
                    "externalId": f"sim_destination_{park.id}",
                    "parks": [{"id": self.park_ids[park.id], "name": park.name}],
                }
                for park in self.model.parks.values()
            ]
        }

    def children(self, park_id: int) -> dict[str, Any]:
        park = self.model.parks[park_id]
        return {
            **self._head(park),
            "children": [
                {
                    "id": self.ride_id(ride),
                    "name": ride.name,
                    "entityType": _TYPES[ride.kind],
                    "slug": None,
                    "parentId": self.park_ids[park.id],
                    "externalId": f"sim_{ride.id}",
                }
                for ride in park.rides
                if ride.kind in _TYPES
            ],
        }

    def live(self, park_id: int, at: datetime) -> dict[str, Any]:
        park = self.model.parks[park_id]
        t = int(at.timestamp())
        day = self.model.schedule_day(park_id, at)
        plan = self.model.day_plan(park_id, day)
        readings = {reading.ride.id: reading for reading in self.model.readings(park_id, at)}
        open_now = plan.opens is not None and plan.opens <= t < (plan.closes or 0)
        entries: list[dict[str, Any]] = [
            {
                "id": self.park_ids[park.id],
                "name": park.name,
                "entityType": "PARK",
                "parkId": None,
                "status": "OPERATING" if open_now else "CLOSED",
                "lastUpdated": _iso(_STALE),
            }
        ]
        for ride in park.rides:
            if ride.kind not in _TYPES:
                continue
            status = self.status(park, plan, ride, day, t)
            reading = readings.get(ride.id)
            wait = reading.wait_time if reading is not None else None
            stamp = (
                _STALE
                if self._stale(ride, t)
                else datetime.fromtimestamp(reading.last_updated if reading else t, UTC)
            )
            queue: dict[str, Any] = {
                "STANDBY": {
                    "waitTime": wait
                    if status == "OPERATING" and type(wait) is int and wait >= 0
                    else None
                }
            }
            if ride.id in self.with_single_rider:
                queue["SINGLE_RIDER"] = {"waitTime": None}
            entries.append(
                {
                    "id": self.ride_id(ride),
                    "name": ride.name,
                    "entityType": _TYPES[ride.kind],
                    "parkId": self.park_ids[park.id],
                    "externalId": f"sim_{ride.id}",
                    "queue": queue,
                    "status": status,
                    "lastUpdated": _iso(stamp),
                }
            )
        return {**self._head(park), "liveData": entries}

    def status(self, park: SimPark, plan: DayPlan, ride: SimRide, day: date, t: int) -> str:
        """What the feed says of the ride at `t`: see the module's docstring."""
        if plan.opens is None or plan.closes is None or not plan.opens <= t < plan.closes:
            return "CLOSED"
        if self.model.refurbishing(ride, day):
            return "REFURBISHMENT"
        windows = plan.windows.get(ride.id, ())
        if any(a <= t < b for a, b in windows):
            return "OPERATING"
        down = any(a <= t < b for a, b in plan.breakdowns.get(ride.id, ()))
        stormy = plan.storm is not None and ride.storm_exposed and _in(plan.storm, t)
        if (down or stormy) and not self.never_down(park.id):
            return "DOWN"
        return "CLOSED"

    def truth(self, park_id: int, start: datetime, end: datetime) -> dict[str, Any]:
        """The model's truth (`FeedModel.truth`) with what this feed says of it: each
        day's published hours, and each ride's refurbishment days and the intervals its
        status is DOWN (none in a park whose feed never says DOWN)."""
        found = self.model.truth(park_id, start, end)
        park = self.model.parks[park_id]
        t0, t1 = int(start.timestamp()), int(end.timestamp())
        never_down = self.never_down(park_id)
        found["themeparks_wiki"] = {"id": self.park_ids[park_id], "never_down": never_down}
        refurbished: dict[int, list[str]] = {ride.id: [] for ride in park.rides}
        down: dict[int, list[tuple[int, int]]] = {ride.id: [] for ride in park.rides}
        for entry in found["days"]:
            day = date.fromisoformat(entry["date"])
            entry["published"] = [
                {
                    "type": hours.kind,
                    "opens": _iso(datetime.fromtimestamp(hours.opens, UTC)),
                    "closes": _iso(datetime.fromtimestamp(hours.closes, UTC)),
                    "description": hours.description,
                }
                for hours in self.published(park_id, day)
            ]
            plan = self.model.day_plan(park_id, day)
            for ride in park.rides:
                if ride.kind not in _TYPES:
                    continue
                if self.model.refurbishing(ride, day):
                    refurbished[ride.id].append(entry["date"])
                elif not never_down:
                    down[ride.id] += self._down(park, plan, ride, day, t0, t1)
        for ride in found["rides"]:
            ride["refurbishment_days"] = refurbished[ride["id"]]
            ride["status_down"] = [
                [_iso(datetime.fromtimestamp(a, UTC)), _iso(datetime.fromtimestamp(b, UTC))]
                for a, b in down[ride["id"]]
            ]
        return found

    def _down(
        self, park: SimPark, plan: DayPlan, ride: SimRide, day: date, t0: int, t1: int
    ) -> list[tuple[int, int]]:
        """Where `status` says DOWN in [t0, t1): it changes only at the ends of the
        day's hours, the ride's windows, its breakdowns and the storm."""
        if plan.opens is None or plan.closes is None:
            return []
        edges = {max(t0, plan.opens), min(t1, plan.closes)}
        for a, b in (
            *plan.windows.get(ride.id, ()),
            *plan.breakdowns.get(ride.id, ()),
            *((plan.storm,) if plan.storm else ()),
        ):
            edges.update(t for t in (a, b) if max(t0, plan.opens) < t < min(t1, plan.closes))
        points = sorted(edges)
        found: list[tuple[int, int]] = []
        for a, b in zip(points, points[1:], strict=False):
            if self.status(park, plan, ride, day, a) != "DOWN":
                continue
            if found and found[-1][1] == a:
                found[-1] = (found[-1][0], b)
            else:
                found.append((a, b))
        return found

    def schedule(self, park_id: int, at: datetime) -> dict[str, Any]:
        """From the park's day at `at` through the next 30 days."""
        first = self.model.schedule_day(park_id, at)
        days = [first + timedelta(days=n) for n in range(SCHEDULE_DAYS_AHEAD + 1)]
        return self._schedule(park_id, days)

    def schedule_month(self, park_id: int, year: int, month: int) -> dict[str, Any]:
        last = calendar.monthrange(year, month)[1]
        return self._schedule(park_id, [date(year, month, n) for n in range(1, last + 1)])

    def published(self, park_id: int, day: date) -> list[_Hours]:
        """The day's published entries (none: not published or closed)."""
        park = self.model.parks[park_id]
        plan = self.model.day_plan(park_id, day)
        seed = self.model.config.seed
        if plan.opens is None or plan.closes is None:
            return []
        if _unit(seed, "unpublished", park_id, day.toordinal()) < UNPUBLISHED_DAYS:
            return []
        opens, closes = plan.opens, plan.closes
        roll = _unit(seed, "off-schedule", park_id, day.toordinal())
        if roll < OFF_SCHEDULE_DAYS / 2:
            opens -= 3600  # it published an hour earlier than it opened
        elif roll < OFF_SCHEDULE_DAYS:
            closes += 3600  # it closed an hour before its published closing
        hours = [_Hours("OPERATING", opens, closes)]
        if "disney" in park.operator.lower():
            hours.insert(0, _Hours("TICKETED_EVENT", opens - 1800, opens, "Early Entry"))
            if _unit(seed, "extended", park_id, day.toordinal()) < 0.15:
                hours.append(_Hours("TICKETED_EVENT", closes, closes + 7200, "Extended Evening"))
        return hours

    # helpers --------------------------------------------------------------------------

    def _schedule(self, park_id: int, days: list[date]) -> dict[str, Any]:
        park = self.model.parks[park_id]
        zone = park.timezone
        entries = []
        for day in days:
            for hours in self.published(park_id, day):
                entry = {
                    "date": day.isoformat(),
                    "type": hours.kind,
                    "openingTime": _local(hours.opens, zone),
                    "closingTime": _local(hours.closes, zone),
                }
                if hours.description:
                    entry["description"] = hours.description
                entries.append(entry)
        return {**self._head(park), "schedule": entries}

    def _head(self, park: SimPark) -> dict[str, Any]:
        return {
            "id": self.park_ids[park.id],
            "name": park.name,
            "entityType": "PARK",
            "timezone": park.timezone.key,
        }

    def _stale(self, ride: SimRide, t: int) -> bool:
        period = self.model._period(t)
        return _unit(self.model.config.seed, "stale", ride.id, period) < STALE_LAST_UPDATED

    def answer(self, path: str, at: datetime) -> bytes | None:
        """The body for a `/v1/...` path, or None for an unknown one (404)."""
        parts = path.strip("/").split("/")
        if parts[:1] != ["v1"]:
            return None
        parts = parts[1:]
        if parts == ["destinations"]:
            return _encode(self.destinations())
        if len(parts) < 3 or parts[0] != "entity" or parts[1] not in self.parks_by_wiki:
            return None
        park_id = self.parks_by_wiki[parts[1]]
        rest = parts[2:]
        if rest == ["children"]:
            return _encode(self.children(park_id))
        if rest == ["live"]:
            return _encode(self.live(park_id, at))
        if rest == ["schedule"]:
            return _encode(self.schedule(park_id, at))
        if len(rest) == 3 and rest[0] == "schedule" and _month(rest[1], rest[2]):
            return _encode(self.schedule_month(park_id, int(rest[1]), int(rest[2])))
        return None


def _month(year: str, month: str) -> bool:
    return (
        year.isdigit() and 1970 <= int(year) <= 2150 and len(month) == 2 and month.isdigit()
    ) and 1 <= int(month) <= 12


def _id(seed: int, kind: str, key: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{seed}:{kind}:{key}"))


def _in(interval: tuple[int, int], t: int) -> bool:
    return interval[0] <= t < interval[1]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(epoch: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch, zone).isoformat()


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()
