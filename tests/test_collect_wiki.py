"""The second source collected: each cycle fetches the paired parks' ThemeParks.wiki live
answers beside their Queue-Times polls (schedules once a day), archives them, stores the
paired rides' statuses, never lets one source's failure stop the other, and an import of
the archive stores the same, idempotently, pairing rides from the answers themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from feed_fixtures import SimClock, catalogue, collector_settings
from sqlalchemy import Connection, Engine, delete, func, select

from themepark_tracker import checks
from themepark_tracker.api import create_app
from themepark_tracker.archive import ArchiveWriter, read_archive
from themepark_tracker.config import Settings
from themepark_tracker.engine.sessions import DayRules, park_day_of
from themepark_tracker.feed.model import FeedConfig, FeedModel
from themepark_tracker.feed.server import running_server
from themepark_tracker.feed.wiki import WikiFeed
from themepark_tracker.jobs.aggregate import aggregate, cleanup
from themepark_tracker.jobs.collect import collect_cycle
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.jobs.second_source import store_schedule
from themepark_tracker.jobs.wiki_map import map_sources
from themepark_tracker.sources.themeparks_wiki import parse_live
from themepark_tracker.storage import queries, wiki
from themepark_tracker.storage.health import facts
from themepark_tracker.storage.tables import (
    polls,
    rides,
    stale_park_days,
    wiki_live,
    wiki_rides,
    wiki_schedules,
)

MAGIC_KINGDOM, CEDAR_POINT = 6, 50
T0 = datetime(2026, 7, 3, 16, tzinfo=UTC)


@pytest.fixture
def model() -> FeedModel:
    return FeedModel(catalogue(MAGIC_KINGDOM, CEDAR_POINT))


def paired(engine: Engine, url: str, clock: SimClock) -> Settings:
    """The settings of a collector of both sources, after a first cycle stored the rides
    and `sources map` paired them."""
    settings = collector_settings(url, THEMEPARKS_WIKI_BASE_URL=url + "/v1")
    collect_cycle(engine, settings, clock)
    map_sources(engine, settings, clock.now)
    return settings


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_each_cycle_stores_the_paired_rides_statuses_and_a_schedule_each_park_day(
    engine: Engine, model: FeedModel, tmp_path: Path
) -> None:
    clock = SimClock(T0)
    feed = WikiFeed(model)
    archive = tmp_path / "cycles.jsonl"
    with running_server(model, clock, wiki=feed) as url:
        settings = collector_settings(url, THEMEPARKS_WIKI_BASE_URL=url + "/v1")
        collect_cycle(engine, settings, clock)  # the rides, then their pairs
        map_sources(engine, settings, clock.now)
        with ArchiveWriter(archive) as writer:
            for _ in range(3):
                clock.advance(minutes=10)
                report = collect_cycle(engine, settings, clock, writer)
                assert report.wiki_answers["live"] == 2
    assert report.exit_code(0.1) == 0
    with engine.connect() as conn:
        for park_id in (MAGIC_KINGDOM, CEDAR_POINT):
            answers = wiki.live_between(conn, park_id, T0, T0 + timedelta(hours=1))
            assert len(answers) == 3
            pairs = wiki.rides_by_entity(conn, park_id)
            at, statuses = answers[-1]
            live, _ = parse_live(feed.live(park_id, at))
            expected = {
                ride: entry.status
                for entry in live
                for ride in pairs.get(entry.id, [])
                if entry.status is not None
            }
            assert statuses == expected and len(statuses) > 20
            schedule = wiki.schedule_of(conn, park_id, at.date(), at.date() + timedelta(days=30))
            assert schedule and {entry.kind for entry in schedule} >= {"OPERATING"}
        s = wiki_schedules.c
        fetches = conn.execute(select(s.park_id, s.fetched_at).distinct()).all()
        assert len(fetches) == 2  # one per park: once a day
    kinds = [line.record.kind for line in read_archive(archive) if line.record]
    # A park's first schedules: the next 30 days, and this month's days before today.
    assert kinds.count("tpw_live") == 6 and kinds.count("tpw_schedule") == 2 + 2
    with engine.connect() as conn:
        found = facts(conn, timedelta(minutes=10), clock.now)
    limits = checks.Limits(timedelta(minutes=25), timedelta(hours=27))
    second = checks.judge(found, clock.now, limits)[2]
    assert (second.status, second.detail) == ("ok", "2 of 2 paired parks answered")
    later = checks.judge(found, clock.now + timedelta(hours=1), limits)[2]
    assert later.status == "warning" and "last ThemeParks.wiki answer 60 min ago" in later.detail
    with running_server(model, clock, wiki=feed) as url:
        settings = collector_settings(url, THEMEPARKS_WIKI_BASE_URL=url + "/v1")
        clock.advance(hours=15, minutes=20)  # 03:50 in Orlando and Sandusky: the same day
        assert collect_cycle(engine, settings, clock).wiki_answers["schedule"] == 0
        clock.advance(minutes=20)  # 04:10: the first cycle of the next park day
        assert collect_cycle(engine, settings, clock).wiki_answers["schedule"] == 2


def test_a_second_source_that_fails_costs_the_polls_nothing(
    engine: Engine, model: FeedModel
) -> None:
    clock = SimClock(T0)
    with running_server(model, clock, wiki=WikiFeed(model)) as url:
        paired(engine, url, clock)
        clock.advance(minutes=10)
        gone = collector_settings(url, THEMEPARKS_WIKI_BASE_URL="http://127.0.0.1:9/v1")
        report = collect_cycle(engine, gone, clock)
        off = collector_settings(url, THEMEPARKS_WIKI_ENABLED="false")
        clock.advance(minutes=10)
        quiet = collect_cycle(engine, off, clock)
    assert report.exit_code(0.1) == 0 and report.outcomes["ok"] == 2
    assert report.wiki_answers["live failed"] == 2
    assert not quiet.wiki_answers and quiet.outcomes["ok"] == 2
    assert _count(engine, polls) == 6 and _count(engine, wiki_live) == 0


def test_an_archive_replays_the_second_source_idempotently(
    engine: Engine, model: FeedModel, tmp_path: Path
) -> None:
    """Into a database that never paired the rides: they are paired from the live answers."""
    clock = SimClock(T0)
    archive = tmp_path / "cycles.jsonl"
    with running_server(model, clock, wiki=WikiFeed(model)) as url:
        settings = paired(engine, url, clock)
        with ArchiveWriter(archive) as writer:
            for _ in range(2):
                clock.advance(minutes=10)
                collect_cycle(engine, settings, clock, writer)

    def second_source() -> tuple[object, ...]:
        with engine.connect() as conn:
            return tuple(
                sorted(map(tuple, conn.execute(select(table)).all()))
                for table in (wiki_live, wiki_schedules)
            )

    collected = second_source()
    with engine.begin() as conn:
        for table in (wiki_live, wiki_schedules, wiki_rides):
            conn.execute(delete(table))
    first = import_archives(engine, [archive], settings)
    again = import_archives(engine, [archive], settings)
    # 4 live answers, and 2 schedules and 2 months; schedules are rewritten.
    assert first.wiki_answers == 4 + 4 and again.wiki_answers == 4
    replayed = second_source()
    assert replayed[0] == collected[0]
    assert [row[:6] for row in replayed[1]] == [row[:6] for row in collected[1]]  # type: ignore[union-attr]


def test_cleanup_deletes_a_day_s_live_answers_with_its_polls(
    engine: Engine, model: FeedModel
) -> None:
    clock = SimClock(T0)
    with running_server(model, clock, wiki=WikiFeed(model)) as url:
        settings = paired(engine, url, clock)
        clock.advance(minutes=10)
        collect_cycle(engine, settings, clock)
    assert _count(engine, wiki_live) == 2
    aggregate(engine, settings, T0 + timedelta(days=2))
    cleanup(engine, settings, T0 + timedelta(days=4))
    assert _count(engine, polls) == 0 and _count(engine, wiki_live) == 0
    assert _count(engine, wiki_schedules) > 0  # published hours are kept


def test_live_status_takes_the_statuses_of_the_cycle(engine: Engine) -> None:
    """A ride on a refurbishment day is `refurbishment` live, in storage and on its page;
    each ride down in the feed's answer and closed in the poll is down."""
    model = FeedModel(catalogue(MAGIC_KINGDOM, CEDAR_POINT), FeedConfig(refurbishment=0.3))
    feed = WikiFeed(model)
    clock = SimClock(T0)
    with running_server(model, clock, wiki=feed) as url:
        settings = paired(engine, url, clock)
        clock.advance(minutes=10)
        collect_cycle(engine, settings, clock)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(rides.c.id, rides.c.live_status)).all())
        ride_pairs = wiki.stored_rides(conn)
    refurbished = [
        ride.id
        for park_id in (MAGIC_KINGDOM, CEDAR_POINT)
        for ride in model.parks[park_id].rides
        if ride.id in ride_pairs
        and ride.parent_id is None
        and model.refurbishing(ride, model.schedule_day(park_id, clock.now))
    ]
    assert refurbished and all(stored[ride] == "refurbishment" for ride in refurbished)
    client = create_app(settings, engine, clock=lambda: clock.now).test_client()
    page = client.get(f"/api/rides/{refurbished[0]}").get_json()
    assert page["data"]["ride"]["live_status"] == "refurbishment"


