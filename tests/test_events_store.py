"""Events as recorded: a day computed again adds nothing, a late poll adds a correction
naming the event it changes, an announced outage that dropped out is retracted; an
imported archive records each event once however often it is replayed."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from feed_fixtures import catalogue
from sqlalchemy import Engine, func, insert, select

from themepark_tracker.config import load_settings
from themepark_tracker.engine.events import Event, event_id
from themepark_tracker.feed.model import FeedConfig, FeedModel
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.storage import events
from themepark_tracker.storage.tables import events as events_table
from themepark_tracker.storage.tables import parks

T = datetime(2026, 7, 4, 14, tzinfo=UTC)
DAY = date(2026, 7, 4)


def started(ride: int, at: datetime) -> Event:
    return Event(event_id("outage.started", 6, ride, at), "outage.started", 6, ride, at, at)


def ended(ride: int, start: datetime, end: datetime, minutes: float) -> Event:
    found = event_id("outage.ended", 6, ride, start)
    return Event(found, "outage.ended", 6, ride, end, end, {"duration_minutes": minutes})


def test_a_day_recorded_again_adds_only_corrections_and_retractions(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(parks),
            [{"id": 6, "name": "Magic Kingdom", "operator": "Walt Disney Attractions",
              "operator_id": 2, "country": "United States", "continent": "North America",
              "latitude": 28.4, "longitude": -81.6, "timezone": "America/New_York",
              "first_seen_at": T, "last_seen_at": T, "updated_at": T}],
        )  # fmt: skip
    a, b = T, T + timedelta(hours=1)
    first = [started(7, a), ended(7, a, a + timedelta(minutes=20), 20), started(8, b)]
    with engine.begin() as conn:
        assert events.save_day(conn, 6, DAY, first, T) == 3
        assert events.save_day(conn, 6, DAY, first, T) == 0  # nothing told twice
    # A late poll: ride 7 reopened 10 minutes later; ride 8 never reopened.
    later = [first[0], ended(7, a, a + timedelta(minutes=30), 30)]
    with engine.begin() as conn:
        assert events.save_day(conn, 6, DAY, later, T + timedelta(hours=9)) == 2
        assert events.save_day(conn, 6, DAY, later, T + timedelta(hours=9)) == 0
        found = events.recent(conn, park_id=6)
    newest = {(e.kind, e.corrects): e for e in found[:2]}
    correction = newest[("outage.ended", first[1].id)]
    assert correction.data == {"duration_minutes": 30}
    retraction = newest[("outage.retracted", first[2].id)]
    assert retraction.ride_id == 8 and retraction.occurred_at == b
    assert [e.seq for e in found] == sorted((e.seq for e in found), reverse=True)
    with engine.begin() as conn:
        back = [first[0], replace(later[1], data={"duration_minutes": 20})]
        assert events.save_day(conn, 6, DAY, back, T + timedelta(hours=10)) == 1  # corrected again


def test_a_replayed_archive_records_each_event_once(engine: Engine, tmp_path: Path) -> None:
    model = FeedModel(catalogue(6), FeedConfig(seed=4))
    archive = tmp_path / "day.jsonl"
    start = datetime(2026, 7, 6, 8, tzinfo=UTC)
    record_archive(model, archive, start, start + timedelta(days=1), timedelta(minutes=10))
    settings = load_settings(environ={}, ssm_reader=lambda prefix, region: {})
    import_archives(engine, [archive], settings)

    def recorded() -> Counter[str]:
        with engine.connect() as conn:
            e = events_table.c
            return Counter(dict(conn.execute(select(e.kind, func.count()).group_by(e.kind)).all()))

    once = recorded()
    assert once["park.opened"] == 1 and once["outage.started"] > 0
    assert once["outage.ended"] <= once["outage.started"]
    import_archives(engine, [archive], settings)
    assert recorded() == once
