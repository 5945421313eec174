"""`sources map`: pair every tracked park and ride with its ThemeParks.wiki entity.

Parks come from the shipped table under the overrides file, checked against the API's
destinations; each mapped park's children are fetched and its rides matched by name.
The pairs replace the stored ones, and every change is logged: what was collected under
the old pairs is never rewritten. A park whose children cannot be read keeps its stored
ride pairs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine

from themepark_tracker.config import Settings
from themepark_tracker.sources.http import FetchError, client_for
from themepark_tracker.sources.queue_times import SourceError, decode_json
from themepark_tracker.sources.themeparks_wiki import parse_children, parse_destinations
from themepark_tracker.storage import details, queries, wiki
from themepark_tracker.storage.db import transaction
from themepark_tracker.wiki_mapping import (
    NO_OVERRIDES,
    MappingError,
    Overrides,
    ParkPair,
    RidePair,
    WikiRide,
    match_rides,
    park_pairs,
    parse_overrides,
    shipped_parks,
)

log = logging.getLogger(__name__)


@dataclass
class MapReport:
    parks: dict[int, ParkPair] = field(default_factory=dict)
    unverified: list[ParkPair] = field(default_factory=list)
    """The table's rows for tracked parks that nobody confirmed: not used."""
    names: dict[int, str] = field(default_factory=dict)
    """Our parks' names, for the review."""
    rides: list[tuple[int, RidePair]] = field(default_factory=list)
    changes: list[wiki.Change] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    """Parks whose pair or children could not be used, and why."""

    def count(self, how: str) -> int:
        return sum(1 for _, pair in self.rides if pair.how == how)

    def summary(self) -> str:
        return (
            f"{len(self.parks)} parks mapped, {len(self.unverified)} awaiting review, "
            f"{self.count('name') + self.count('override')} rides matched, "
            f"{self.count('unmatched')} unmatched, {self.count('ambiguous')} ambiguous, "
            f"{len(self.changes)} pairs changed"
        )


def read_overrides(settings: Settings) -> Overrides:
    path = settings.themeparks_wiki_map_path
    if not path.exists():
        return NO_OVERRIDES
    try:
        return parse_overrides(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot read: {exc}") from None


def map_sources(engine: Engine, settings: Settings, now: datetime) -> MapReport:
    if not settings.themeparks_wiki_enabled:
        raise MappingError("the ThemeParks.wiki source is turned off (THEMEPARKS_WIKI_ENABLED)")
    overrides = read_overrides(settings)
    report = MapReport()
    client = client_for(settings, settings.themeparks_wiki_base_url)
    try:
        try:
            known, _ = parse_destinations(decode_json(client.get("/destinations").body))
        except (FetchError, SourceError) as exc:
            raise MappingError(f"cannot read the ThemeParks.wiki destinations: {exc}") from None
        names = {park.id: park.name for park in known}
        with engine.connect() as conn:
            active = set(queries.active_park_ids(conn))
            rides = wiki.rides_of(conn, active)
            report.names = {info.id: info.name for info in details.park_infos(conn)}
        shipped = shipped_parks()
        report.unverified = [
            pair
            for park_id, pair in sorted(shipped.items())
            if pair.how == "unverified" and park_id in active and park_id not in overrides.parks
        ]
        for park_id, pair in sorted(park_pairs(shipped, overrides, names).items()):
            if park_id not in active:
                continue
            if pair.wiki_id not in names:
                report.failures.append(
                    f"park {park_id}: {pair.wiki_id} is not a ThemeParks.wiki park"
                )
                continue
            report.parks[park_id] = ParkPair(park_id, pair.wiki_id, names[pair.wiki_id], pair.how)
        fetched: dict[int, list[RidePair]] = {}
        for park_id, pair in report.parks.items():
            try:
                body = client.get(f"/entity/{pair.wiki_id}/children").body
                children, _ = parse_children(decode_json(body))
            except (FetchError, SourceError) as exc:
                report.failures.append(f"park {park_id}: children not read: {exc}")
                continue
            entities = [WikiRide(c.id, c.name, c.entity_type) for c in children]
            fetched[park_id] = match_rides(rides.get(park_id, []), entities, overrides)
            report.rides += [(park_id, ride) for ride in fetched[park_id]]
    finally:
        client.close()

    def save(conn: Connection) -> list[wiki.Change]:
        changes = wiki.save_parks(conn, report.parks, now)
        for park_id, pairs in fetched.items():
            changes += wiki.save_rides(conn, park_id, pairs, now)
        return changes

    report.changes = transaction(engine, save)
    log_changes(report.changes)
    return report


def log_changes(changes: list[wiki.Change]) -> None:
    """One line a changed pair: what was stored under the old one stays as it was."""
    for change in changes:
        log.info(
            "ThemeParks.wiki pair changed",
            extra={
                "kind": change.kind,
                "queue_times_id": change.queue_times_id,
                "before": change.before,
                "after": change.after,
            },
        )