def test_a_schedule_keeps_the_newest_fetch_of_each_day_not_over(
    engine: Engine, model: FeedModel
) -> None:
    """Re-importing an older fetch changes nothing; an answer nothing can be read from
    erases nothing; at 02:00 local the date before (its park day still running, no longer
    in the answer) keeps its hours."""
    clock = SimClock(T0)
    with running_server(model, clock) as url:
        collect_cycle(engine, collector_settings(url), clock)
    zone = ZoneInfo("America/New_York")

    def answer(day: date, opens: int) -> dict[str, object]:
        start = datetime(day.year, day.month, day.day, opens, tzinfo=zone)
        entry = {"date": day.isoformat(), "type": "OPERATING",
                 "openingTime": start.isoformat(),
                 "closingTime": (start + timedelta(hours=12)).isoformat()}  # fmt: skip
        return {"schedule": [entry]}

    def opening(day: date) -> list[int]:
        with engine.connect() as conn:
            found = wiki.schedule_of(conn, MAGIC_KINGDOM, day, day)
        return [entry.opens.astimezone(zone).hour for entry in found]

    def stored(conn: Connection, at: datetime, document: object) -> int:
        today = park_day_of(at, zone, DayRules())
        return store_schedule(conn, MAGIC_KINGDOM, at, document, zone, today, at)

    day = date(2026, 7, 4)
    older, newer = T0, T0 + timedelta(hours=1)
    with engine.begin() as conn:
        conn.execute(delete(stale_park_days))
        stored(conn, older, answer(day, 9))
        stored(conn, newer, answer(day, 8))
        assert queries.stale_days_of(conn, MAGIC_KINGDOM) == []  # not begun
        assert stored(conn, older, answer(day, 9)) == 0  # a re-import
        assert stored(conn, newer, {"schedule": "?"}) == 0
    assert opening(day) == [8]
    after_midnight = datetime(2026, 7, 5, 2, tzinfo=zone).astimezone(UTC)
    with engine.begin() as conn:
        stored(conn, after_midnight, answer(date(2026, 7, 5), 9))
    assert opening(day) == [8] and opening(date(2026, 7, 5)) == [9]
    begun = datetime(2026, 7, 5, 5, tzinfo=zone).astimezone(UTC)
    with engine.begin() as conn:
        conn.execute(delete(stale_park_days))
        stored(conn, begun, answer(date(2026, 7, 5), 10))
        # Its session changed: the day is counted again.
        assert queries.stale_days_of(conn, MAGIC_KINGDOM) == [date(2026, 7, 5)]


