"""Outages: runs of closed polls inside a ride's window (docs/methodology.md, "Outages"),
and the reliability figures of a period, against hand-computed expectations and the
invariant that a ride's outages are its downtime, event by event."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from themepark_tracker.engine.days import compute_park_day, minutes
from themepark_tracker.engine.outages import (
    Gates,
    Reliability,
    lengths_of,
    lengths_of_buckets,
    nearest_rank,
)
from themepark_tracker.engine.outages import reliability as of_lengths
from themepark_tracker.engine.sessions import DayRules, Poll
from themepark_tracker.engine.states import State
from themepark_tracker.storage.outages import pack_lengths, unpack_lengths

RULES = DayRules()
DAY = date(2026, 7, 4)
T0 = datetime(2026, 7, 4, 14, tzinfo=UTC)


def polls_of(columns: dict[int, str], *, gaps: dict[int, int] | None = None) -> list[Poll]:
    """One poll every 10 minutes (or `gaps`: minutes before poll i), each ride's state
    in it spelled o (open), c (closed), u (unknown); every poll active."""
    letters = {"o": "open", "c": "closed", "u": "unknown"}
    count = len(next(iter(columns.values())))
    polls, at = [], T0
    for index in range(count):
        at += timedelta(minutes=(gaps or {}).get(index, 10 if index else 0))
        states: dict[int, State] = {ride: letters[text[index]] for ride, text in columns.items()}  # type: ignore[misc]
        waits = {ride: 15 if state == "open" else 0 for ride, state in states.items()}
        polls.append(Poll(at, True, states, waits))
    return polls


def test_an_outage_runs_from_its_first_closed_poll_to_the_next_open_one() -> None:
    polls = polls_of({1: "oocucco", 2: "oooooco", 3: "ooooooo"})
    ride = compute_park_day(DAY, polls, now=T0 + timedelta(days=1), rules=RULES).rides[1]
    (outage,) = ride.outages
    assert outage.start == polls[2].at and outage.end == polls[6].at
    assert outage.minutes == 30.0  # three closed polls; the unknown one neither splits nor adds
    assert ride.downtime_minutes == 30.0 and ride.downtime_events == 1
    assert not outage.ongoing and not outage.park_wide


def test_a_closure_running_to_the_end_of_the_session_is_no_outage() -> None:
    polls = polls_of({1: "oocco", 2: "ooooc"})
    ride = compute_park_day(DAY, polls, now=T0 + timedelta(days=1), rules=RULES).rides[2]
    assert ride.outages == () and ride.downtime_events == 0 and ride.downtime_minutes == 0


def test_a_closure_going_on_while_the_session_runs_is_an_ongoing_outage() -> None:
    polls = polls_of({1: "oooo", 2: "oocc"})
    now = polls[-1].at + timedelta(minutes=5)
    ride = compute_park_day(DAY, polls, now=now, rules=RULES).rides[2]
    (outage,) = ride.outages
    assert outage.ongoing and outage.end is None and outage.start == polls[2].at
    assert outage.minutes == ride.downtime_minutes == 15.0  # 10, then the latest poll's 5


@pytest.mark.parametrize(
    ("columns", "park_wide"),
    [
        # 4 of 5 rides already open are closed when ride 1 closes: at least half.
        ({1: "ooco", 2: "ooco", 3: "ooco", 4: "ooco", 5: "oooo"}, True),
        # 2 of 5: a ride's own outage.
        ({1: "ooco", 2: "ooco", 3: "oooo", 4: "oooo", 5: "oooo"}, False),
        # 2 of 4 known (two unknown count in neither part): half.
        ({1: "ooco", 2: "ooco", 3: "oooo", 4: "oooo", 5: "oouo", 6: "oouo"}, True),
        # Rides not yet open earlier that day do not count: only 3 were, too few.
        ({1: "ooco", 2: "ooco", 3: "ooco", 4: "ccco", 5: "ccco"}, False),
    ],
)
def test_an_outage_is_park_wide_when_half_the_rides_open_earlier_are_closed(
    columns: dict[int, str], park_wide: bool
) -> None:
    ride = compute_park_day(DAY, polls_of(columns), now=T0 + timedelta(days=1), rules=RULES).rides[
        1
    ]
    assert [outage.park_wide for outage in ride.outages] == [park_wide]


states = st.text(alphabet="ocu", min_size=2, max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    rides=st.lists(states, min_size=1, max_size=6),
    gaps=st.dictionaries(st.integers(1, 39), st.integers(1, 45), max_size=6),
    running=st.booleans(),
)
def test_a_ride_s_outages_are_its_downtime_event_by_event(
    rides: list[str], gaps: dict[int, int], running: bool
) -> None:
    length = min(len(text) for text in rides)
    columns = {ride: text[:length] for ride, text in enumerate(rides, start=1)}
    polls = polls_of(columns, gaps=gaps)
    now = polls[-1].at + (timedelta(minutes=3) if running else timedelta(days=1))
    day = compute_park_day(DAY, polls, now=now, rules=RULES)
    for ride in day.rides.values():
        assert ride.downtime_events == len(ride.outages)
        assert minutes(sum(o.minutes for o in ride.outages)) == minutes(ride.downtime_minutes)
        assert all(o.end is not None for o in ride.outages[:-1])
        times = [poll.at for poll in polls]
        for outage in ride.outages:
            start = times.index(outage.start)
            assert polls[start].states[ride.ride_id] == "closed"
            assert (
                outage.end is None or polls[times.index(outage.end)].states[ride.ride_id] == "open"
            )
            assert outage.end is None or outage.start < outage.end
        starts = [o.start for o in ride.outages]
        assert starts == sorted(starts)
        if ride.outages and ride.outages[-1].ongoing:
            assert day.running


def test_nearest_rank_percentiles() -> None:
    durations = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    assert nearest_rank(durations, 50) == 50.0
    assert nearest_rank(durations, 90) == 90.0
    assert nearest_rank([7.0], 90) == 7.0


def reliability(durations: list[float], up: float, down: float, gates: Gates) -> Reliability:
    return of_lengths(lengths_of(sorted(durations)), up, down, gates)


def test_reliability_sums_first_then_divides() -> None:
    figures = reliability([30.0, 10.0, 20.0, 50.0, 40.0], 1200.0, 150.0, Gates())
    assert figures.outages == 5
    assert figures.outages_per_100h == pytest.approx(100 * 5 / 20)
    assert figures.mtbf_hours == pytest.approx(4.0)
    assert figures.mttr_minutes == pytest.approx(30.0)
    assert (figures.median_outage_minutes, figures.p90_outage_minutes) == (30.0, 50.0)
    assert figures.longest_outage_minutes == 50.0
    assert figures.insufficient_data is None


def test_reliability_is_gated_on_time_observed_and_on_outages() -> None:
    short = reliability([30.0] * 8, 1000.0, 100.0, Gates())
    assert short.outages is None and short.mtbf_hours is None
    assert short.insufficient_data == "less than 20 hours observed"
    few = reliability([30.0, 10.0], 1200.0, 40.0, Gates())
    assert few.outages == 2 and few.mttr_minutes == 20.0
    assert few.median_outage_minutes is None and few.p90_outage_minutes is None
    assert few.insufficient_data == "fewer than 5 outages"
    none = reliability([], 1500.0, 0.0, Gates())
    assert (none.outages, none.outages_per_100h, none.mtbf_hours) == (0, 0.0, None)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 3_000), min_size=1, max_size=80))
def test_buckets_give_the_figures_of_the_lengths_rounded_to_them(seconds: list[int]) -> None:
    """Nearest-rank percentiles commute with rounding (it keeps the order): figures from
    10-minute buckets are those of the lengths rounded to 10 minutes, and exact for
    lengths that are whole buckets."""
    counts = [0] * 6
    for length in seconds:
        counts[(length + 300) // 600] += 1
    total = sum(seconds) / 60
    found = lengths_of_buckets(counts, total, 10)
    rounded = sorted(10.0 * ((length + 300) // 600) for length in seconds)
    exact = lengths_of(rounded)
    assert (found.count, found.total) == (len(seconds), total)
    assert (found.median, found.p90, found.longest) == (exact.median, exact.p90, exact.longest)
    assert found.bucket_minutes == 10 and exact.bucket_minutes is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 86_400), st.booleans()), max_size=60))
def test_a_park_day_s_outage_lengths_pack_to_the_second(lengths: list[tuple[int, bool]]) -> None:
    """Ended outages are whole seconds (sums of gaps between whole-second polls)."""
    minutes_ = [(seconds / 60, wide) for seconds, wide in lengths]
    packed = pack_lengths(minutes_)
    assert (packed is None) == (not lengths)
    in_order = sorted(minutes_, key=lambda pair: -pair[0] if pair[1] else pair[0])
    assert (unpack_lengths(packed) if packed else []) == in_order
