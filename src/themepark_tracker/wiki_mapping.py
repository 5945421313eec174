"""Which ThemeParks.wiki park and entity each Queue-Times park and ride is.

Neither source names the other's ids. Parks come from a shipped table (49 North
American parks: 35 taken from a published mapping, 14 matched by name and never
verified, which are not used until a person confirms them in the overrides file: one
of them pairs Queue-Times' 57, Canada's Wonderland, with Great America), then from that
file.
Rides are matched within their park by normalised name; several Queue-Times entries may
be one entity (a single-rider queue is the ride's own queue there). Pure functions: the
CLI and the collector read and store.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

#: How a pair was made. `table`: the shipped table's verified rows; `unverified`: its
#: name matches nobody checked; `override`: the overrides file; `name`: a ride's
#: normalised name.
How = Literal["table", "unverified", "override", "name"]
#: The entity types a Queue-Times ride can be (meet-and-greets are SHOWs there).
RIDE_TYPES = ("ATTRACTION", "SHOW")


class MappingError(Exception):
    """An overrides file that cannot be used."""


@dataclass(frozen=True)
class ParkPair:
    queue_times_id: int
    wiki_id: str
    wiki_name: str
    how: How


def shipped_parks() -> dict[int, ParkPair]:
    """The shipped table (`data/themeparks_wiki_parks.csv`)."""
    text = resources.files("themepark_tracker").joinpath("data/themeparks_wiki_parks.csv")
    pairs = {}
    for row in csv.DictReader(io.StringIO(text.read_text(encoding="utf-8"))):
        park_id = int(row["queue_times_park_id"])
        how: How = "table" if row["verified"] == "yes" else "unverified"
        pairs[park_id] = ParkPair(
            park_id, row["themeparks_wiki_park_id"], row["themeparks_wiki_name"], how
        )
    return pairs


@dataclass(frozen=True)
class Overrides:
    """What a person decided: pairs, and parks or rides never to map (turned off)."""

    parks: Mapping[int, str | None]
    rides: Mapping[int, str | None]


NO_OVERRIDES = Overrides({}, {})
_UUID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")


def parse_overrides(text: str, source: str) -> Overrides:
    """CSV `kind,queue_times_id,themeparks_wiki_id[,note]`: `kind` is `park` or `ride`;
    an empty `themeparks_wiki_id` turns the second source off for that park or ride. A
    bad row names its line; an empty file holds no overrides."""
    if not text.strip():
        return NO_OVERRIDES
    reader = csv.DictReader(io.StringIO(text))
    missing = {"kind", "queue_times_id", "themeparks_wiki_id"} - set(reader.fieldnames or [])
    if missing:
        raise MappingError(f"{source}: missing columns {', '.join(sorted(missing))}")
    parks: dict[int, str | None] = {}
    rides: dict[int, str | None] = {}
    try:
        for row in reader:
            where = f"{source}:{reader.line_num}"
            kind, found, wiki_id = _override(row, where)
            target = parks if kind == "park" else rides
            if found in target:
                raise MappingError(f"{where}: {kind} {found} is overridden twice")
            target[found] = wiki_id
    except csv.Error as exc:
        raise MappingError(f"{source}:{reader.line_num}: {exc}") from None
    return Overrides(parks, rides)


def _override(row: dict[str | Any, Any], where: str) -> tuple[str, int, str | None]:
    kind = (row["kind"] or "").strip()
    if kind not in ("park", "ride"):
        raise MappingError(f"{where}: kind must be park or ride, not {kind!r}")
    try:
        found = int(row["queue_times_id"])
    except (TypeError, ValueError):
        raise MappingError(f"{where}: queue_times_id is a number") from None
    wiki_id = (row["themeparks_wiki_id"] or "").strip().lower() or None
    if wiki_id is not None and not _UUID.match(wiki_id):
        raise MappingError(f"{where}: {wiki_id!r} is not a ThemeParks.wiki id (a UUID)")
    return kind, found, wiki_id


def park_pairs(
    shipped: Mapping[int, ParkPair], overrides: Overrides, names: Mapping[str, str]
) -> dict[int, ParkPair]:
    """Every park to pair: the shipped table's verified rows under the overrides (an
    override without a park turns it off, one with a park confirms or replaces a row).
    `names` gives an overriding park's ThemeParks.wiki name, when known."""
    pairs = {park_id: pair for park_id, pair in shipped.items() if pair.how == "table"}
    for park_id, wiki_id in overrides.parks.items():
        if wiki_id is None:
            pairs.pop(park_id, None)
        else:
            pairs[park_id] = ParkPair(park_id, wiki_id, names.get(wiki_id, ""), "override")
    return pairs


