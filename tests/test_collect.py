"""The collector against the local feed over loopback: catalogue, states, faults, archive.

Every test runs `collect_cycle` (or the `collect` command) against `running_server` on a
simulated clock shared by the feed and the collector, and holds what was stored against
what the feed served (`FeedModel.readings`) and what really happened (`FeedModel.truth`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner
from feed_fixtures import (
    SAMPLE,
    ScriptedSource,
    SimClock,
    catalogue,
    clear,
    collector_settings,
    contents,
    epoch,
    feed_ride,
    is_single_rider,
    metrics_state,
    park_path,
    rows,
    sample_park_ids,
    snapshots_by_poll,
    valid_wait,
    watch_server,
)
from sqlalchemy import Engine

from themepark_tracker.archive import ArchiveWriter, QueueTimesRecord, read_archive
from themepark_tracker.cli import EXIT_LOCKED, EXIT_PARTIAL, cli
from themepark_tracker.engine.states import NOT_RIDES
from themepark_tracker.feed.model import FeedConfig, FeedModel, QuirkRates
from themepark_tracker.feed.server import Faults, running_server
from themepark_tracker.jobs.collect import AlreadyRunning, collect_cycle, collect_lock
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.storage.tables import (
    data_quality_issues,
    parks,
    polls,
    ride_snapshots,
    rides,
    status_changes,
)

NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2026, 7, 4, 18, 0, tzinfo=UTC)  # 14:00 in New York, a summer Saturday
FAULT_PARKS = (5, 6, 7)
WAIT_ISSUES = {"wait_missing", "wait_not_a_number", "wait_negative", "wait_too_long"}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in New York on `day` (hour 24 is midnight at its end), in UTC."""
    day += timedelta(days=hour // 24)
    return datetime(day.year, day.month, day.day, hour % 24, minute, tzinfo=NEW_YORK).astimezone(
        UTC
    )


def covered(intervals: list[list[str]], moment: datetime) -> bool:
    return any(
        datetime.fromisoformat(a) <= moment < datetime.fromisoformat(b) for a, b in intervals
    )


# --- the catalogue ------------------------------------------------------------------------


def test_a_first_cycle_loads_the_catalogue_and_polls_every_park_in_scope_once(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seen = watch_server(caplog)
    model = FeedModel(SAMPLE)
    clock = SimClock(T0)
    with running_server(model, clock) as url:
        report = collect_cycle(engine, collector_settings(url), clock)

    north_america = sample_park_ids("North America")
    stored_parks = rows(engine, parks)
    assert {p["id"] for p in stored_parks} == north_america
    assert all(p["is_active"] and p["last_seen_at"] == T0 for p in stored_parks)
    assert report.catalogue == "refreshed"
    assert (report.parks, report.outcomes) == (len(north_america), Counter(ok=len(north_america)))
    assert report.exit_code(0.1) == 0

    stored_polls = rows(engine, polls)
    assert sorted(p["park_id"] for p in stored_polls) == sorted(north_america)
    per_poll = Counter(s["poll_id"] for s in rows(engine, ride_snapshots))
    for poll in stored_polls:
        assert (poll["polled_at"], poll["outcome"], poll["source"]) == (T0, "ok", "collect")
        assert (poll["http_status"], poll["cycle_id"]) == (200, report.cycle_id)
        expected = len(model.readings(poll["park_id"], T0))
        assert per_poll[poll["id"]] == poll["rides_total"] == expected > 0
    assert report.rides == sum(per_poll.values())
    assert report.active_parks == sum(p["is_active"] for p in stored_polls)

    asked = seen()
    assert asked[("/parks.json", "200")] == 1
    assert all(asked[(park_path(park_id), "200")] == 1 for park_id in north_america)
    assert sum(asked.values()) == 1 + len(north_america)


class CatalogueGrowsAt:
    """The model's feed, whose parks.json lists one park more from `when` on."""

    def __init__(self, model: FeedModel, before: list[dict[str, Any]], when: datetime) -> None:
        self.model, self.before, self.when = model, before, when
        self.clock: SimClock | None = None

    def parks_json(self) -> bytes:
        assert self.clock is not None
        if self.clock() < self.when:
            return json.dumps(self.before).encode()
        return self.model.parks_json()

    def queue_times_json(self, park_id: int, at: datetime) -> bytes | None:
        return self.model.queue_times_json(park_id, at)


def test_the_catalogue_is_refreshed_only_once_it_is_a_day_old(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seen = watch_server(caplog)
    source = CatalogueGrowsAt(
        FeedModel(catalogue(5, 6, 334)), catalogue(5, 6), T0 + timedelta(hours=1)
    )
    clock = source.clock = SimClock(T0)
    outcomes = []
    with running_server(source, clock) as url:
        settings = collector_settings(url)
        for at in (
            T0,
            T0 + timedelta(minutes=10),
            T0 + timedelta(hours=2),
            T0 + timedelta(hours=23, minutes=59),
        ):
            clock.now = at
            report = collect_cycle(engine, settings, clock)
            outcomes.append((report.catalogue, report.parks))
        assert {p["id"] for p in rows(engine, parks)} == {5, 6}
        clock.now = T0 + timedelta(hours=24)
        report = collect_cycle(engine, settings, clock)
        outcomes.append((report.catalogue, report.parks))

    assert outcomes == [
        ("refreshed", 2),
        ("fresh", 2),
        ("fresh", 2),
        ("fresh", 2),
        ("refreshed", 3),
    ]
    assert seen()[("/parks.json", "200")] == 2
    epic = {p["id"]: p for p in rows(engine, parks)}[334]
    assert (epic["is_active"], epic["first_seen_at"]) == (True, T0 + timedelta(hours=24))
    assert [p["polled_at"] for p in rows(engine, polls) if p["park_id"] == 334] == [
        T0 + timedelta(hours=24)
    ]


# --- states as docs/methodology.md defines them ---------------------------------------------------


def test_stored_states_and_active_polls_follow_the_metrics_rules(engine: Engine) -> None:
    """Lies of the feed included: rides open all night at zero wait, waits frozen after close,
    invalid waits, single-rider queues, `is_open=false` with a wait."""
    quirks = QuirkRates(
        overnight_open_parks=1.0,
        frozen_after_close=1.0,
        invalid_wait=0.05,
        closed_with_wait=0.05,
        single_rider=1.0,
    )
    model = FeedModel(catalogue(5, 6, 50), FeedConfig(quirks=quirks))
    day = date(2026, 7, 4)
    instants = [
        local(day, 14, 30),
        local(day, 22, 30),
        local(day, 23, 30),
        local(day + timedelta(days=1), 3, 30),
    ]
    clock = SimClock(instants[0])
    with running_server(model, clock) as url:
        settings = collector_settings(url)
        for at in instants:
            clock.now = at
            assert collect_cycle(engine, settings, clock).outcomes == Counter(ok=3)

    stored = snapshots_by_poll(engine)
    issues = {(i["ride_id"], i["observed_at"]): i for i in rows(engine, data_quality_issues)}
    # docs/methodology.md 4: what the classifier calls a show or a meet-and-greet is not counted.
    not_rides = {r["id"] for r in rows(engine, rides) if r["category"] in NOT_RIDES}
    seen: Counter[str] = Counter()
    for poll in rows(engine, polls):
        at, park_id = poll["polled_at"], poll["park_id"]
        readings = model.readings(park_id, at)
        snapshots = stored[(park_id, at)]
        assert set(snapshots) == {r.ride.id for r in readings}
        running, counted = 0, 0
        for reading in readings:
            snapshot = snapshots[reading.ride.id]
            state = metrics_state(reading, at)
            wait = valid_wait(reading)
            assert snapshot["state"] == state, (park_id, at, reading)
            assert snapshot["is_open_raw"] is reading.is_open
            assert snapshot["last_updated"] == epoch(reading.last_updated)
            assert snapshot["wait_time"] == wait
            if wait is None:
                issue = issues[(reading.ride.id, at)]
                assert issue["issue_type"] in WAIT_ISSUES
                assert issue["raw_value"] == json.dumps(reading.wait_time)
                raw = None if reading.wait_time is None else json.dumps(reading.wait_time)
                assert snapshot["wait_time_raw"] == raw
                seen["invalid wait"] += 1
            if is_single_rider(reading.name):
                seen["single rider"] += 1
            elif reading.ride.id in not_rides:
                seen["not a ride"] += 1
            else:
                counted += 1
                fresh = epoch(reading.last_updated) >= at - timedelta(minutes=20)
                running += state == "open" and wait is not None and wait > 0 and fresh
            if reading.lie == "overnight_open":
                assert (snapshot["state"], snapshot["wait_time"]) == ("open", 0)
                seen["overnight open"] += 1
            if reading.lie == "frozen":
                seen[f"frozen, stored {state}"] += 1
            if not reading.is_open and wait:
                assert state == "open"
                seen["closed with a wait"] += 1
        assert bool(poll["is_active"]) is (running >= min(2, counted))
        assert poll["rides_total"] == len(readings)
        assert (poll["rides_open"], poll["rides_closed"], poll["rides_unknown"]) == tuple(
            sum(1 for s in snapshots.values() if s["state"] == name)
            for name in ("open", "closed", "unknown")
        )
    # The instants were chosen so that every rule above was exercised.
    assert {
        "invalid wait",
        "single rider",
        "not a ride",
        "overnight open",
        "frozen, stored open",
        "frozen, stored unknown",
        "closed with a wait",
    } <= set(seen), seen
    night = [p for p in rows(engine, polls) if p["polled_at"] == instants[-1]]
    assert night and not any(p["is_active"] for p in night)
    assert all(p["rides_open"] > 0 for p in night)  # open flags alone never make a park active


def test_single_rider_queues_are_stored_but_do_not_make_a_park_active(engine: Engine) -> None:
    def payload(suffix: str, first_id: int) -> dict[str, Any]:
        return {
            "lands": [],
            "rides": [
                feed_ride(first_id + 1, "Big Coaster", T0, is_open=False, wait=0),
                feed_ride(first_id + 2, f"Big Coaster{suffix}", T0, wait=15),
                feed_ride(first_id + 3, f"Log Flume{suffix}", T0, wait=10),
                feed_ride(first_id + 4, "Carousel", T0, is_open=False, wait=0),
            ],
        }

    source = ScriptedSource(
        catalogue(5, 6),
        {6: [(T0, payload(" Single Rider", 0))], 5: [(T0, payload(" Express", 100))]},
    )
    with running_server(source, lambda: T0) as url:
        report = collect_cycle(engine, collector_settings(url), lambda: T0)

    assert report.outcomes == Counter(ok=2)
    by_park = {p["park_id"]: p for p in rows(engine, polls)}
    # Two rides open with a wait, but both are single-rider queues: not operating.
    assert (by_park[6]["is_active"], by_park[6]["rides_total"], by_park[6]["rides_open"]) == (
        False,
        4,
        2,
    )
    # The same feed with real rides in their place is operating.
    assert by_park[5]["is_active"] is True
    stored = {r["id"]: r["name"] for r in rows(engine, rides) if r["park_id"] == 6}
    assert stored == {
        1: "Big Coaster",
        2: "Big Coaster Single Rider",
        3: "Log Flume Single Rider",
        4: "Carousel",
    }


def test_invalid_waits_are_stored_as_null_with_a_data_quality_issue_each(engine: Engine) -> None:
    raw = {11: 601, 12: 999, 13: -1, 14: None, 15: "Closed", 16: 45.0, 17: 361}
    payload = {
        "lands": [],
        "rides": [feed_ride(ride_id, f"Ride {ride_id}", T0, wait=w) for ride_id, w in raw.items()],
    }
    source = ScriptedSource(catalogue(6), {6: [(T0, payload)]})
    with running_server(source, lambda: T0) as url:
        report = collect_cycle(engine, collector_settings(url), lambda: T0)

    snapshots = {s["ride_id"]: s for s in rows(engine, ride_snapshots)}
    assert {ride_id: s["wait_time"] for ride_id, s in snapshots.items()} == {
        11: None,
        12: None,
        13: None,
        14: None,
        15: None,
        16: 45,
        17: None,
    }
    assert all(s["state"] == "open" for s in snapshots.values())  # is_open=true, fresh
    issues = {
        i["ride_id"]: (i["issue_type"], i["raw_value"]) for i in rows(engine, data_quality_issues)
    }
    assert issues == {
        11: ("wait_too_long", "601"),
        12: ("wait_too_long", "999"),
        13: ("wait_negative", "-1"),
        14: ("wait_missing", "null"),
        15: ("wait_not_a_number", '"Closed"'),
        17: ("wait_too_long", "361"),
    }
    assert report.issues == 6
    # Only ride 16 has a valid wait above zero: one running ride is not an operating park.
    assert rows(engine, polls)[0]["is_active"] is False


# --- faults -------------------------------------------------------------------------------


def fault_model() -> FeedModel:
    return FeedModel(catalogue(*FAULT_PARKS))


def test_a_park_answering_500_every_time_fails_after_every_attempt_and_loses_nothing_else(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seen = watch_server(caplog)
    model, clock = fault_model(), SimClock(T0)
    with running_server(model, clock, Faults(error_rate=1.0)) as url:
        settings = collector_settings(url, COLLECT_ATTEMPTS="2")
        report = collect_cycle(engine, settings, clock)

    assert report.outcomes == Counter(http_error=3)
    assert report.exit_code(settings.collect_failure_threshold) == EXIT_PARTIAL
    assert {p["id"] for p in rows(engine, parks)} == set(FAULT_PARKS)
    failed = rows(engine, polls)
    assert sorted(p["park_id"] for p in failed) == list(FAULT_PARKS)
    assert all(
        (p["outcome"], p["http_status"], p["polled_at"]) == ("http_error", 500, T0) for p in failed
    )
    assert all("HTTP 500" in p["error"] for p in failed)
    assert rows(engine, ride_snapshots) == rows(engine, rides) == []
    asked = seen()
    assert {park_id: asked[(park_path(park_id), "500")] for park_id in FAULT_PARKS} == {
        park_id: 2 for park_id in FAULT_PARKS
    }

    # The next cycle, with the feed healthy again, collects as if nothing had happened.
    clock.advance(minutes=10)
    with running_server(model, clock) as url:
        report = collect_cycle(engine, collector_settings(url), clock)
    assert report.outcomes == Counter(ok=3)
    assert Counter(p["outcome"] for p in rows(engine, polls)) == Counter(http_error=3, ok=3)


def test_rate_limited_requests_are_retried_after_retry_after_then_fail(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seen = watch_server(caplog)
    faults = Faults(rate_limit_rate=1.0, retry_after_seconds=0)
    with running_server(fault_model(), lambda: T0, faults) as url:
        report = collect_cycle(engine, collector_settings(url, RETRY_WAIT_SECONDS="5"), lambda: T0)

    assert report.outcomes == Counter(http_error=3)
    assert {(p["outcome"], p["http_status"]) for p in rows(engine, polls)} == {("http_error", 429)}
    assert all(seen()[(park_path(park_id), "429")] == 3 for park_id in FAULT_PARKS)
    # Retry-After: 0 wins over the 5 s backoff.
    assert report.duration_seconds < 3


def test_with_some_errors_retries_make_most_parks_succeed(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seen = watch_server(caplog)
    park_ids = (5, 6, 7, 8, 16, 17)
    model = FeedModel(catalogue(*park_ids))
    faults = Faults(error_rate=0.3, seed=15)
    with running_server(model, lambda: T0, faults) as url:
        # One fetch at a time: the seeded faults then fall on the same requests every run.
        settings = collector_settings(url, COLLECT_ATTEMPTS="3", COLLECT_CONCURRENCY="1")
        report = collect_cycle(engine, settings, lambda: T0)

    asked = seen()
    errors = {park_id: asked[(park_path(park_id), "500")] for park_id in park_ids}
    assert sum(errors.values()) > 0, "the seed should have produced some 500s"
    assert report.outcomes["ok"] >= len(park_ids) - 1
    for poll in rows(engine, polls):
        park_id = poll["park_id"]
        if poll["outcome"] == "ok":
            assert errors[park_id] < 3 and asked[(park_path(park_id), "200")] == 1
            assert poll["rides_total"] == len(model.readings(park_id, T0))
        else:
            assert (poll["outcome"], errors[park_id]) == ("http_error", 3)
    assert len(rows(engine, polls)) == len(park_ids)


def test_a_broken_json_answer_is_an_invalid_payload_and_is_not_retried(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seen = watch_server(caplog)
    with running_server(fault_model(), lambda: T0, Faults(malformed_rate=1.0)) as url:
        report = collect_cycle(engine, collector_settings(url), lambda: T0)

    assert report.outcomes == Counter(invalid_payload=3)
    assert report.exit_code(0.1) == EXIT_PARTIAL
    for poll in rows(engine, polls):
        assert (poll["outcome"], poll["http_status"]) == ("invalid_payload", 200)
        assert poll["error"].startswith("invalid_payload")
    assert rows(engine, ride_snapshots) == []
    assert all(seen()[(park_path(park_id), "200")] == 1 for park_id in FAULT_PARKS)


def test_a_payload_that_is_json_but_not_queue_times_is_invalid_and_the_others_are_stored(
    engine: Engine,
) -> None:
    good = {"lands": [], "rides": [feed_ride(1, "Big Coaster", T0), feed_ride(2, "Flume", T0)]}
    source = ScriptedSource(catalogue(5, 6), {6: [(T0, {"lands": 5})], 5: [(T0, good)]})
    with running_server(source, lambda: T0) as url:
        report = collect_cycle(engine, collector_settings(url), lambda: T0)

    assert report.outcomes == Counter(ok=1, invalid_payload=1)
    by_park = {p["park_id"]: p for p in rows(engine, polls)}
    assert by_park[6]["outcome"] == "invalid_payload"
    assert (by_park[5]["outcome"], by_park[5]["is_active"]) == ("ok", True)
    issue_types = [
        (i["park_id"], i["ride_id"], i["issue_type"]) for i in rows(engine, data_quality_issues)
    ]
    assert issue_types == [(6, 0, "invalid_payload")]


def test_a_park_that_never_answers_times_out_after_every_attempt(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seen = watch_server(caplog)
    faults = Faults(timeout_rate=1.0, hang_seconds=1)
    with running_server(fault_model(), lambda: T0, faults) as url:
        settings = collector_settings(url, HTTP_TIMEOUT_SECONDS="0.3", COLLECT_ATTEMPTS="2")
        report = collect_cycle(engine, settings, lambda: T0)

    assert report.outcomes == Counter(timeout=3)
    assert {(p["outcome"], p["http_status"]) for p in rows(engine, polls)} == {("timeout", None)}
    assert all(seen()[(park_path(park_id), "hang")] == 2 for park_id in FAULT_PARKS)


def test_a_missing_park_is_a_404_and_the_others_are_collected(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seen = watch_server(caplog)
    faults = Faults(missing_parks=frozenset({6}))
    with running_server(fault_model(), lambda: T0, faults) as url:
        report = collect_cycle(engine, collector_settings(url), lambda: T0)

    assert report.outcomes == Counter(ok=2, http_error=1)
    by_park = {p["park_id"]: p for p in rows(engine, polls)}
    assert (by_park[6]["outcome"], by_park[6]["http_status"]) == ("http_error", 404)
    assert seen()[(park_path(6), "404")] == 1  # a 404 is not worth a retry
    snapshot_polls = {s["poll_id"] for s in rows(engine, ride_snapshots)}
    assert snapshot_polls == {by_park[5]["id"], by_park[7]["id"]}


def test_the_cycle_deadline_ends_a_slow_cycle_with_timeouts_instead_of_hanging(
    engine: Engine,
) -> None:
    faults = Faults(latency_ms=3000)
    with running_server(fault_model(), lambda: T0, faults) as url:
        settings = collector_settings(url, COLLECT_DEADLINE_SECONDS="0.5", COLLECT_CONCURRENCY="2")
        started = time.monotonic()
        report = collect_cycle(engine, settings, lambda: T0)
        elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert report.outcomes == Counter(timeout=3)
    stored = rows(engine, polls)
    assert sorted(p["park_id"] for p in stored) == list(FAULT_PARKS)
    assert all(p["outcome"] == "timeout" and p["polled_at"] == T0 for p in stored)


# --- status changes, renamed and vanished rides -----------------------------------------


def test_status_changes_follow_the_stored_flips_over_an_afternoon(engine: Engine) -> None:
    model = FeedModel(catalogue(6), FeedConfig(quirks=QuirkRates(storm=1.0)))
    day = date(2026, 7, 4)
    clock = SimClock(local(day, 12))
    with running_server(model, clock) as url:
        settings = collector_settings(url)
        while clock.now <= local(day, 18):
            assert collect_cycle(engine, settings, clock).outcomes == Counter(ok=1)
            clock.advance(minutes=10)

    expected = []
    last: dict[int, tuple[str, datetime]] = {}
    for snapshot in rows(engine, ride_snapshots, "polled_at", "ride_id"):
        ride_id, state, at = snapshot["ride_id"], snapshot["state"], snapshot["polled_at"]
        if state == "unknown":
            continue
        if ride_id in last and last[ride_id][0] != state:
            before, since = last[ride_id]
            assert before != state  # the state it went to says the one it came from
            expected.append((ride_id, at, state, int((at - since).total_seconds())))
        if ride_id not in last or last[ride_id][0] != state:
            last[ride_id] = (state, at)
    changes = [
        (
            c["ride_id"],
            c["changed_at"],
            c["to_state"],
            c["previous_duration_seconds"],
        )
        for c in rows(engine, status_changes, "changed_at", "ride_id")
    ]
    assert changes == expected
    assert {c[2] for c in changes} == {"open", "closed"}
    assert {change["park_id"] for change in rows(engine, status_changes)} == {6}
    now_states = {r["id"]: (r["current_state"], r["state_since"]) for r in rows(engine, rides)}
    assert {ride_id: now_states[ride_id] for ride_id in last} == last


def test_a_renamed_ride_keeps_its_history_and_a_vanished_one_becomes_inactive(
    engine: Engine,
) -> None:
    t1, t2 = T0 + timedelta(minutes=10), T0 + timedelta(hours=2)

    def payload(at: datetime, *entries: tuple[int, str]) -> dict[str, Any]:
        return {"lands": [], "rides": [feed_ride(i, name, at) for i, name in entries]}

    source = ScriptedSource(
        catalogue(6),
        {
            6: [
                (T0, payload(T0, (1, "Space Mountain"), (2, "Tron"), (3, "Carousel"))),
                (t1, payload(t1, (1, "Space Mountain: Mission 2"), (2, "Tron"))),
                (t2, payload(t2, (1, "Space Mountain: Mission 2"), (2, "Tron"))),
            ]
        },
    )
    clock = SimClock(T0)
    with running_server(source, clock) as url:
        settings = collector_settings(url, RIDE_ABSENCE_HOURS="1")
        for at in (T0, t1, t2):
            clock.now = at
            collect_cycle(engine, settings, clock)

    stored = {r["id"]: r for r in rows(engine, rides)}
    assert set(stored) == {1, 2, 3}
    assert stored[1]["name"] == "Space Mountain: Mission 2"
    assert (stored[1]["first_seen_at"], stored[1]["is_active"]) == (T0, True)
    assert (stored[3]["is_active"], stored[3]["last_seen_at"]) == (False, T0)
    assert stored[2]["is_active"] is True
    renamed = [i for i in rows(engine, data_quality_issues) if i["issue_type"] == "ride_renamed"]
    assert [(i["ride_id"], i["observed_at"], i["raw_value"]) for i in renamed] == [
        (1, t1, "Space Mountain")
    ]
    assert "Space Mountain: Mission 2" in renamed[0]["detail"]
    assert Counter(s["ride_id"] for s in rows(engine, ride_snapshots)) == Counter(
        {1: 3, 2: 3, 3: 1}
    )


def test_renames_and_disappearances_of_the_simulated_feed_across_a_period(
    engine: Engine,
) -> None:
    """The feed renames rides and drops others from one 14-day period to the next."""
    model = FeedModel(catalogue(6), FeedConfig(quirks=QuirkRates(rename=0.4, disappear=0.2)))
    boundary = epoch(model.config.period_days * 86400 * 1480)  # a period start in 2026
    before, after, later = (
        boundary - timedelta(minutes=10),
        boundary + timedelta(minutes=10),
        boundary + timedelta(hours=2),
    )
    old = {r.ride.id: r.name.strip() for r in model.readings(6, before)}
    new = {r.ride.id: r.name.strip() for r in model.readings(6, after)}
    renamed = {i for i in old.keys() & new.keys() if old[i] != new[i]}
    vanished = old.keys() - new.keys()
    assert renamed and vanished, "the quirk rates should rename and drop some rides"

    clock = SimClock(before)
    with running_server(model, clock) as url:
        settings = collector_settings(url, RIDE_ABSENCE_HOURS="1")
        for at in (before, after, later):
            clock.now = at
            assert collect_cycle(engine, settings, clock).outcomes == Counter(ok=1)

    stored = {r["id"]: r for r in rows(engine, rides)}
    assert set(stored) == old.keys() | new.keys()
    assert {i for i, r in stored.items() if not r["is_active"]} == vanished
    assert all(stored[i]["name"] == new[i] for i in new)
    issues = [i for i in rows(engine, data_quality_issues) if i["issue_type"] == "ride_renamed"]
    assert {i["ride_id"] for i in issues} == renamed
    assert all(i["observed_at"] == after and i["raw_value"] == old[i["ride_id"]] for i in issues)


# --- the lock -----------------------------------------------------------------------------


def test_a_second_lock_is_refused_at_once_while_the_first_is_held(tmp_path: Path) -> None:
    path = tmp_path / "run" / "collect.lock"
    with collect_lock(path):
        started = time.monotonic()
        with pytest.raises(AlreadyRunning, match="another collect is running"):
            with collect_lock(path):
                pass
        assert time.monotonic() - started < 0.5
    with collect_lock(path):
        assert path.read_text().strip().isdigit()


def test_collect_exits_4_at_once_while_another_holds_the_lock(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "collect.lock"
    env = {
        "LOCK_FILE": str(path),
        "DATA_DIR": str(tmp_path),
        "QUEUE_TIMES_BASE_URL": "http://127.0.0.1:9",
    }
    with collect_lock(path):
        result = runner.invoke(cli, ["collect"], env=env)
    assert result.exit_code == EXIT_LOCKED
    assert f"another collect is running (lock {path} is held)" in result.stderr
    assert not (tmp_path / "tracker.db").exists()


# --- the command and the archive ---------------------------------------------------------


def test_collect_command_reports_the_cycle_and_exits_3_when_too_many_parks_fail(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    faults = Faults(missing_parks=frozenset({5, 6}))
    with (
        time_machine.travel(T0, tick=False),
        running_server(fault_model(), lambda: T0, faults) as url,
    ):
        env = {"DATABASE_URL": database_url, "QUEUE_TIMES_BASE_URL": url, "DATA_DIR": str(tmp_path)}
        result = runner.invoke(cli, ["collect"], env=env)
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "3 parks (2 http_error, 1 ok)" in result.stdout
    assert "catalogue refreshed" in result.stdout
    assert len(rows(engine, polls)) == 3


def test_an_archived_cycle_imports_as_duplicates_and_rebuilds_the_same_polls(
    engine: Engine, tmp_path: Path
) -> None:
    archive_path = tmp_path / "cycles.jsonl.gz"
    model, clock = FeedModel(catalogue(*FAULT_PARKS)), SimClock(T0)
    with running_server(model, clock, Faults(missing_parks=frozenset({7}))) as url:
        settings = collector_settings(url)
        with ArchiveWriter(archive_path) as archive:
            for _ in range(3):
                collect_cycle(engine, settings, clock, archive)
                clock.advance(minutes=10)

    kinds = Counter(line.record.kind for line in read_archive(archive_path) if line.record)
    assert kinds == Counter(parks=1, queue_times=6, error=3)
    collected = contents(engine)

    report = import_archives(engine, [archive_path], settings)
    assert (report.stored, report.duplicates, report.bad_lines) == (0, 9, [])
    assert contents(engine) == collected

    def essentials(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        keys = {p["id"]: (p["park_id"], p["polled_at"]) for p in rows(engine, polls)}
        return (
            sorted(
                (p["park_id"], p["polled_at"], p["outcome"], p["is_active"], p["rides_total"])
                for p in rows(engine, polls)
            ),
            sorted(
                (*keys[s["poll_id"]], s["ride_id"], s["state"], s["wait_time"], s["last_updated"])
                for s in rows(engine, ride_snapshots)
            ),
        )

    before = essentials(engine)
    changes = sorted(tuple(c.values())[1:] for c in rows(engine, status_changes))
    clear(engine)
    report = import_archives(engine, [archive_path], settings)
    assert (report.stored, report.duplicates, report.catalogues) == (9, 0, 1)
    assert essentials(engine) == before
    assert sorted(tuple(c.values())[1:] for c in rows(engine, status_changes)) == changes


def test_collect_with_archive_then_import_of_that_archive_stores_nothing_twice(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """README: importing what was also collected stores nothing twice. The command polls at
    the real clock's time, which has microseconds; the archive keeps whole seconds."""
    archive_path = tmp_path / "today.jsonl.gz"
    at = T0 + timedelta(microseconds=250_000)
    with (
        time_machine.travel(at, tick=False),
        running_server(fault_model(), lambda: at) as url,
    ):
        env = {"DATABASE_URL": database_url, "QUEUE_TIMES_BASE_URL": url, "DATA_DIR": str(tmp_path)}
        collected = runner.invoke(cli, ["collect", "--archive", str(archive_path)], env=env)
        assert collected.exit_code == 0, collected.output
        imported = runner.invoke(cli, ["import", str(archive_path)], env=env)
    assert imported.exit_code == 0, imported.output
    assert "0 polls stored, 3 already stored" in imported.stdout
    assert len(rows(engine, polls)) == 3


def test_a_payload_with_line_breaks_is_archived_and_stored_like_any_other(
    engine: Engine, tmp_path: Path
) -> None:
    """Valid JSON may be pretty-printed or end with a newline; the archive is one line each."""
    rides_now = {"lands": [], "rides": [feed_ride(1, "Big Coaster", T0), feed_ride(2, "Flume", T0)]}
    source = ScriptedSource(
        catalogue(5, 6),
        {
            6: [(T0, json.dumps(rides_now, indent=2).encode() + b"\n")],
            5: [(T0, {"lands": [], "rides": [feed_ride(11, "Carousel", T0)]})],
        },
    )
    archive_path = tmp_path / "cycle.jsonl"
    with running_server(source, lambda: T0) as url, ArchiveWriter(archive_path) as archive:
        report = collect_cycle(engine, collector_settings(url), lambda: T0, archive)

    assert report.outcomes == Counter(ok=2)
    assert len(rows(engine, ride_snapshots)) == 3
    records = [line.record for line in read_archive(archive_path)]
    archived = {r.park_id: r.payload for r in records if isinstance(r, QueueTimesRecord)}
    assert archived[6] == rides_now


# --- a whole day ---------------------------------------------------------------------------


@pytest.mark.heavy
def test_a_simulated_day_of_collection_agrees_with_the_truth(engine: Engine) -> None:
    """06:00 to midnight in New York every 10 minutes: 108 cycles of one park."""
    park_ids = (6,)
    quirks = QuirkRates(storm=1.0, frozen_after_close=1.0, overnight_open_parks=1.0)
    model = FeedModel(catalogue(*park_ids), FeedConfig(quirks=quirks, rides_per_park=(20, 25)))
    day = date(2026, 7, 4)
    start, end = local(day, 6), local(day, 24)
    clock = SimClock(start)
    cycles = 0
    with running_server(model, clock) as url:
        settings = collector_settings(url)
        while clock.now < end:
            report = collect_cycle(engine, settings, clock)
            assert report.outcomes == Counter(ok=1)
            cycles += 1
            clock.advance(minutes=10)
    assert cycles == 108

    truth = {
        park_id: {
            ride["id"]: ride["open_intervals"]
            for ride in model.truth(
                park_id, start - timedelta(hours=12), end + timedelta(hours=12)
            )["rides"]
        }
        for park_id in park_ids
    }
    stored = snapshots_by_poll(engine)
    assert len(stored) == cycles
    lies: Counter[str] = Counter()
    checked: Counter[str] = Counter()
    for (park_id, at), snapshots in stored.items():
        readings = {r.ride.id: r for r in model.readings(park_id, at)}
        assert set(snapshots) == set(readings)
        for ride_id, snapshot in snapshots.items():
            reading, state = readings[ride_id], snapshot["state"]
            if is_single_rider(reading.name) or state == "unknown":
                continue
            truly_open = covered(truth[park_id][ride_id], snapshot["last_updated"])
            if state == "open" and reading.lie:
                lies[reading.lie] += 1
                continue
            assert truly_open is (state == "open"), (park_id, at, reading)
            checked[state] += 1
    assert checked["open"] > 800 and checked["closed"] > 400, checked
    assert {"overnight_open", "frozen"} <= set(lies), lies
    active = [p for p in rows(engine, polls) if p["is_active"]]
    for park_id in park_ids:
        hours = model.truth(park_id, start, end)["days"][0]
        opens, closes = (datetime.fromisoformat(hours[k]) for k in ("opens", "closes"))
        first = min(p["polled_at"] for p in active if p["park_id"] == park_id)
        assert opens <= first < opens + timedelta(minutes=20)
        # After closing only lies keep a park "active": rides frozen open with their waits.
        late = [p for p in active if p["park_id"] == park_id and p["polled_at"] >= closes]
        assert all(p["polled_at"] < closes + timedelta(minutes=70) for p in late)
