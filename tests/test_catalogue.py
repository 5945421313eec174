"""Reading parks.json, scoping it, and planning a sync: pure functions, no database."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from themepark_tracker.catalogue import SAMPLE_PARKS_FILE as SAMPLE_PARKS
from themepark_tracker.catalogue import Scope, StoredPark, plan_sync
from themepark_tracker.sources.queue_times import (
    CataloguePark,
    SourceError,
    parse_parks_catalogue,
)


def _sample() -> list[dict[str, Any]]:
    document: list[dict[str, Any]] = json.loads(SAMPLE_PARKS.read_text(encoding="utf-8"))
    return document


def test_the_sample_catalogue_reads_completely() -> None:
    parks, problems = parse_parks_catalogue(_sample())
    assert problems == []
    assert len(parks) == sum(len(group["parks"]) for group in _sample())
    magic_kingdom = next(p for p in parks if p.id == 6)
    assert magic_kingdom.operator == "Walt Disney Attractions"
    assert magic_kingdom.timezone == "America/New_York"
    assert magic_kingdom.latitude == pytest.approx(28.417663)


def test_coordinates_given_as_strings_are_numbers() -> None:
    parks, _ = parse_parks_catalogue(_sample())
    assert all(isinstance(p.latitude, float) and isinstance(p.longitude, float) for p in parks)


def test_unknown_fields_are_ignored_and_names_are_trimmed() -> None:
    document = _sample()
    document[0]["parks"][0]["name"] = "  Disney Magic Kingdom  "
    document[0]["parks"][0]["opening_hours"] = "9-23"
    document[0]["slug"] = "disney"
    parks, problems = parse_parks_catalogue(document)
    assert problems == []
    assert parks[0].name == "Disney Magic Kingdom"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "America/Nowhere"}, "unknown timezone 'America/Nowhere'"),
        ({"timezone": "../../etc/passwd"}, "unknown timezone"),
        ({"timezone": None}, "field 'timezone'"),
        ({"latitude": "north"}, "field 'latitude'"),
        ({"latitude": 95}, "field 'latitude'"),
        ({"longitude": -181}, "field 'longitude'"),
        ({"name": "   "}, "field 'name'"),
        ({"id": "six"}, "field 'id'"),
        ({"id": 0}, "field 'id'"),
    ],
)
def test_a_bad_park_is_reported_with_its_place_and_the_rest_is_kept(
    change: dict[str, Any], message: str
) -> None:
    document = _sample()
    document[0]["parks"][1].update(change)
    parks, problems = parse_parks_catalogue(document)
    assert len(problems) == 1
    assert message in problems[0].message
    assert "group 'Walt Disney Attractions', park #2" in str(problems[0])
    assert len(parks) == sum(len(group["parks"]) for group in document) - 1


def test_a_missing_field_is_named() -> None:
    document = _sample()
    del document[1]["parks"][0]["timezone"]
    _, problems = parse_parks_catalogue(document)
    assert [str(p) for p in problems] == [
        "group 'Universal Parks & Resorts', park #1 (id 65): missing field 'timezone'"
    ]
    assert problems[0].park_id == 65
    assert problems[0].continent == "North America"


def test_a_park_that_is_not_an_object_is_a_problem_without_an_id() -> None:
    document = _sample()
    document[0]["parks"].append("Magic Kingdom")
    _, problems = parse_parks_catalogue(document)
    assert len(problems) == 1
    assert problems[0].park_id is None


def test_a_duplicated_park_id_keeps_the_first_listing() -> None:
    document = _sample()
    twin = copy.deepcopy(document[0]["parks"][0])
    twin["name"] = "Magic Kingdom again"
    document[1]["parks"].append(twin)
    parks, problems = parse_parks_catalogue(document)
    assert [p.name for p in parks if p.id == 6] == ["Disney Magic Kingdom"]
    assert "duplicate park id 6" in problems[0].message


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"parks": []}, "expected a list of company groups, got dict"),
        ([{"id": 1, "name": "X"}], "company group #1: missing field 'parks'"),
        ([{"id": 1, "name": "X", "parks": {}}], "company group #1: field 'parks'"),
        (["Disney"], "company group #1"),
    ],
)
def test_a_document_of_the_wrong_shape_is_refused_whole(document: Any, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_parks_catalogue(document)


@pytest.mark.parametrize(
    ("scope", "continent", "country", "included"),
    [
        (Scope(continent="North America"), "North America", "Canada", True),
        (Scope(continent="north america"), "North America", "Canada", True),
        (Scope(continent="North America"), "Europe", "France", False),
        (Scope(continent="North America"), None, "France", True),
        (Scope(countries=("Canada", "mexico")), "North America", "Mexico", True),
        (Scope(countries=("Canada",)), "North America", "United States", False),
        (Scope(), "Asia", "Japan", True),
    ],
)
def test_scope(scope: Scope, continent: str | None, country: str | None, included: bool) -> None:
    assert scope.includes(continent, country) is included


def test_scope_describes_itself() -> None:
    assert str(Scope(continent="Europe")) == "continent Europe"
    assert str(Scope(countries=("Canada", "Mexico"))) == "countries Canada, Mexico"
    assert str(Scope()) == "all parks"


def _park(park_id: int, name: str = "Park") -> CataloguePark:
    return CataloguePark(
        park_id,
        f"{name} {park_id}",
        "Operator",
        1,
        "United States",
        "North America",
        28.0,
        -81.0,
        "America/New_York",
    )


def test_plan_sorts_parks_into_what_happens_to_them() -> None:
    stored = {
        1: StoredPark(_park(1), True),
        2: StoredPark(_park(2, "Old name"), True),
        3: StoredPark(_park(3), False),
        4: StoredPark(_park(4), True),
        5: StoredPark(_park(5), True),
        6: StoredPark(_park(6), False),
    }
    plan = plan_sync(stored, [_park(1), _park(2), _park(3), _park(7)], protected=[5])
    assert [p.id for p in plan.unchanged] == [1]
    assert [p.id for p in plan.updated] == [2]
    assert [p.id for p in plan.reactivated] == [3]
    assert [p.id for p in plan.added] == [7]
    assert plan.deactivated == [4]
    assert plan.changes == 4


parks_strategy = st.lists(
    st.builds(_park, st.integers(min_value=1, max_value=40), st.sampled_from(["A", "B"])),
    unique_by=lambda p: p.id,
    max_size=25,
)


@given(stored_parks=parks_strategy, incoming=parks_strategy)
def test_applying_a_plan_then_planning_again_changes_nothing(
    stored_parks: list[CataloguePark], incoming: list[CataloguePark]
) -> None:
    stored = {p.id: StoredPark(p, True) for p in stored_parks}
    plan = plan_sync(stored, incoming)
    after = {pid: StoredPark(p.park, False) for pid, p in stored.items()}
    after.update({p.id: StoredPark(p, True) for p in plan.seen})
    again = plan_sync(after, incoming)
    assert again.changes == 0
    assert {p.id for p in again.unchanged} == {p.id for p in incoming}
    assert {p.id for p in plan.seen} == {p.id for p in incoming}
