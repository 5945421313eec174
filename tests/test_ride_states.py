"""The compact text of a poll's ride states gives back exactly what was stored."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from themepark_tracker.storage import ride_states

snapshot = st.fixed_dictionaries(
    {
        "state": st.sampled_from(["open", "closed", "unknown"]),
        "wait_time": st.none() | st.integers(0, 360),
    }
)


@given(st.dictionaries(st.integers(1, 10**9), snapshot, max_size=120))
def test_decoding_gives_back_every_state_and_wait(rides: dict[int, dict[str, object]]) -> None:
    text = ride_states.encode({"ride_id": ride_id, **row} for ride_id, row in rides.items())
    states, waits = ride_states.decode(text)
    assert states == {ride_id: row["state"] for ride_id, row in rides.items()}
    assert waits == {ride_id: row["wait_time"] for ride_id, row in rides.items()}


def test_the_format_is_short_and_readable() -> None:
    rows = [
        {"ride_id": 601, "state": "open", "wait_time": 35},
        {"ride_id": 602, "state": "closed", "wait_time": None},
        {"ride_id": 603, "state": "unknown", "wait_time": 0},
    ]
    assert ride_states.encode(rows) == "601o35,602c,603u0"
    assert ride_states.decode(None) == ({}, {})


def test_a_damaged_text_is_an_error_not_a_silent_gap() -> None:
    with pytest.raises(ValueError, match="not a ride state: '602x'"):
        ride_states.decode("601o35,602x,603u")
