"""ThemeParks.wiki v1 (api.themeparks.wiki): its documents read at the edge.

Lenient to what the tracker does not use (the API adds fields, and real answers carry
undocumented ones such as `parkId` and `forecast`), strict on what it does: ids, names,
statuses, waits and times. One bad entry is a problem named, never a lost document.
Parsing is pure: decoded JSON in, plain records and problems out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from themepark_tracker.engine.states import STATUSES, Status
from themepark_tracker.sources.queue_times import NAME_LENGTH, safe_text

#: What a schedule entry is; only `OPERATING` hours are a park's session. There is no
#: `CLOSED` type: a day not published is absent.
ScheduleType = Literal["OPERATING", "TICKETED_EVENT", "PRIVATE_EVENT", "EXTRA_HOURS", "INFO"]
MAX_WAIT = 1440
"""Standby waits above a day are feed errors (the API's own daily history drops them)."""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Id(_Lenient):
    id: str
    name: str

    @field_validator("id")
    @classmethod
    def _an_id(cls, value: str) -> str:
        if not value.strip() or len(value) > 64:
            raise ValueError("not an entity id")
        return value.strip().lower()

    @field_validator("name")
    @classmethod
    def _a_name(cls, value: str) -> str:
        return safe_text(value.strip(), NAME_LENGTH)


@dataclass(frozen=True)
class Problem:
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


# --- /destinations ---------------------------------------------------------------------


@dataclass(frozen=True)
class WikiPark:
    id: str
    name: str
    destination_id: str
    destination_name: str


class _Destination(_Id):
    parks: list[dict[str, Any]]


def parse_destinations(document: Any) -> tuple[list[WikiPark], list[Problem]]:
    """Every park of every destination."""
    found: list[WikiPark] = []
    problems: list[Problem] = []
    for where, destination in _entries(document, "destinations", _Destination, problems):
        for _, park in _entries({"parks": destination.parks}, "parks", _Id, problems, where):
            found.append(WikiPark(park.id, park.name, destination.id, destination.name))
    return found, problems


# --- /entity/{id}/children ------------------------------------------------------------------


@dataclass(frozen=True)
class WikiEntity:
    id: str
    name: str
    entity_type: str
    parent_id: str | None


class _Child(_Id):
    entityType: str
    parentId: str | None = None


def parse_children(document: Any) -> tuple[list[WikiEntity], list[Problem]]:
    """The entities under a park: attractions, shows, restaurants."""
    problems: list[Problem] = []
    found = [
        WikiEntity(child.id, child.name, child.entityType, child.parentId)
        for _, child in _entries(document, "children", _Child, problems)
    ]
    return found, problems


# --- /entity/{id}/live ----------------------------------------------------------------------


@dataclass(frozen=True)
class WikiLive:
    """One entity's live entry."""

    id: str
    name: str
    entity_type: str
    status: Status | None
    """None when the entry carries none (the spec makes it optional)."""
    standby_wait: int | None
    """Minutes; None when closed, unknown, or a feed error (see `MAX_WAIT`)."""
    last_updated: datetime
    """The entry's last change, which can be months old: never a freshness."""


class _Live(_Id):
    entityType: str
    status: str | None = None
    queue: dict[str, Any] | None = None
    lastUpdated: datetime

    @field_validator("lastUpdated")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("lastUpdated has no offset")
        return value.astimezone(UTC)


def parse_live(document: Any) -> tuple[list[WikiLive], list[Problem]]:
    """Each entry of `liveData`. An entity with nothing to report is absent: no data."""
    found: list[WikiLive] = []
    problems: list[Problem] = []
    for where, live in _entries(document, "liveData", _Live, problems):
        wait = _standby(live.queue)
        if wait is not None and not 0 <= wait <= MAX_WAIT:
            problems.append(Problem(where, f"standby wait {wait} out of range"))
            wait = None
        status = live.status if live.status in STATUSES else None
        if live.status is not None and status is None:
            problems.append(Problem(where, f"unknown status {live.status[:40]!r}"))
        found.append(WikiLive(live.id, live.name, live.entityType, status, wait, live.lastUpdated))
    return found, problems


def _standby(queue: dict[str, Any] | None) -> int | None:
    standby = (queue or {}).get("STANDBY")
    wait = standby.get("waitTime") if isinstance(standby, dict) else None
    return wait if type(wait) is int else None


# --- /entity/{id}/schedule[/{year}/{month}] -------------------------------------------------


@dataclass(frozen=True)
class ScheduledHours:
    """One published entry: a park day's hours of one type, in UTC."""

    day: date
    kind: ScheduleType
    opens: datetime
    closes: datetime
    description: str | None


class _Entry(_Lenient):
    date: date
    type: ScheduleType
    openingTime: datetime
    closingTime: datetime
    description: str | None = None

    @field_validator("openingTime", "closingTime")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("a schedule time has no offset")
        return value.astimezone(UTC)


def parse_schedule(document: Any) -> tuple[list[ScheduledHours], list[Problem]]:
    """The published entries, in order. Closing may fall after midnight; an entry that
    closes before it opens is refused."""
    found: list[ScheduledHours] = []
    problems: list[Problem] = []
    for where, entry in _entries(document, "schedule", _Entry, problems):
        if entry.closingTime <= entry.openingTime:
            problems.append(Problem(where, "closes before it opens"))
            continue
        description = None if entry.description is None else safe_text(entry.description, 255)
        found.append(
            ScheduledHours(
                entry.date, entry.type, entry.openingTime, entry.closingTime, description
            )
        )
    found.sort(key=lambda hours: (hours.day, hours.opens))
    return found, problems


# --- helpers ------------------------------------------------------------------------------


M = TypeVar("M", bound=BaseModel)


def _entries(
    document: Any, key: str, model: type[M], problems: list[Problem], within: str = ""
) -> Iterator[tuple[str, M]]:
    """Each entry of the list under `key` that `model` reads, with where it stands; each
    other one is a problem named."""
    for index, raw in enumerate(_list_of(document, key, problems)):
        where = f"{within}.{key}[{index}]" if within else f"{key}[{index}]"
        try:
            yield where, model.model_validate(raw)
        except ValidationError as exc:
            problems.append(Problem(where, _first_error(exc)))


def _list_of(document: Any, key: str, problems: list[Problem]) -> list[Any]:
    if not isinstance(document, dict):
        problems.append(Problem("document", "not a JSON object"))
        return []
    found = document.get(key)
    if not isinstance(found, list):
        problems.append(Problem(key, "missing or not a list"))
        return []
    return found


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg"))
