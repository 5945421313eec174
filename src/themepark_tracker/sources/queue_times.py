"""The Queue-Times.com API: reading its documents and validating them at the edge.

Parsing is pure: it takes decoded JSON and returns plain records plus the problems it
found, so that one bad park never costs the rest of the catalogue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class SourceError(Exception):
    """A document could not be read or is not of the expected shape at all."""


@dataclass(frozen=True)
class CataloguePark:
    """A park as `parks.json` describes it; the group is its operator."""

    id: int
    name: str
    operator: str
    operator_id: int
    country: str
    continent: str
    latitude: float
    longitude: float
    timezone: str


@dataclass(frozen=True)
class CatalogueProblem:
    """A park (or group) that could not be read; `park_id` when it could be told."""

    location: str
    message: str
    park_id: int | None = None
    continent: str | None = None
    country: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class _Park(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: int = Field(gt=0)
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(min_length=1, max_length=100)
    continent: str = Field(min_length=1, max_length=100)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    timezone: str = Field(min_length=1, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value


class _Group(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: int
    name: str = Field(min_length=1, max_length=200)
    parks: list[Any]


def parse_parks_catalogue(
    document: Any,
) -> tuple[list[CataloguePark], list[CatalogueProblem]]:
    """Parks of a decoded `parks.json`, and a problem for each park that was unusable.

    Raises SourceError when the document as a whole is not a list of company groups:
    then nothing in it can be trusted.
    """
    if not isinstance(document, list):
        raise SourceError(f"expected a list of company groups, got {type(document).__name__}")
    parks: list[CataloguePark] = []
    problems: list[CatalogueProblem] = []
    seen: dict[int, str] = {}
    for group_index, raw_group in enumerate(document):
        try:
            group = _Group.model_validate(raw_group)
        except ValidationError as exc:
            raise SourceError(f"company group #{group_index + 1}: {_first_error(exc)}") from None
        for park_index, raw_park in enumerate(group.parks):
            park_id, continent, country = _raw_identity(raw_park)
            where = f"group {group.name!r}, park #{park_index + 1}"
            if park_id is not None:
                where += f" (id {park_id})"
            try:
                park = _Park.model_validate(raw_park)
            except ValidationError as exc:
                problems.append(
                    CatalogueProblem(where, _first_error(exc), park_id, continent, country)
                )
                continue
            if park.id in seen:
                problems.append(
                    CatalogueProblem(
                        where,
                        f"duplicate park id {park.id}, already listed in {seen[park.id]}",
                        park.id,
                        park.continent,
                        park.country,
                    )
                )
                continue
            seen[park.id] = where
            parks.append(
                CataloguePark(
                    id=park.id,
                    name=park.name,
                    operator=group.name,
                    operator_id=group.id,
                    country=park.country,
                    continent=park.continent,
                    latitude=park.latitude,
                    longitude=park.longitude,
                    timezone=park.timezone,
                )
            )
    return parks, problems


def _raw_identity(raw: Any) -> tuple[int | None, str | None, str | None]:
    """Id, continent and country of an invalid park, as far as they can be read."""
    if not isinstance(raw, dict):
        return None, None, None
    park_id, continent, country = raw.get("id"), raw.get("continent"), raw.get("country")
    return (
        park_id if isinstance(park_id, int) and not isinstance(park_id, bool) else None,
        continent.strip() if isinstance(continent, str) else None,
        country.strip() if isinstance(country, str) else None,
    )


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"missing field {field!r}"
    return f"field {field!r}: {message}" if field else message


def read_json_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 text: {exc.reason}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None


def fetch_json(url: str, *, timeout: float, user_agent: str) -> Any:
    """GET a JSON document; any failure is one SourceError naming the URL."""
    try:
        response = requests.get(
            url, timeout=timeout, headers={"User-Agent": user_agent, "Accept": "application/json"}
        )
        response.raise_for_status()
    except requests.HTTPError as exc:
        raise SourceError(f"{url}: HTTP {exc.response.status_code}") from None
    except requests.RequestException as exc:
        raise SourceError(f"{url}: {type(exc).__name__}: {exc}") from None
    try:
        return response.json()
    except ValueError as exc:
        raise SourceError(f"{url}: not valid JSON: {exc}") from None
