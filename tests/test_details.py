"""Detail queries after a simulated afternoon of collection: waits, sessions, timelines."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from feed_fixtures import SimClock, collect_every_ten_minutes
from sqlalchemy import Engine, func, select

from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.engine.rankings import trend_lists
from themepark_tracker.engine.scores import Totals
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.storage.details import (
    ride_history,
    sessions,
    status_timeline,
    tier_distribution,
)
from themepark_tracker.storage.queries import live_waits
from themepark_tracker.storage.statistics import ParkSums, ScopedPark
from themepark_tracker.storage.tables import rides, status_changes

START = datetime(2026, 7, 4, 14, tzinfo=UTC)  # 10:00 in Toronto
TORONTO_DAY = date(2026, 7, 4)


@pytest.fixture
def afternoon(engine: Engine) -> tuple[Engine, FeedModel, datetime]:
    model = FeedModel(json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8")))
    last = collect_every_ten_minutes(engine, model, SimClock(START), 24, PARK_COUNTRIES="Canada")
    return engine, model, last


def test_live_waits_are_the_latest_polls_running_rides_longest_first(
    afternoon: tuple[Engine, FeedModel, datetime],
) -> None:
    engine, model, last = afternoon
    with engine.connect() as conn:
        waits = live_waits(conn, last + timedelta(minutes=5), timedelta(minutes=20))
        stale = live_waits(conn, last + timedelta(hours=2), timedelta(minutes=20))
    assert waits and stale == []
    assert [w.wait for w in waits] == sorted((w.wait for w in waits), reverse=True)
    assert {w.at for w in waits} == {last}
    served = {
        r.ride.id: r.wait_time
        for r in model.readings(57, waits[0].at)
        if isinstance(r.wait_time, int) and 0 < r.wait_time <= 360
    }
    assert {w.ride_id: w.wait for w in waits}.items() <= served.items()


def test_sessions_history_and_tiers_of_the_day(
    afternoon: tuple[Engine, FeedModel, datetime],
) -> None:
    engine, _, _ = afternoon
    with engine.connect() as conn:
        rows = sessions(conn, 57, TORONTO_DAY, TORONTO_DAY)
        ride_id = conn.execute(select(func.min(rides.c.id)).where(rides.c.park_id == 57)).scalar()
        history = ride_history(conn, ride_id, TORONTO_DAY, TORONTO_DAY)
        tiers = tier_distribution(conn, 57)
        counted = conn.execute(
            select(func.count()).where(
                rides.c.park_id == 57,
                rides.c.is_active,
                (rides.c.category.is_(None)) | (rides.c.category == "ride"),
            )
        ).scalar()
    assert len(rows) == 1 and rows[0].started_at >= START and not rows[0].is_final
    assert rows[0].operating_minutes > 0
    assert len(history) == 1 and history[0].stat_date == TORONTO_DAY
    assert sum(tiers.values()) == counted and set(tiers) <= {1, 2, 3, None}


def test_the_status_timeline_lists_each_flip_with_the_previous_states_length(
    afternoon: tuple[Engine, FeedModel, datetime],
) -> None:
    engine, _, last = afternoon
    with engine.connect() as conn:
        ride_id = conn.execute(
            select(status_changes.c.ride_id)
            .group_by(status_changes.c.ride_id)
            .order_by(func.count().desc(), status_changes.c.ride_id)
            .limit(1)
        ).scalar()
        assert ride_id is not None
        timeline = status_timeline(conn, ride_id, START, last + timedelta(minutes=1))
    assert timeline
    for before, after in zip(timeline, timeline[1:], strict=False):
        assert after.from_state == before.to_state
        assert after.previous_duration_minutes == pytest.approx(
            (after.changed_at - before.changed_at).total_seconds() / 60
        )


def _ranked(pid: int, now: float, before: float) -> ParkSums:
    def totals(pct: float) -> Totals:
        return Totals(uptime_minutes=pct, downtime_minutes=100 - pct)

    park = ScopedPark(pid, f"P{pid}", "Op", "US", "UTC", TORONTO_DAY, TORONTO_DAY, None, None)
    return ParkSums(park, totals(now), totals(before), 1, 1, 0)


def test_trend_lists_keep_changes_of_five_points_or_more() -> None:
    ranked = [
        _ranked(1, 96, 90),
        _ranked(2, 90, 96),
        _ranked(3, 95, 91),
        _ranked(4, 80, 99),
        _ranked(5, 95, 90),
    ]
    improving, declining = trend_lists(ranked)
    assert [r.park_id for r in improving] == [1, 5]
    assert [r.park_id for r in declining] == [4, 2]