class NothingPublished(WikiFeed):
    """A ThemeParks.wiki feed whose parks publish no day (a season not yet announced)."""

    def published(self, park_id: int, day: date) -> list[Any]:
        return []


def test_a_schedule_that_publishes_nothing_is_asked_once_a_park_day(
    engine: Engine, model: FeedModel
) -> None:
    clock = SimClock(T0)
    with running_server(model, clock, wiki=NothingPublished(model)) as url:
        settings = paired(engine, url, clock)
        asked = []
        for _ in range(3):
            clock.advance(minutes=10)
            asked.append(collect_cycle(engine, settings, clock).wiki_answers["schedule"])
    assert asked == [2, 0, 0]
    with engine.connect() as conn:
        assert set(wiki.schedules_fetched(conn)) == {MAGIC_KINGDOM, CEDAR_POINT}
        assert _count(engine, wiki_schedules) == 0


def test_a_newly_paired_park_fills_this_month_s_earlier_days_once(
    engine: Engine, model: FeedModel
) -> None:
    """Days before the first fetch have no version fetched before they ended: the
    month's published hours fill them, and nothing the 30-day answer holds is lost."""
    feed = WikiFeed(model)
    clock = SimClock(T0)  # 2026-07-03
    with running_server(model, clock, wiki=feed) as url:
        settings = paired(engine, url, clock)
        asked = []
        for _ in range(2):
            clock.advance(minutes=10)
            asked.append(collect_cycle(engine, settings, clock).wiki_answers["month"])
    assert asked == [2, 0]
    earlier = (date(2026, 7, 1), date(2026, 7, 2))
    later = (date(2026, 8, 1), date(2026, 8, 2))
    for park_id in (MAGIC_KINGDOM, CEDAR_POINT):
        with engine.connect() as conn:
            filled = {e.day for e in wiki.schedule_of(conn, park_id, *earlier)}
            kept = {e.day for e in wiki.schedule_of(conn, park_id, *later)}
        assert filled == {day for day in earlier if feed.published(park_id, day)}
        assert kept == {day for day in later if feed.published(park_id, day)}
    assert filled and kept
