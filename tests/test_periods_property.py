"""Any period's figures equal the sum of its days, however and in whatever order the days
were saved: the running totals behind the rankings (the rides' and the park's) never
drift from the daily rows, and neither do the period before's sums, the last 7 days'
downtime or the maxima that come with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, delete, insert

from themepark_tracker.engine.days import ParkDay, RideDay
from themepark_tracker.engine.outages import Outage, period_outages
from themepark_tracker.engine.periods import previous_period
from themepark_tracker.engine.scores import Totals, ride_totals, total
from themepark_tracker.storage import outages
from themepark_tracker.storage.park_days import save_park_day
from themepark_tracker.storage.statistics import ParkSums, RideSums, park_sums, period_sums, scope
from themepark_tracker.storage.tables import (
    operating_sessions,
    park_daily_stats,
    parks,
    ride_daily_stats,
    ride_outages,
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
    scheduled: bool = False


ride_day = st.builds(
    lambda up, down, events, waits, ended: (up, down, events, waits, ended),
    st.integers(0, 700),
    st.integers(0, 300),
    st.integers(0, 5),
    st.integers(0, 30),
    st.lists(st.tuples(st.integers(1, 4_000), st.booleans()), max_size=3),
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
                tuple(
                    Outage(
                        ride,
                        stamp + timedelta(minutes=k),
                        stamp + timedelta(minutes=k, seconds=seconds),
                        seconds / 60,
                        park_wide,
                    )
                    for k, (seconds, park_wide) in enumerate(ended)
                ),
            )
            for ride, (up, down, events, waits, ended) in values.items()
        }
        day = FIRST + timedelta(days=offset)
        days.append(SavedDay(day, rides_, counted, draw(st.booleans())))
    order = draw(st.permutations(range(len(days))))
    return days, list(order)


def _reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (
            ride_outages,
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
    park_day = ParkDay(saved.day, T, T, 700.0, 60, 50, False, saved.rides, saved.scheduled)
    tiers = {ride: TIERS[ride] for ride in saved.counted}
    with engine.begin() as conn:
        save_park_day(conn, PARK, park_day, tiers, final=True, computed_at=T)


def ride_rankings(conn: Connection, span: tuple[date, date]) -> list[RideSums]:
    return period_sums(conn, scope(conn, lambda _zone: span))


def park_rankings(conn: Connection, span: tuple[date, date]) -> list[ParkSums]:
    return park_sums(conn, scope(conn, lambda _zone: span))


def _sums(days: list[SavedDay], first: date, last: date) -> dict[int, Totals]:
    inside = [d for d in days if first <= d.day <= last]
    return {
        ride: total(ride_totals(d.rides[ride], TIERS[ride]) for d in inside if ride in d.rides)
        for ride in TIERS
        if any(ride in d.rides for d in inside)
    }


def _close(actual: Totals, expected: Totals, *, peaks: bool = True) -> bool:
    """Equal sums; the period before's come without its peak wait."""
    pairs: list[tuple[Any, Any]] = [
        (actual.uptime_minutes, expected.uptime_minutes),
        (actual.downtime_minutes, expected.downtime_minutes),
        (actual.weighted_downtime_minutes, expected.weighted_downtime_minutes),
        (actual.weighted_total_minutes, expected.weighted_total_minutes),
        (actual.wait_sum, expected.wait_sum),
    ]
    peak = expected.peak_wait if peaks else None
    return all(a == pytest.approx(e, abs=1e-6) for a, e in pairs) and (
        actual.wait_samples,
        actual.peak_wait,
    ) == (expected.wait_samples, peak)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    history=histories(),
    span=st.tuples(st.integers(0, 16), st.integers(0, 16)),
    dropped=st.booleans(),
)
def test_any_period_equals_the_sum_of_its_days_whatever_the_order_days_were_saved(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    history: tuple[list[SavedDay], list[int]],
    span: tuple[int, int],
    dropped: bool,
) -> None:
    """Also when a day saved before is recomputed without any poll (its rows go, and the
    later days are numbered again). With a checkpoint of outage buckets every third
    park day, so that short histories have several."""
    monkeypatch.setattr(outages, "CHECKPOINT_DAYS", 3)
    days, order = history
    first, last = (FIRST + timedelta(days=n) for n in sorted(span))
    _reset(engine)
    for index in order:
        _save(engine, days[index])
    # A day recomputed later (a late poll) must leave the other days' sums exact too.
    _save(engine, days[order[0]])
    if dropped and len(days) > 1:
        gone = days[order[-1]]
        with engine.begin() as conn:
            empty = ParkDay(gone.day, None, None, 0.0, 0, 0, False, {})
            save_park_day(conn, PARK, empty, {}, final=True, computed_at=T)
        days = [d for d in days if d is not gone]
    inside = [d for d in days if first <= d.day <= last]
    expected = _sums(days, first, last)
    before = _sums(days, *previous_period(first, last))
    week = _sums(days, last - timedelta(days=6), last)
    with engine.connect() as conn:
        ranked_rides = ride_rankings(conn, (first, last))
        (ranked_park,) = park_rankings(conn, (first, last))
    assert {r.ride_id for r in ranked_rides} == set(expected)
    for ranked in ranked_rides:
        ride = ranked.ride_id
        mine = [d.rides[ride] for d in inside if ride in d.rides]
        assert _close(ranked.totals, expected[ride])
        assert _close(ranked.previous, before.get(ride, Totals()), peaks=False)
        assert ranked.downtime_events == sum(day.downtime_events for day in mine)
        assert ranked.longest_downtime_minutes == max(d.longest_downtime_minutes for d in mine)
        assert ranked.week_downtime_minutes == pytest.approx(
            week.get(ride, Totals()).downtime_minutes, abs=1e-6
        )
        assert ranked.week_days == sum(1 for d in days if ride in d.rides and d.day in _last7(last))
    assert [r.totals.downtime_minutes for r in ranked_rides] == sorted(
        (r.totals.downtime_minutes for r in ranked_rides), reverse=True
    )
    assert _close(ranked_park.totals, total(expected.values()))
    assert _close(ranked_park.previous, total(before.values()), peaks=False)
    assert ranked_park.rides_tracked == len(expected)
    assert ranked_park.days == len(inside)
    assert ranked_park.scheduled_days == sum(1 for d in inside if d.scheduled)
    assert ranked_park.rides_with_downtime == sum(
        1 for t in expected.values() if t.downtime_minutes > 0
    )
    shame = ranked_park.totals.shame_score
    assert shame is None or 0 <= shame <= 10
    _outages_hold(engine, monkeypatch, days, ranked_park, inside)


