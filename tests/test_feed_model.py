"""The simulated feed: deterministic, DST-correct, faithful to its truth, quirky on purpose."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.feed.model import FeedConfig, FeedModel, QuirkRates, Reading

DOCUMENT: list[dict[str, Any]] = json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8"))
SUMMER = datetime(2026, 7, 4, 18, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


@cache
def default_model() -> FeedModel:
    return FeedModel(DOCUMENT)


def served_open(reading: Reading) -> bool:
    """docs/methodology.md: open when is_open, or when a valid wait above zero is posted."""
    wait = reading.wait_time
    valid_wait = isinstance(wait, int) and 0 < wait <= 360
    return reading.is_open or valid_wait


def polls(start: datetime, hours: float, minutes: int = 10) -> list[datetime]:
    return [start + timedelta(minutes=minutes * k) for k in range(int(hours * 60 / minutes))]


def test_the_same_seed_gives_the_same_bytes_whatever_was_asked_before() -> None:
    first = FeedModel(DOCUMENT, FeedConfig(seed=7))
    second = FeedModel(DOCUMENT, FeedConfig(seed=7))
    second.queue_times_json(16, SUMMER + timedelta(days=3))
    for park_id in (6, 16, 50):
        for at in polls(SUMMER, 30, minutes=97):
            assert first.queue_times_json(park_id, at) == second.queue_times_json(park_id, at)
    assert first.parks_json() == second.parks_json()


def test_another_seed_gives_another_world() -> None:
    assert FeedModel(DOCUMENT, FeedConfig(seed=1)).queue_times_json(6, SUMMER) != FeedModel(
        DOCUMENT, FeedConfig(seed=2)
    ).queue_times_json(6, SUMMER)


def test_unknown_parks_have_no_payload() -> None:
    assert default_model().queue_times_json(999_999, SUMMER) is None


def test_payloads_have_the_queue_times_shape() -> None:
    model = default_model()
    disney = model.queue_times(6, SUMMER)
    assert disney["lands"] and all(land["rides"] for land in disney["lands"])
    assert {"id", "name", "rides"} <= set(disney["lands"][0])
    flat = model.queue_times(50, SUMMER)
    assert flat["lands"] == [] and flat["rides"]
    ride = flat["rides"][0]
    assert set(ride) == {"id", "name", "is_open", "wait_time", "last_updated"}
    assert datetime.strptime(ride["last_updated"], "%Y-%m-%dT%H:%M:%S.000%z")


# A park day starts at 04:00, so the day that contains the 02:00 clock change is the one
# that began the evening before: Saturday 7 March (23 h) and Saturday 31 October (25 h).
@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 3, 7), 23),
        (date(2026, 3, 8), 24),
        (date(2026, 10, 31), 25),
        (date(2026, 11, 1), 24),
        (date(2026, 7, 4), 24),
    ],
)
def test_park_days_follow_daylight_saving_time(day: date, hours: int) -> None:
    plan = default_model().day_plan(6, day)
    assert plan.end - plan.start == hours * 3600
    assert datetime.fromtimestamp(plan.start, NEW_YORK).hour == 4


@pytest.mark.parametrize("day", [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)])
def test_opening_times_stay_on_local_clock_hours_across_the_dst_change(day: date) -> None:
    plan = default_model().day_plan(6, day)
    assert plan.opens is not None and plan.closes is not None
    opens = datetime.fromtimestamp(plan.opens, NEW_YORK)
    closes = datetime.fromtimestamp(plan.closes, NEW_YORK)
    assert 7 <= opens.hour <= 10 and opens.minute in (0, 30)
    assert closes.hour >= 19 or closes.hour == 0


def test_seasonal_parks_close_on_off_season_weekdays() -> None:
    model = default_model()
    seasonal = [p for p in model.parks.values() if p.seasonal]
    assert seasonal
    park = seasonal[0]
    tuesday = date(2026, 1, 13)
    plan = model.day_plan(park.id, tuesday)
    assert plan.opens is None and plan.windows == {}
    truth = model.truth(
        park.id, datetime(2026, 1, 13, 12, tzinfo=UTC), datetime(2026, 1, 14, 4, tzinfo=UTC)
    )
    assert all(ride["open_intervals"] == [] for ride in truth["rides"])


def test_disney_and_universal_parks_have_lands_and_others_a_flat_list() -> None:
    for park in default_model().parks.values():
        big = "Disney" in park.operator or "Universal" in park.operator
        assert bool(park.lands) is big, park.name
        assert all((ride.land is not None) is big for ride in park.rides), park.name


def test_waits_are_in_five_minute_steps_and_peak_in_the_afternoon() -> None:
    model = FeedModel(DOCUMENT, FeedConfig(quirks=QuirkRates(invalid_wait=0, storm=0)))
    by_hour: dict[int, list[int]] = {}
    for at in polls(datetime(2026, 7, 6, 8, tzinfo=UTC), 24 * 3):
        for reading in model.readings(6, at):
            if reading.lie is None and reading.is_open and reading.ride.kind == "ride":
                assert reading.wait_time % 5 == 0
                by_hour.setdefault(at.astimezone(NEW_YORK).hour, []).append(reading.wait_time)
    mean = {hour: sum(waits) / len(waits) for hour, waits in by_hour.items() if len(waits) > 20}
    opening_hour = min(mean)
    assert mean[15] > 1.5 * mean[opening_hour]


def test_a_ride_the_truth_calls_open_is_never_served_closed() -> None:
    model = default_model()
    checked = 0
    for park_id in (6, 65, 50, 34):
        for at in polls(SUMMER - timedelta(hours=12), 72):
            for reading in model.readings(park_id, at):
                if reading.truly_open:
                    assert served_open(reading), reading
                    checked += 1
                elif reading.lie is None:
                    assert not served_open(reading), reading
    assert checked > 10_000


def test_the_truth_export_agrees_with_the_readings() -> None:
    model = default_model()
    start, end = SUMMER - timedelta(hours=18), SUMMER + timedelta(hours=30)
    truth = model.truth(65, start, end)
    intervals = {
        ride["id"]: [
            (datetime.fromisoformat(a).timestamp(), datetime.fromisoformat(b).timestamp())
            for a, b in ride["open_intervals"]
        ]
        for ride in truth["rides"]
    }
    compared = 0
    for at in polls(start + timedelta(minutes=10), 46):
        for reading in model.readings(65, at):
            if reading.lie == "frozen":
                continue
            inside = any(a <= reading.last_updated < b for a, b in intervals[reading.ride.id])
            assert inside is reading.truly_open
            compared += 1
    assert compared > 1000
    assert truth["days"][0]["opens"] is not None
    assert truth["timezone"] == "America/New_York"


def test_shows_and_meet_and_greets_close_between_performances() -> None:
    model = default_model()
    plan = model.day_plan(6, date(2026, 7, 4))
    shows = [r for r in model.parks[6].rides if r.kind in ("show", "meet_greet")]
    assert shows
    for show in shows:
        windows = plan.windows[show.id]
        assert len(windows) >= 2 or not windows
        assert all(b - a <= 90 * 60 for a, b in windows)


def test_breakdowns_close_rides_inside_the_day() -> None:
    model = default_model()
    interrupted = 0
    for day in range(10):
        plan = model.day_plan(6, date(2026, 7, 1) + timedelta(days=day))
        interrupted += sum(
            1
            for ride in model.parks[6].rides
            if ride.kind == "ride" and len(plan.windows[ride.id]) > 1
        )
    assert interrupted > 20


# --- quirks appear at their configured rates --------------------------------------------

HIGH = QuirkRates(
    storm=0.4,
    frozen_after_close=0.5,
    midnight_burst=0.5,
    frozen_for_days=0.02,
    invalid_wait=0.05,
    closed_with_wait=0.05,
    rename=0.2,
    disappear=0.1,
    extra_fields=0.3,
)


@cache
def high_model() -> FeedModel:
    return FeedModel(DOCUMENT, FeedConfig(seed=3, quirks=HIGH))


def park_days(model: FeedModel, days: int = 60) -> list[Any]:
    return [
        model.day_plan(park_id, date(2026, 6, 1) + timedelta(days=k))
        for park_id in model.parks
        for k in range(days)
    ]


def within(observed: float, expected: float, tolerance: float) -> bool:
    return abs(observed - expected) <= tolerance


def test_storms_frozen_closings_and_midnight_bursts_appear_at_their_rates() -> None:
    plans = [p for p in park_days(high_model()) if p.opens is not None]
    assert len(plans) > 800
    storms = sum(p.storm is not None for p in plans) / len(plans)
    assert within(storms, 0.4, 0.06)
    frozen_days = sum(any(f.start == p.closes for f in p.frozen.values()) for p in plans)
    assert within(frozen_days / len(plans), 0.5, 0.08)
    bursts = sum(p.burst is not None for p in plans) / len(plans)
    assert within(bursts, 0.5, 0.07)


def test_a_storm_closes_nearly_every_ride_then_they_reopen() -> None:
    model = high_model()
    plan = next(
        p
        for p in park_days(model, 30)
        if p.storm and p.opens and p.storm[1] < (p.closes or 0) - 3600
    )
    park = next(pk for pk in model.parks.values() if model.day_plan(pk.id, plan.day) is plan)
    rides = [r for r in park.rides if r.kind == "ride"]
    middle = (plan.storm[0] + plan.storm[1]) // 2
    closed = [r for r in rides if not any(a <= middle < b for a, b in plan.windows[r.id])]
    assert len(closed) >= 0.75 * len(rides)
    after = plan.storm[1] + 1800
    reopened = [r for r in rides if any(a <= after < b for a, b in plan.windows[r.id])]
    assert len(reopened) >= 0.5 * len(rides)


def test_overnight_open_rides_are_a_sixth_to_a_third_of_some_parks() -> None:
    model = default_model()
    shares = [len(p.overnight_open) / len(p.rides) for p in model.parks.values()]
    with_overnight = [s for s in shares if s]
    assert 0.2 <= len(with_overnight) / len(shares) <= 0.65
    assert all(0.14 <= s <= 0.33 for s in with_overnight)
    park = next(p for p in model.parks.values() if p.overnight_open)
    night = datetime.combine(date(2026, 7, 5), datetime.min.time(), park.timezone).replace(hour=3)
    readings = model.readings(park.id, night.astimezone(UTC))
    lying = [r for r in readings if r.lie == "overnight_open"]
    assert {r.ride.id for r in lying} <= park.overnight_open
    assert all(r.is_open and r.wait_time == 0 for r in lying)


def test_reading_quirks_appear_at_their_rates() -> None:
    model = high_model()
    counts: Counter[str] = Counter()
    for park_id in (6, 50, 21, 37):
        for at in polls(datetime(2026, 7, 10, 14, tzinfo=UTC), 8 * 6, minutes=5):
            for reading in model.readings(park_id, at):
                if reading.lie is None and reading.truly_open:
                    counts["open"] += 1
                    wait = reading.wait_time
                    if not isinstance(wait, int) or wait < 0 or wait > 360:
                        counts["invalid"] += 1
                    elif not reading.is_open and wait > 0:
                        counts["closed_with_wait"] += 1
    assert counts["open"] > 5000
    assert within(counts["invalid"] / counts["open"], 0.05, 0.015)
    assert within(counts["closed_with_wait"] / counts["open"], 0.05, 0.02)


def test_multi_day_freezes_keep_a_ride_open_with_an_old_timestamp() -> None:
    model = high_model()
    found = 0
    for plan in park_days(model, 30):
        for freeze in plan.frozen.values():
            if freeze.end - freeze.start >= 86400:
                found += 1
    assert found > 50
    park = model.parks[6]
    plan = next(
        p
        for p in (model.day_plan(6, date(2026, 6, 1) + timedelta(days=k)) for k in range(60))
        if any(f.end - f.start >= 86400 for f in p.frozen.values())
    )
    ride_id, freeze = next((r, f) for r, f in plan.frozen.items() if f.end - f.start >= 86400)
    at = datetime.fromtimestamp(freeze.start + 20 * 3600, UTC)
    reading = next(r for r in model.readings(park.id, at) if r.ride.id == ride_id)
    assert reading.is_open and reading.lie == "frozen"
    assert reading.last_updated == freeze.last_updated


def test_periodic_changes_rename_hide_and_move_rides() -> None:
    model = high_model()
    names: dict[int, set[str]] = {}
    seen_in: dict[int, set[int | None]] = {}
    absent = present = 0
    for week in range(40):
        at = datetime(2026, 1, 5, 17, tzinfo=UTC) + timedelta(weeks=week)
        for park_id in (6, 65, 17):
            listed = {r.ride.id: r for r in model.readings(park_id, at)}
            for ride in model.parks[park_id].rides:
                if ride.id in listed:
                    present += 1
                    names.setdefault(ride.id, set()).add(listed[ride.id].name)
                    seen_in.setdefault(ride.id, set()).add(listed[ride.id].land)
                else:
                    absent += 1
    assert within(absent / (absent + present), 0.1, 0.04)
    assert sum(len(n) > 1 for n in names.values()) > 10
    assert any(None in lands and len(lands) > 1 for lands in seen_in.values())


def test_catalogue_level_quirks_exist_in_the_sample_world() -> None:
    model = default_model()
    rides = [r for p in model.parks.values() for r in p.rides]
    assert any(r.kind == "single_rider" and r.name.endswith("Single Rider") for r in rides)
    assert any(r.name.startswith("Meet ") and " at " in r.name for r in rides)
    assert any(r.name.startswith("Festival of") or r.name.endswith(" Show") for r in rides)
    assert any(any(mark in r.name for mark in '™®“"') or r.name != r.name.rstrip() for r in rides)
    duplicated = [p for p in model.parks.values() if len({r.name for r in p.rides}) < len(p.rides)]
    assert duplicated


def test_extra_fields_appear_in_some_payloads() -> None:
    model = high_model()
    payloads = [model.queue_times(6, at) for at in polls(SUMMER, 24, minutes=7)]
    share = sum("crowd_level" in p for p in payloads) / len(payloads)
    assert within(share, 0.3, 0.12)


def test_a_late_night_stays_in_the_day_it_began() -> None:
    model = FeedModel(DOCUMENT, FeedConfig(late_nights=1.0))
    plan = model.day_plan(6, date(2026, 10, 31))
    assert plan.closes is not None
    closes = datetime.fromtimestamp(plan.closes, NEW_YORK)
    assert (closes.date(), closes.hour, closes.minute) == (date(2026, 11, 1), 0, 30)
    assert plan.start < plan.closes < plan.end
