"""The park catalogue: which parks are in scope, and how a new `parks.json` changes ours.

Pure functions on plain data; `jobs/sync_parks.py` reads and writes around them.
Parks are never deleted: one that leaves the feed or the scope becomes inactive, so
its history stays and it comes back with it if it reappears.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from themepark_tracker.sources.queue_times import CataloguePark

#: A small real-world parks.json (facts: names, ids, places) for the demo and the tests.
SAMPLE_PARKS_FILE = Path(__file__).parent / "data" / "parks.sample.json"


def is_disney_or_universal(operator: str) -> bool:
    """docs/methodology.md: "Disney & Universal" means the operator's name contains either word."""
    lowered = operator.casefold()
    return "disney" in lowered or "universal" in lowered


@dataclass(frozen=True)
class Scope:
    """Which parks to track: a continent, a list of countries, or everything."""

    continent: str | None = None
    countries: tuple[str, ...] = ()

    def includes(self, continent: str | None, country: str | None) -> bool:
        """Unknown fields count as in scope, so that a broken entry is reported, not hidden."""
        if self.countries:
            wanted = {name.casefold() for name in self.countries}
            return country is None or country.casefold() in wanted
        if self.continent:
            return continent is None or continent.casefold() == self.continent.casefold()
        return True

    def __str__(self) -> str:
        if self.countries:
            return "countries " + ", ".join(self.countries)
        if self.continent:
            return f"continent {self.continent}"
        return "all parks"


@dataclass(frozen=True)
class StoredPark:
    """A park as the database holds it."""

    park: CataloguePark
    is_active: bool


@dataclass
class CataloguePlan:
    """What a sync will do; every list holds parks in catalogue order."""

    added: list[CataloguePark] = field(default_factory=list)
    updated: list[CataloguePark] = field(default_factory=list)
    reactivated: list[CataloguePark] = field(default_factory=list)
    unchanged: list[CataloguePark] = field(default_factory=list)
    deactivated: list[int] = field(default_factory=list)

    @property
    def seen(self) -> list[CataloguePark]:
        return self.added + self.updated + self.reactivated + self.unchanged

    @property
    def changes(self) -> int:
        return len(self.added) + len(self.updated) + len(self.reactivated) + len(self.deactivated)


def plan_sync(
    stored: Mapping[int, StoredPark],
    incoming: Iterable[CataloguePark],
    protected: Iterable[int] = (),
) -> CataloguePlan:
    """Compare the catalogue with the stored parks.

    `protected` ids are listed in the catalogue but could not be read this time: they
    keep their state rather than being deactivated for a problem in the document.
    """
    plan = CataloguePlan()
    present = set(protected)
    for park in incoming:
        present.add(park.id)
        before = stored.get(park.id)
        if before is None:
            plan.added.append(park)
        elif before.park != park:
            plan.updated.append(park)
        elif not before.is_active:
            plan.reactivated.append(park)
        else:
            plan.unchanged.append(park)
    plan.deactivated = sorted(
        park_id for park_id, park in stored.items() if park.is_active and park_id not in present
    )
    return plan