def _lengths(days: list[SavedDay]) -> list[tuple[float, bool]]:
    return [
        (outage.minutes, outage.park_wide)
        for day in days
        for ride in day.rides.values()
        for outage in ride.outages
    ]


def _outages_hold(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    days: list[SavedDay],
    park: ParkSums,
    inside: list[SavedDay],
) -> None:
    """Each day's buckets so far are its days' outages; the park's figures over the
    period are those of its days' outages, exactly and from buckets."""
    ordered = sorted(days, key=lambda d: d.day)
    with engine.connect() as conn:
        numbers = range(len(ordered) + 1)
        through = outages.buckets_through(conn, {PARK: numbers})
        exact = outages.park_outages(conn, [park])[PARK]
        with monkeypatch.context() as patched:
            patched.setattr(outages, "EXACT_DAYS", 0)
            bucketed = outages.park_outages(conn, [park])[PARK]
    for number in numbers:
        expected = [0] * 4
        outages.add_to_buckets(
            expected,
            [round(m * 60) * (-1 if wide else 1) for m, wide in _lengths(ordered[:number])],
        )
        assert through[(PARK, number)] == expected
    wanted = period_outages(_lengths(inside))
    rounded = period_outages([(10.0 * round(m / 10 + 1e-9), w) for m, w in _lengths(inside)])
    for found, like, exactly in (
        (exact.all, wanted.all, True),
        (exact.ride_outages, wanted.ride_outages, True),
        (bucketed.all, rounded.all, False),
        (bucketed.ride_outages, rounded.ride_outages, False),
    ):
        assert (found.count, found.median, found.p90, found.longest) == (
            like.count,
            like.median,
            like.p90,
            like.longest,
        )
        assert found.bucket_minutes == (None if exactly else 10)
    for found, sums in ((exact, wanted), (bucketed, wanted)):
        assert found.all.total == pytest.approx(sums.all.total, abs=1e-9)
        assert found.ride_outages.total == pytest.approx(sums.ride_outages.total, abs=1e-9)


def _last7(last: date) -> set[date]:
    return {last - timedelta(days=n) for n in range(7)}


def test_an_older_day_saved_last_fills_a_later_day_that_had_no_ride(engine: Engine) -> None:
    _reset(engine)
    down = {1: RideDay(1, T, T, 600.0, 60.0, 1, 60.0, None, None, 0)}
    day7, day8, day9 = (FIRST + timedelta(days=n) for n in (6, 7, 8))
    _save(engine, SavedDay(day8, {}, ()))  # polled, nothing known to count yet
    _save(engine, SavedDay(day9, down, (1,)))
    _save(engine, SavedDay(day7, down, (1,)))
    with engine.connect() as conn:
        (only_9,) = ride_rankings(conn, (day9, day9))
        (seven_8,) = ride_rankings(conn, (day7, day8))
    assert only_9.totals.downtime_minutes == 60 and seven_8.totals.downtime_minutes == 60
