"""Live status: running, down, closed, unknown, and the open park (docs/methodology.md)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from feed_fixtures import SimClock, collect_every_ten_minutes, collector_settings
from sqlalchemy import Connection, Engine, event, select, update

from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.engine.days import compute_park_day
from themepark_tracker.engine.live import Live, LiveState, live_status
from themepark_tracker.engine.sessions import DayRules, Poll, day_bounds, park_day_of
from themepark_tracker.engine.states import State, StateRules
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.feed.server import running_server
from themepark_tracker.jobs.collect import collect_cycle
from themepark_tracker.storage import queries, writes
from themepark_tracker.storage.queries import live_summary
from themepark_tracker.storage.tables import park_daily_stats, parks, rides

RULES = DayRules()
T = datetime(2026, 7, 4, 16, tzinfo=UTC)


def polls(states: list[dict[int, State]], active: list[bool]) -> list[Poll]:
    return [
        Poll(T + timedelta(minutes=10 * i), a, s, {k: 10 for k in s})
        for i, (s, a) in enumerate(zip(states, active, strict=True))
    ]


def test_a_ride_closed_after_running_today_is_down_and_one_never_opened_is_closed() -> None:
    history = polls(
        [{1: "open", 2: "closed", 3: "open"}, {1: "closed", 2: "closed", 3: "unknown"}],
        [True, True],
    )
    now = history[-1].at + timedelta(minutes=2)
    today = compute_park_day(date(2026, 7, 4), history, now=now, rules=RULES)
    live = live_status(today, history[-1], [1, 2, 3, 4], now, RULES)
    assert live.park_open
    assert live.rides == {1: "down", 2: "closed", 3: "unknown", 4: "unknown"}


def test_without_a_fresh_poll_everything_is_unknown() -> None:
    history = polls([{1: "open"}], [True])
    now = history[-1].at + timedelta(minutes=21)
    today = compute_park_day(date(2026, 7, 4), history, now=now, rules=RULES)
    live = live_status(today, history[-1], [1], now, RULES)
    assert not live.park_open and live.rides == {1: "unknown"}


def test_after_the_session_a_closed_ride_is_closed_not_down() -> None:
    history = polls(
        [{1: "open", 2: "open"}, {1: "open", 2: "open"}, {1: "closed", 2: "closed"}],
        [True, True, False],
    )
    now = history[-1].at + timedelta(minutes=1)
    today = compute_park_day(date(2026, 7, 4), history, now=now, rules=RULES)
    assert not today.running
    assert set(live_status(today, history[-1], [1, 2], now, RULES).rides.values()) == {"closed"}


def test_collecting_keeps_daily_statistics_and_the_live_summary_current(engine: Engine) -> None:
    model = FeedModel(json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8")))
    clock = SimClock(datetime(2026, 7, 4, 18, tzinfo=UTC))
    collect_every_ten_minutes(engine, model, clock, 3, PARK_COUNTRIES="Canada,Mexico")
    with engine.connect() as conn:
        live = live_summary(conn, clock.now, RULES.max_gap)
        statuses = set(conn.execute(select(rides.c.live_status)).scalars())
        stale = live_summary(conn, clock.now + timedelta(hours=1), RULES.max_gap)
        days = conn.execute(select(park_daily_stats.c.park_id, park_daily_stats.c.is_final)).all()
    assert sorted(days) == [(47, False), (57, False)]
    assert live.parks == 2 and live.parks_open >= 1
    assert live.running > 0
    assert live.running + live.down + live.closed + live.unknown == stale.unknown > 0
    assert stale.parks_open == 0
    assert statuses <= {"running", "down", "closed", "unknown"}


def test_stored_live_statuses_follow_every_poll_as_computed_afresh(engine: Engine) -> None:
    """A poll writes only the statuses it changes; what is stored must still be, after
    every poll, what the park's polls say now: both parks open, and rides go down."""
    model = FeedModel(json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8")))
    clock = SimClock(datetime(2026, 7, 4, 15, 20, tzinfo=UTC))
    seen: list[dict[int, str | None]] = []
    with running_server(model, clock) as url:
        settings = collector_settings(url, PARK_COUNTRIES="Canada,Mexico")
        days = settings.day_rules()
        for _ in range(14):
            collect_cycle(engine, settings, clock)
            with engine.connect() as conn:
                stored = dict(conn.execute(select(rides.c.id, rides.c.live_status)).all())
                assert stored == _live_afresh(conn, clock.now, settings.state_rules(), days)
            seen.append(stored)
            clock.advance(minutes=10)
    changed = {
        ride
        for before, after in zip(seen, seen[1:], strict=False)
        for ride in after
        if after[ride] != before.get(ride)
    }
    assert len(changed) >= 20
    assert {status for poll in seen for status in poll.values()} == {"running", "down", "closed"}


def _live_afresh(
    conn: Connection, now: datetime, states: StateRules, rules: DayRules
) -> dict[int, str | None]:
    expected: dict[int, str | None] = {}
    for park_id, timezone in conn.execute(select(parks.c.id, parks.c.timezone)).all():
        zone = ZoneInfo(timezone)
        day = park_day_of(now, zone, rules)
        history = queries.polls_between(conn, park_id, *day_bounds(day, zone, rules))
        tiers = queries.tiers_and_live(conn, park_id, states).tiers
        today = compute_park_day(day, history, now=now, rules=rules, counted=tiers)
        park_rides = conn.execute(select(rides.c.id).where(rides.c.park_id == park_id)).scalars()
        latest = history[-1] if history else None
        listed = set(tiers) | (set(latest.states) if latest else set())
        live = live_status(today, latest, listed, now, rules)
        expected.update({ride: live.rides.get(ride, "unknown") for ride in park_rides})
    return expected


def test_saving_live_status_writes_the_changes_only_and_unknown_for_rides_left_out(
    engine: Engine,
) -> None:
    model = FeedModel(json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8")))
    clock = SimClock(datetime(2026, 7, 4, 18, tzinfo=UTC))
    collect_every_ten_minutes(engine, model, clock, 1, PARK_COUNTRIES="Canada,Mexico")
    with engine.begin() as conn:
        park_id = min(conn.execute(select(rides.c.park_id)).scalars())
        conn.execute(update(rides).values(live_status="running"))
        ride_ids = sorted(conn.execute(select(rides.c.id).where(rides.c.park_id == park_id)))
        left_out, broken, never_written = (row[0] for row in ride_ids[:3])
        conn.execute(update(rides).where(rides.c.id == never_written).values(live_status=None))
    statuses: dict[int, LiveState] = {row[0]: "running" for row in ride_ids[3:]}
    live = Live(clock.now, True, statuses | {broken: "down", never_written: "closed"})
    updates: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        updates.extend([statement] if statement.startswith("UPDATE rides") else [])

    try:
        for expected_updates in (3, 0):
            updates.clear()
            with engine.begin() as conn:
                writes.lock_parks(conn, [park_id], changing=True)
                stored = queries.tiers_and_live(conn, park_id, StateRules()).live
                writes.save_live(conn, park_id, live, stored)
            assert len(updates) == expected_updates
    finally:
        event.remove(engine, "before_cursor_execute", count)
    with engine.connect() as conn:
        after = dict(conn.execute(select(rides.c.id, rides.c.live_status)).all())
    assert after[left_out] == "unknown"
    assert after[broken] == "down" and after[never_written] == "closed"
    assert {after[ride] for ride in statuses} == {"running"}
    assert {status for ride, status in after.items() if ride not in stored} == {"running"}


def test_statuses_tell_a_refurbishment_and_a_ride_down_since_the_morning() -> None:
    """With ThemeParks.wiki's statuses: a ride not open under REFURBISHMENT is under
    refurbishment, and one closed with a DOWN status while the session runs is down,
    though it never opened today; an open reading stays running whatever the status."""
    closed_all_day: dict[int, State] = {1: "closed", 2: "closed", 3: "open", 4: "closed"}
    history = polls([closed_all_day, closed_all_day], [True, True])
    now = history[-1].at + timedelta(minutes=2)
    today = compute_park_day(date(2026, 7, 4), history, now=now, rules=RULES)
    statuses = {1: "REFURBISHMENT", 2: "DOWN", 3: "DOWN", 4: "CLOSED"}
    live = live_status(today, history[-1], [1, 2, 3, 4], now, RULES, statuses)
    assert live.rides == {1: "refurbishment", 2: "down", 3: "running", 4: "closed"}
    without = live_status(today, history[-1], [1, 2, 3, 4], now, RULES)
    assert without.rides == {1: "closed", 2: "closed", 3: "running", 4: "closed"}
