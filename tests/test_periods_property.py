"""Any period's figures equal the sum of its days, however and in whatever order the days
were saved: the running totals behind the rankings never drift from the daily rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert, select

from themepark_tracker.engine.days import ParkDay, RideDay
from themepark_tracker.engine.scores import Totals, ride_totals, total
from themepark_tracker.storage import period_totals
from themepark_tracker.storage.park_days import save_park_day
from themepark_tracker.storage.rankings import park_rankings, ride_rankings
from themepark_tracker.storage.tables import (
    operating_sessions,
    park_daily_stats,
    park_period_totals,
    parks,
    ride_daily_stats,
    ride_period_totals,
    rides,
)

T = datetime(2026, 7, 1, tzinfo=UTC)
FIRST = date(2026, 7, 1)
PARK = 6
TIERS = {1: 1, 2: 3, 3: None}


@dataclass(frozen=True)
class SavedDay:
    day: date
    rides: dict[int, RideDay]
    counted: tuple[int, ...]


ride_day = st.builds(
    lambda up, down, events, waits: (up, down, events, waits),
    st.integers(0, 700),
    st.integers(0, 300),
    st.integers(0, 5),
    st.integers(0, 30),
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[SavedDay], list[int]]:
    offsets = draw(st.lists(st.integers(0, 14), min_size=1, max_size=8, unique=True))
    days = []
    for offset in sorted(offsets):
        # A ride appears on some day and counts from then on, as rides do in a catalogue.
        counted = tuple(r for r in TIERS if r <= 1 + offset // 5)
        eligible = draw(st.lists(st.sampled_from(counted), unique=True))
        values = {ride: draw(ride_day) for ride in eligible}
        stamp = datetime(2026, 7, 1, 14, tzinfo=UTC) + timedelta(days=offset)
        rides_ = {
            ride: RideDay(
                ride,
                stamp,
                stamp,
                up / 7,
                down / 7,
                events,
                down / 7,
                None if not waits else 25.5,
                None if not waits else 10 + waits,
                waits,
            )
            for ride, (up, down, events, waits) in values.items()
        }
        days.append(SavedDay(FIRST + timedelta(days=offset), rides_, counted))
    order = draw(st.permutations(range(len(days))))
    return days, list(order)


def _reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (
            ride_period_totals,
            park_period_totals,
            ride_daily_stats,
            park_daily_stats,
            operating_sessions,
            rides,
            parks,
        ):
            conn.execute(delete(table))
        conn.execute(
            insert(parks).values(
                id=PARK,
                name="Magic Kingdom",
                operator="Walt Disney Attractions",
                operator_id=2,
                country="United States",
                continent="North America",
                latitude=0.0,
                longitude=0.0,
                timezone="America/New_York",
                first_seen_at=T,
                last_seen_at=T,
                updated_at=T,
            )
        )
        conn.execute(
            insert(rides),
            [
                {
                    "id": ride,
                    "park_id": PARK,
                    "name": f"Ride {ride}",
                    "tier": tier,
                    "first_seen_at": T,
                    "last_seen_at": T,
                    "updated_at": T,
                }
                for ride, tier in TIERS.items()
            ],
        )


def _save(engine: Engine, saved: SavedDay) -> None:
    park_day = ParkDay(saved.day, T, T, 700.0, 60, 50, False, saved.rides)
    tiers = {ride: TIERS[ride] for ride in saved.counted}
    with engine.begin() as conn:
        save_park_day(conn, PARK, park_day, tiers, final=True, computed_at=T)


def _hold(engine: Engine, span: tuple[date, date], *, extended: bool = False) -> None:
    """`extended`: the range without its last day is held first, and the range is then
    computed from it and from its last day, as a poll computes the ranges of its day."""
    with engine.begin() as conn:
        if extended and span[0] < span[1]:
            before = (span[0], span[1] - timedelta(days=1))
            period_totals.keep(conn, PARK, {before})
            period_totals.keep(conn, PARK, {before, span})
        else:
            period_totals.keep(conn, PARK, {span})


def _close(actual: Totals, expected: Totals) -> bool:
    pairs: list[tuple[Any, Any]] = [
        (actual.uptime_minutes, expected.uptime_minutes),
        (actual.downtime_minutes, expected.downtime_minutes),
        (actual.weighted_downtime_minutes, expected.weighted_downtime_minutes),
        (actual.weighted_total_minutes, expected.weighted_total_minutes),
        (actual.wait_sum, expected.wait_sum),
    ]
    return all(a == pytest.approx(e, abs=1e-6) for a, e in pairs) and (
        actual.wait_samples,
        actual.peak_wait,
    ) == (expected.wait_samples, expected.peak_wait)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    history=histories(),
    span=st.tuples(st.integers(0, 16), st.integers(0, 16)),
    held_after=st.integers(0, 9),
    held_at_end=st.booleans(),
    extended=st.booleans(),
)
def test_any_period_equals_the_sum_of_its_days_whatever_the_order_days_were_saved(
    engine: Engine,
    history: tuple[list[SavedDay], list[int]],
    span: tuple[int, int],
    held_after: int,
    held_at_end: bool,
    extended: bool,
) -> None:
    """Also when the period's sums were kept ready (held) at some point, whole or
    extended from the range without its last day: the days saved after that must not
    leave a held range out of date."""
    days, order = history
    first, last = (FIRST + timedelta(days=n) for n in sorted(span))
    _reset(engine)
    for step, index in enumerate(order):
        if step == held_after:
            _hold(engine, (first, last), extended=extended)
        _save(engine, days[index])
    # A day recomputed later (a late poll) must leave the other days' sums exact too.
    _save(engine, days[order[0]])
    if held_at_end:
        _hold(engine, (first, last), extended=extended)
    inside = [d for d in days if first <= d.day <= last]
    expected = {
        ride: total(ride_totals(d.rides[ride], TIERS[ride]) for d in inside if ride in d.rides)
        for ride in TIERS
        if any(ride in d.rides for d in inside)
    }
    with engine.connect() as conn:
        ranked_rides = ride_rankings(conn, lambda _zone: (first, last))
        (ranked_park,) = park_rankings(conn, lambda _zone: (first, last))
    assert {r.ride_id for r in ranked_rides} == set(expected)
    for ranked in ranked_rides:
        assert _close(ranked.totals, expected[ranked.ride_id])
        assert ranked.downtime_events == sum(
            d.rides[ranked.ride_id].downtime_events for d in inside if ranked.ride_id in d.rides
        )
    assert [r.totals.downtime_minutes for r in ranked_rides] == sorted(
        (r.totals.downtime_minutes for r in ranked_rides), reverse=True
    )
    park_total = total(expected.values())
    assert _close(ranked_park.totals, park_total)
    assert ranked_park.rides_tracked == len(expected)
    assert ranked_park.rides_with_downtime == sum(
        1 for t in expected.values() if t.downtime_minutes > 0
    )
    shame = ranked_park.totals.shame_score
    assert shame is None or 0 <= shame <= 10
    if held_at_end:
        _assert_held_maxima(engine, (first, last), inside)


def _assert_held_maxima(engine: Engine, span: tuple[date, date], inside: list[SavedDay]) -> None:
    """Peak waits and longest closures, which no difference of running totals gives."""
    r = ride_period_totals.c
    query = select(r.ride_id, r.peak_wait, r.longest_downtime_minutes).where(
        r.park_id == PARK, r.first_date == span[0], r.last_date == span[1]
    )
    with engine.connect() as conn:
        held = {ride: (peak, longest) for ride, peak, longest in conn.execute(query)}
    expected = {}
    for ride in held:
        days = [d.rides[ride] for d in inside if ride in d.rides]
        peaks = [day.peak_wait for day in days if day.peak_wait is not None]
        expected[ride] = (max(peaks, default=None), max(d.longest_downtime_minutes for d in days))
    assert held == expected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    history=histories(),
    span=st.tuples(st.integers(0, 16), st.integers(1, 16)).filter(lambda s: s[0] < s[1]),
    held_after=st.integers(0, 9),
)
def test_a_range_extended_from_the_range_without_its_last_day_equals_it_computed_whole(
    engine: Engine,
    history: tuple[list[SavedDay], list[int]],
    span: tuple[int, int],
    held_after: int,
) -> None:
    """The range without the last day is held while the days are saved in any order (a
    day saved after it is held drops it, and keeping it computes it again)."""
    days, order = history
    first, last = (FIRST + timedelta(days=n) for n in span)
    before = (first, last - timedelta(days=1))
    _reset(engine)
    for step, index in enumerate(order):
        if step == held_after:
            _hold(engine, before)
        _save(engine, days[index])
    with engine.begin() as conn:
        period_totals.keep(conn, PARK, {before})
        period_totals.keep(conn, PARK, {before, (first, last)})
    extended = _held_rows(engine, (first, last))
    _hold(engine, (first, last))
    assert _held_rows(engine, (first, last)) == extended


def _held_rows(engine: Engine, span: tuple[date, date]) -> list[Any]:
    with engine.connect() as conn:
        return [
            conn.execute(
                select(table)
                .where(
                    table.c.park_id == PARK,
                    table.c.first_date == span[0],
                    table.c.last_date == span[1],
                )
                .order_by(*table.primary_key)
            ).all()
            for table in (park_period_totals, ride_period_totals)
        ]


def test_an_older_day_saved_last_fills_a_later_day_that_had_no_ride(engine: Engine) -> None:
    _reset(engine)
    down = {1: RideDay(1, T, T, 600.0, 60.0, 1, 60.0, None, None, 0)}
    day7, day8, day9 = (FIRST + timedelta(days=n) for n in (6, 7, 8))
    _save(engine, SavedDay(day8, {}, ()))  # polled, nothing known to count yet
    _save(engine, SavedDay(day9, down, (1,)))
    _save(engine, SavedDay(day7, down, (1,)))
    with engine.connect() as conn:
        (only_9,) = ride_rankings(conn, lambda _zone: (day9, day9))
        (seven_8,) = ride_rankings(conn, lambda _zone: (day7, day8))
    assert only_9.totals.downtime_minutes == 60 and seven_8.totals.downtime_minutes == 60
