"""Queue-Times parks and rides paired with ThemeParks.wiki entities: the shipped park
table, normalised ride names against a real children list, the overrides file, and the
review CSV that round-trips into it."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from themepark_tracker.sources.themeparks_wiki import parse_children, parse_destinations
from themepark_tracker.wiki_mapping import (
    NO_OVERRIDES,
    MappingError,
    WikiRide,
    match_rides,
    normalise,
    park_pairs,
    parse_overrides,
    review_csv,
    shipped_parks,
)

FIXTURES = Path(__file__).parent / "fixtures" / "themeparks_wiki"
MAGIC_KINGDOM = "75ea578a-adc8-4116-a54d-dccb60765ef9"


def magic_kingdom() -> list[WikiRide]:
    document = json.loads((FIXTURES / "wdw_magic_kingdom_children.json").read_text())
    children, _ = parse_children(document)
    return [WikiRide(child.id, child.name, child.entity_type) for child in children]


def test_the_shipped_table_marks_the_name_matches_nobody_verified() -> None:
    parks = shipped_parks()
    assert len(parks) == 49
    assert sum(pair.how == "unverified" for pair in parks.values()) == 14
    assert parks[6].wiki_id == MAGIC_KINGDOM and parks[6].how == "table"
    known, _ = parse_destinations(
        json.loads((FIXTURES / "destinations_2026-04-14.json").read_text())
    )
    assert {pair.wiki_id for pair in parks.values()} <= {park.id for park in known}


def test_rides_pair_by_normalised_name_single_rider_queues_included() -> None:
    rides = [
        (1, "Buzz Lightyear's Space Ranger Spin"),  # a straight apostrophe there, curly here
        (2, "TRON Lightcycle / Run"),
        (3, "TRON Lightcycle / Run Single Rider"),  # a queue of the same ride
        (4, "It's A Small World"),
        (5, "Walt Disney World Railroad"),  # two stations there: not guessed
        (6, "Ratatouille"),
    ]
    pairs = {
        pair.queue_times_id: pair for pair in match_rides(rides, magic_kingdom(), NO_OVERRIDES)
    }
    assert pairs[1].how == "name" and pairs[1].wiki_name == "Buzz Lightyear’s Space Ranger Spin"
    assert pairs[2].wiki_id == pairs[3].wiki_id is not None
    assert pairs[4].wiki_name == '"it\'s a small world"'
    assert (pairs[5].how, pairs[6].how) == ("unmatched", "unmatched")


def test_overrides_pair_turn_off_and_confirm() -> None:
    tron = next(ride.id for ride in magic_kingdom() if ride.name == "TRON Lightcycle / Run")
    seaworld = shipped_parks()[22]  # a name match nobody verified
    text = (
        "kind,queue_times_id,themeparks_wiki_id,note\n"
        f"ride,5,{tron},by hand\n"
        "ride,2,,never this one\n"
        "park,6,,off\n"
        f"park,999,{MAGIC_KINGDOM},a park the table lacks\n"
        f"park,22,{seaworld.wiki_id},confirmed\n"
    )
    overrides = parse_overrides(text, "map.csv")
    pairs = match_rides([(2, "TRON Lightcycle / Run"), (5, "Anything")], magic_kingdom(), overrides)
    assert [(p.how, p.wiki_id) for p in pairs] == [("off", None), ("override", tron)]
    unconfirmed = park_pairs(shipped_parks(), NO_OVERRIDES, {})
    assert 22 not in unconfirmed and 57 not in unconfirmed and len(unconfirmed) == 35
    parks = park_pairs(shipped_parks(), overrides, {MAGIC_KINGDOM: "Magic Kingdom Park"})
    assert 6 not in parks and parks[999].how == "override"
    assert parks[22].wiki_id == seaworld.wiki_id and parks[22].how == "override"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("kind,queue_times_id\npark,1\n", "map.csv: missing columns themeparks_wiki_id"),
        ("kind,queue_times_id,themeparks_wiki_id\nland,1,\n", "map.csv:2: kind must be"),
        ("kind,queue_times_id,themeparks_wiki_id\npark,x,\n", "map.csv:2: queue_times_id"),
        ("kind,queue_times_id,themeparks_wiki_id\npark,1,magic\n", "map.csv:2: 'magic' is not"),
        ("kind,queue_times_id,themeparks_wiki_id\nride,1,\nride,1,\n", "map.csv:3: ride 1 is"),
    ],
)
def test_a_bad_overrides_file_names_its_line(text: str, error: str) -> None:
    with pytest.raises(MappingError, match=error.replace("(", r"\(")):
        parse_overrides(text, "map.csv")


def test_the_review_lists_what_needs_a_person_and_loads_back() -> None:
    rides = [(1, "Space Mountain"), (2, "Walt Disney World Railroad")]
    pairs = match_rides(rides, magic_kingdom(), NO_OVERRIDES)
    unverified = [pair for pair in shipped_parks().values() if pair.how == "unverified"]
    text = review_csv(unverified, [(6, pair) for pair in pairs], {57: "Canada's Wonderland"})
    lines = text.splitlines()
    assert len(lines) == 1 + 14 + 1  # the unverified parks, the one unmatched ride
    assert "Canada's Wonderland = Great America?" in text
    loaded = parse_overrides(text, "review.csv")
    assert len(loaded.parks) == 14 and loaded.rides == {2: None}


@given(st.text(alphabet=string.printable + "’‘–—éÉ&™®©", max_size=40))
def test_normalising_is_idempotent_and_ignores_case_and_marks(name: str) -> None:
    """Over the letters ride names are written in (Unicode case rules beyond them, such
    as a dotless i, are not a ride's name's concern)."""
    once = normalise(name)
    assert normalise(once) == once
    assert normalise(name.upper() + "™") == normalise(name.lower())
