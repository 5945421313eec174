"""The Queue-Times.com API: reading its documents and validating them at the edge.

Parsing is pure: it takes decoded JSON and returns plain records plus the problems it
found, so that one bad park never costs the rest of the catalogue.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class SourceError(Exception):
    """A document could not be read or is not of the expected shape at all."""


# --- what the database can hold -------------------------------------------------------------
# Every value read here ends up in a column; one that does not fit would fail the whole
# transaction, and with it every other poll of a batch. So each is bounded at the edge.

MAX_ID = 2**31 - 1
"""Park, ride and land ids are 32-bit signed integers in the database (INT on MariaDB)."""
NAME_LENGTH = 255
"""Longest ride or land name kept: the length of `rides.name` and `rides.land_name`."""
RAW_LENGTH = 255
"""Longest raw value kept with a data-quality issue: `data_quality_issues.raw_value`."""
MAX_JSON_DEPTH = 256
"""Deepest nesting a document may have. A Queue-Times payload is five levels deep; the
bound is counted, not left to where the interpreter's stack runs out, so that a document
accepted once decodes and encodes again anywhere (the collector's archive, a re-import)."""
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(9999, 1, 1, tzinfo=UTC)
"""A `last_updated` outside [EARLIEST_TIME, LATEST_TIME) is invalid: no feed sends one,
and near year 1 or 9999 a shift to a park's local day would overflow."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""JSON can escape half a UTF-16 pair (`"\\ud800"`); UTF-8, so no database, can hold one."""


def valid_id(value: Any) -> bool:
    """A positive integer that fits an id column (not a bool, not a float)."""
    return type(value) is int and 0 < value <= MAX_ID


def safe_text(text: str, limit: int) -> str:
    """Text any database stores: cut to `limit` characters, lone surrogates as U+FFFD."""
    text = text[:limit]
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text


def nested_deeper_than(document: Any, text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `document`, decoded from `text`, nests more than `limit` levels deep.

    Counted without recursion, and only when `text` holds enough brackets to be that deep
    (a real payload never does), so that it costs nothing on the way in.
    """
    if isinstance(text, bytes):
        brackets = text.count(b"[") + text.count(b"{")
    else:
        brackets = text.count("[") + text.count("{")
    if brackets <= limit:
        return False
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def decode_json(body: str | bytes) -> Any:
    """A fetched document decoded, or SourceError saying why it is not usable JSON."""
    try:
        document = json.loads(body)
    except RecursionError:
        raise SourceError("not JSON: nested too deeply") from None
    except ValueError as exc:  # bad JSON, bad UTF-8, an integer beyond the digit limit
        raise SourceError(f"not JSON: {exc}") from None
    if isinstance(document, dict | list) and nested_deeper_than(document, body):
        raise SourceError(f"not JSON: nested more than {MAX_JSON_DEPTH} levels deep")
    return document


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

    id: int = Field(gt=0, le=MAX_ID)
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

    id: int = Field(gt=0, le=MAX_ID)
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
        park_id if valid_id(park_id) else None,
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


# --- queue_times.json ---------------------------------------------------------------------


@dataclass(frozen=True)
class FeedRide:
    """One ride entry of a `queue_times.json`, as sent; `wait_raw` is not yet validated."""

    id: int
    name: str
    land_id: int | None
    land_name: str | None
    is_open: bool | None
    wait_raw: Any
    last_updated: datetime | None
    problems: tuple[tuple[str, str], ...] = ()
    """(issue type, raw value) of each field that could not be read."""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    lands: list[Any] = Field(default_factory=list)
    rides: list[Any] = Field(default_factory=list)


def parse_queue_times(document: Any) -> tuple[list[FeedRide], list[tuple[str, str]]]:
    """Rides of a decoded `queue_times.json`, de-duplicated by id (lands first).

    Returns the rides and the payload-level problems: entries without a usable id or name,
    unreadable lands, land ids and names that had to be dropped or repaired. A bad entry
    costs that entry (a bad land id, its id), never the rest of the payload. Raises
    SourceError when the document is not a Queue-Times payload at all.
    """
    try:
        payload = _Payload.model_validate(document)
    except ValidationError as exc:
        raise SourceError(f"not a queue_times payload: {_first_error(exc)}") from None
    problems: list[tuple[str, str]] = []
    entries: list[tuple[Any, int | None, str | None]] = []
    for land in payload.lands:
        read = _feed_land(land, problems)
        if read is not None:
            land_id, land_name, land_rides = read
            entries.extend((entry, land_id, land_name) for entry in land_rides)
    entries.extend((entry, None, None) for entry in payload.rides)
    rides: list[FeedRide] = []
    seen: set[int] = set()
    for entry, land_id, land_name in entries:
        ride = _feed_ride(entry, land_id, land_name, problems)
        if ride is not None and ride.id not in seen:
            seen.add(ride.id)
            rides.append(ride)
    return rides, problems


def _feed_land(
    land: Any, problems: list[tuple[str, str]]
) -> tuple[int | None, str | None, list[Any]] | None:
    """A land's id, name and ride entries; None when not even its rides can be read."""
    if not isinstance(land, dict) or not isinstance(land.get("rides", []), list):
        problems.append(("land_invalid", raw_text(land)))
        return None
    land_id, name = land.get("id"), land.get("name")
    if land_id is not None and not valid_id(land_id):
        problems.append(("land_id_invalid", raw_text(land_id)))
        land_id = None
    if name is not None and not isinstance(name, str):
        problems.append(("land_name_invalid", raw_text(name)))
        name = None
    if name is not None:
        name = _clean_name(name, "land_name", problems)
    return land_id, name or None, land.get("rides", [])


def _clean_name(name: str, subject: str, problems: list[tuple[str, str]]) -> str:
    """A name as stored: trimmed, lone surrogates as U+FFFD, cut to the column's length;
    each repair recorded as a `{subject}_not_unicode` or `{subject}_too_long` problem."""
    name = name.strip()
    if _LONE_SURROGATE.search(name):
        problems.append((f"{subject}_not_unicode", raw_text(name)))
        name = _LONE_SURROGATE.sub("\ufffd", name)
    if len(name) > NAME_LENGTH:
        problems.append((f"{subject}_too_long", raw_text(name)))
        name = name[:NAME_LENGTH].rstrip()
    return name


def _feed_ride(
    entry: Any, land_id: int | None, land_name: str | None, problems: list[tuple[str, str]]
) -> FeedRide | None:
    if not isinstance(entry, dict):
        problems.append(("ride_not_an_object", raw_text(entry)))
        return None
    ride_id, name = entry.get("id"), entry.get("name")
    if not isinstance(ride_id, int) or isinstance(ride_id, bool) or ride_id <= 0:
        problems.append(("ride_without_id", raw_text(entry)))
        return None
    if ride_id > MAX_ID:
        problems.append(("ride_id_out_of_range", raw_text(entry)))
        return None
    if not isinstance(name, str) or not name.strip():
        problems.append(("ride_without_name", raw_text(entry)))
        return None
    field_problems: list[tuple[str, str]] = []
    name = _clean_name(name, "ride_name", field_problems)
    is_open = entry.get("is_open")
    if not isinstance(is_open, bool):
        field_problems.append(("is_open_not_boolean", raw_text(is_open)))
        is_open = None
    last_updated = _timestamp(entry.get("last_updated"))
    if last_updated is None:
        field_problems.append(("last_updated_invalid", raw_text(entry.get("last_updated"))))
    return FeedRide(
        ride_id,
        name,
        land_id,
        land_name,
        is_open,
        entry.get("wait_time"),
        last_updated,
        tuple(field_problems),
    )


def _timestamp(value: Any) -> datetime | None:
    """An aware UTC time within [EARLIEST_TIME, LATEST_TIME), else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # year 1 shifted west, year 9999 shifted east
        return None
    return moment if EARLIEST_TIME <= moment < LATEST_TIME else None


def raw_text(value: Any) -> str:
    """A raw feed value as it can be stored for the record: its JSON text, at most
    RAW_LENGTH characters, a lone surrogate kept as the JSON escape it came as. A value
    too deep or too large for the encoder is described instead of crashing it."""
    if type(value) is int:  # nearly every wait: the JSON text without the encoder
        try:
            return str(value)[:RAW_LENGTH]
        except ValueError:
            return "<an integer too long to show>"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)[:RAW_LENGTH]
    except RecursionError:
        return f"<a {type(value).__name__} nested too deeply to show>"
    except ValueError:
        return f"<a {type(value).__name__} holding an integer too long to show>"
    if _LONE_SURROGATE.search(text):
        text = _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)[:RAW_LENGTH]
    return text