_MARKS = str.maketrans({"™": "", "®": "", "©": "", "’": "'", "‘": "'", "–": "-", "—": "-"})
_SUFFIXES = re.compile(r"\s*[-–(]?\s*(single rider|single riders)\s*\)?\s*$")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def normalise(name: str) -> str:
    """A ride's name as both sources can agree on it: case-folded, without marks or
    accents, `&` as `and`, no punctuation, and without a single-rider suffix."""
    text = unicodedata.normalize("NFKD", name.translate(_MARKS)).casefold()
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = _SUFFIXES.sub("", text.replace("&", " and "))
    return _NOT_WORD.sub(" ", text).strip()


@dataclass(frozen=True)
class RidePair:
    queue_times_id: int
    queue_times_name: str
    wiki_id: str | None
    wiki_name: str
    how: How | Literal["unmatched", "ambiguous", "off"]


@dataclass(frozen=True)
class WikiRide:
    id: str
    name: str
    entity_type: str


def match_rides(
    rides: Iterable[tuple[int, str]], entities: Sequence[WikiRide], overrides: Overrides
) -> list[RidePair]:
    """Each Queue-Times ride of a park with its entity: the overrides first, then the one
    entity of the same normalised name. Two entities of one name are ambiguous, and
    none is unmatched: both are for review, never guessed."""
    named: dict[str, list[WikiRide]] = {}
    for entity in entities:
        if entity.entity_type in RIDE_TYPES:
            named.setdefault(normalise(entity.name), []).append(entity)
    by_id = {entity.id: entity for entity in entities}
    pairs = []
    for ride_id, name in rides:
        if ride_id in overrides.rides:
            wiki_id = overrides.rides[ride_id]
            if wiki_id is None:
                pairs.append(RidePair(ride_id, name, None, "", "off"))
            else:
                known = by_id.get(wiki_id)
                pairs.append(
                    RidePair(ride_id, name, wiki_id, known.name if known else "", "override")
                )
            continue
        found = named.get(normalise(name), [])
        if len(found) == 1:
            pairs.append(RidePair(ride_id, name, found[0].id, found[0].name, "name"))
        else:
            how: Literal["unmatched", "ambiguous"] = "ambiguous" if found else "unmatched"
            pairs.append(RidePair(ride_id, name, None, "", how))
    return pairs


def review_csv(
    unverified: Iterable[ParkPair],
    rides: Iterable[tuple[int, RidePair]],
    names: Mapping[int, str] | None = None,
) -> str:
    """The pairs a person should decide (the table's unverified parks, with both names;
    unmatched and ambiguous rides) as an overrides CSV: keep `themeparks_wiki_id` to
    confirm, change it, or empty it to turn the source off, then load it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", "queue_times_id", "themeparks_wiki_id", "note", "queue_times_park_id"])
    for park in sorted(unverified, key=lambda pair: pair.queue_times_id):
        ours = (names or {}).get(park.queue_times_id, "?")
        note = f"name match, never verified: {ours} = {park.wiki_name}?"
        writer.writerow(["park", park.queue_times_id, park.wiki_id, note, park.queue_times_id])
    for park_id, ride in sorted(rides, key=lambda item: (item[0], item[1].queue_times_id)):
        if ride.how in ("unmatched", "ambiguous"):
            note = f"{ride.how}: {ride.queue_times_name}"
            writer.writerow(["ride", ride.queue_times_id, "", note, park_id])
    return out.getvalue()
