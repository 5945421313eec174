"""Back soon? The Kaplan–Meier curve against scipy's on censored data, the methodology's
worked example, and how a pool is chosen."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from themepark_tracker.engine.recovery import (
    Pool,
    choose_pool,
    kaplan_meier,
    pool_curve,
    recovery,
    still_down,
)
from themepark_tracker.storage.pools import pack, unpack

durations = st.lists(st.integers(1, 30).map(lambda n: n * 10.0), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(ended=durations, censored=st.lists(st.integers(1, 30).map(lambda n: n * 10.0), max_size=15))
def test_the_curve_is_scipy_s_kaplan_meier(ended: list[float], censored: list[float]) -> None:
    ours = kaplan_meier(ended, censored)
    theirs = stats.ecdf(stats.CensoredData(uncensored=ended, right=censored)).sf
    for t in [0.0, 5.0, *sorted(set(ended) | set(censored)), 305.0, 400.0]:
        for probe in (t, t + 4.9):
            assert ours.at(probe) == pytest.approx(float(theirs.evaluate(probe)), abs=1e-12)


def test_the_worked_example() -> None:
    """Ride outages of 10, 20, ..., 100 minutes, none censored; down for 25 minutes."""
    curve = kaplan_meier([10.0 * n for n in range(1, 11)])
    assert (curve.at(25), curve.at(55), curve.at(60)) == pytest.approx((0.8, 0.5, 0.4))
    found = recovery(curve, 25)
    assert found is not None
    assert found.p_open_within[30] == pytest.approx(0.375)
    assert found.p_open_within[15] == pytest.approx(1 - 0.6 / 0.8)
    assert found.p_open_within[60] == pytest.approx(1 - 0.2 / 0.8)
    assert found.median_remaining_minutes == 35


def test_the_chart_s_curve_starts_now_and_steps_down() -> None:
    curve = kaplan_meier([10.0 * n for n in range(1, 11)])
    points = still_down(curve, 25, 40)
    assert points[0] == (0.0, 1.0)
    assert [x for x, _ in points] == [0.0, 5.0, 15.0, 25.0, 35.0]
    assert points[-1][1] == pytest.approx(0.4 / 0.8)
    assert still_down(curve, 100, 60) == []


def test_a_curve_that_never_halves_has_no_median() -> None:
    curve = kaplan_meier([10.0, 20.0], [500.0] * 8)
    found = recovery(curve, 15)
    assert found is not None and found.median_remaining_minutes is None


def test_no_estimate_past_every_outage_of_the_pool() -> None:
    assert recovery(kaplan_meier([10.0, 20.0]), 25) is None


def test_the_first_pool_that_passes_both_tests_is_taken() -> None:
    ride = pool_curve(Pool("ride", (10.0,) * 12))  # enough outages, none longer than 25 min
    park_tier = pool_curve(Pool("park_tier", (30.0, 40.0, 50.0)))  # longer ones, too few
    tier = pool_curve(Pool("tier", (10.0,) * 7 + (30.0, 40.0, 50.0)))
    assert choose_pool([ride, park_tier, tier], 25, 10) == tier
    assert choose_pool([ride, park_tier], 25, 10) is None
    assert choose_pool([ride], 5, 10) == ride


@settings(max_examples=200, deadline=None)
@given(
    ended=st.lists(st.integers(30, 36_000).map(lambda s: s / 60), max_size=40),
    censored=st.lists(st.integers(30, 36_000).map(lambda s: s / 60), max_size=10),
    probes=st.lists(st.floats(0, 700, allow_nan=False), min_size=1, max_size=5),
)
def test_a_prepared_pool_is_its_outages(
    ended: list[float], censored: list[float], probes: list[float]
) -> None:
    """What choosing needs and the curve survive packing for the database unchanged, to
    the last bit (lengths are whole seconds)."""
    made = pool_curve(Pool("tier", tuple(ended), tuple(censored)))
    stored = unpack("tier", made.ended, made.censored, pack(made))
    assert list(stored.curve.times) == list(made.curve.times)
    assert list(stored.curve.levels) == list(made.curve.levels)
    for m in probes:
        assert made.longer_than(m) == stored.longer_than(m) == sum(1 for d in ended if d > m)
        assert stored.curve.at(m) == made.curve.at(m)
