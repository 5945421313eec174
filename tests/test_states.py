"""A ride's state and an active poll, exactly as docs/methodology.md words them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from themepark_tracker.engine.states import (
    CountedReading,
    State,
    StateRules,
    check_wait,
    is_counted,
    poll_is_active,
    ride_state,
)

T = datetime(2026, 7, 4, 18, 0, tzinfo=UTC)
RULES = StateRules()


@pytest.mark.parametrize(
    ("raw", "minutes", "problem"),
    [
        (0, 0, None),
        (45, 45, None),
        (360, 360, None),
        (45.0, 45, None),
        (361, None, "wait_too_long"),
        (601, None, "wait_too_long"),
        (999, None, "wait_too_long"),
        (-1, None, "wait_negative"),
        (None, None, "wait_missing"),
        ("Closed", None, "wait_not_a_number"),
        ("45", None, "wait_not_a_number"),
        (True, None, "wait_not_a_number"),
        (12.5, None, "wait_not_a_number"),
    ],
)
def test_wait_validation(raw: Any, minutes: int | None, problem: str | None) -> None:
    checked = check_wait(raw, 360)
    assert (checked.minutes, checked.problem) == (minutes, problem)


@pytest.mark.parametrize(
    ("is_open", "wait", "age_minutes", "state"),
    [
        (True, 30, 5, "open"),
        (True, 0, 5, "open"),
        (False, 30, 5, "open"),
        (None, 30, 5, "open"),
        (False, 0, 5, "closed"),
        (False, None, 5, "closed"),
        (None, None, 5, "closed"),
        (True, 30, 59, "open"),
        (True, 30, 60, "open"),
        (True, 30, 61, "unknown"),
        (False, 0, 600, "closed"),
        (True, 0, 3000, "unknown"),
    ],
)
def test_ride_state(is_open: bool | None, wait: int | None, age_minutes: int, state: str) -> None:
    assert ride_state(is_open, wait, T - timedelta(minutes=age_minutes), T, RULES) == state


def test_an_open_reading_without_a_timestamp_is_unknown_and_a_closed_one_closed() -> None:
    assert ride_state(True, 20, None, T, RULES) == "unknown"
    assert ride_state(False, 0, None, T, RULES) == "closed"


@given(
    is_open=st.none() | st.booleans(),
    wait=st.none() | st.integers(min_value=0, max_value=360),
    age=st.integers(min_value=-5, max_value=5000),
)
def test_open_means_a_wait_above_zero_or_the_open_flag(
    is_open: bool | None, wait: int | None, age: int
) -> None:
    state = ride_state(is_open, wait, T - timedelta(minutes=age), T, RULES)
    claims_open = bool(wait) or is_open is True
    assert (state == "closed") is (not claims_open)
    assert (state == "unknown") is (claims_open and age > 60)


def _readings(*pairs: tuple[State, int | None]) -> list[CountedReading]:
    return [CountedReading(state, wait, T - timedelta(minutes=3)) for state, wait in pairs]


@pytest.mark.parametrize(
    ("readings", "active"),
    [
        (_readings(("open", 10), ("open", 5), ("closed", 0)), True),
        (_readings(("open", 10), ("open", 0), ("open", 0)), False),
        (_readings(("open", 10), ("unknown", 30), ("closed", None)), False),
        (_readings(("open", 10)), True),
        (_readings(("open", 0)), False),
        ([], False),
    ],
)
def test_a_poll_is_active_with_enough_rides_open_with_a_wait(
    readings: list[CountedReading], active: bool
) -> None:
    assert poll_is_active(readings, T, RULES) is active


def test_a_park_left_open_with_zero_waits_all_night_is_not_active() -> None:
    night = _readings(*[("open", 0)] * 12, *[("closed", 0)] * 40)
    assert not poll_is_active(night, T, RULES)


@pytest.mark.parametrize(
    ("name", "category", "counted"),
    [
        ("Space Mountain", None, True),
        ("Space Mountain Single Rider", None, False),
        ("Velocicoaster - SINGLE RIDER", None, False),
        ("Festival of the Lion King", "show", False),
        ("Meet Mickey at Town Square Theater", "meet_greet", False),
        ("Jungle Cruise", "ride", True),
    ],
)
def test_counted_rides(name: str, category: str | None, counted: bool) -> None:
    assert is_counted(name, category, RULES) is counted


@pytest.mark.parametrize(("lag", "active"), [(5, True), (20, True), (21, False), (59, False)])
def test_waits_left_frozen_stop_making_a_park_active_after_20_minutes(
    lag: int, active: bool
) -> None:
    """Such readings are still open (fresher than `stale_after`), but not active."""
    updated = T - timedelta(minutes=lag)
    readings = [CountedReading("open", 25, updated), CountedReading("open", 40, updated)]
    assert ride_state(None, 25, updated, T, RULES) == "open"
    assert poll_is_active(readings, T, RULES) is active


def test_an_open_wait_without_a_timestamp_never_makes_a_park_active() -> None:
    readings = [CountedReading("open", 25, None), CountedReading("open", 40, T)]
    assert not poll_is_active(readings, T, RULES)
