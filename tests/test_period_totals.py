"""Period sums kept ready: the job that writes a park's days holds the named periods of
its current day; rankings read them, and read exactly what computing them would give."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import api_fixtures
import pytest
from conftest import copy_rows, shared_database
from sqlalchemy import Connection, Engine, delete, func, select, update

from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.config import Settings
from themepark_tracker.engine.days import ParkDay
from themepark_tracker.engine.periods import PERIODS, held_ranges, period_dates
from themepark_tracker.engine.sessions import park_day_of
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.jobs.aggregate import aggregate
from themepark_tracker.jobs.daily_stats import StatsRules, refresh_park_day
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.storage import period_totals
from themepark_tracker.storage.park_days import own_sums, save_park_day
from themepark_tracker.storage.rankings import (
    PARK_SORTS,
    RIDE_SORTS,
    park_rankings,
    ride_rankings,
)
from themepark_tracker.storage.tables import (
    SUMS,
    park_period_totals,
    ride_daily_stats,
    ride_period_totals,
)

#: One worker per backend runs them: it builds the week once while the others get on
#: with other tests, instead of several of them waiting for the same build.
pytestmark = [pytest.mark.backend_group("period_totals"), pytest.mark.heavy]

START = datetime(2026, 6, 27, 8, tzinfo=UTC)
END = datetime(2026, 7, 4, 12, tzinfo=UTC)
LATER = datetime(2026, 7, 4, 18, tzinfo=UTC)
PARKS = (6, 16)
#: Polls at an interval whose minutes are not exact in binary, so that sums carry the
#: float noise real data has.
STEP = timedelta(minutes=26, seconds=14)


@pytest.fixture
def settings() -> Settings:
    return api_fixtures.settings()


def _fill(engine: Engine, workdir: Path) -> None:
    """A week of two parks (Orlando and Anaheim), finalised by `aggregate` at LATER;
    then older days imported (their running totals carried forward into the week)."""
    model = FeedModel(json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8")))
    newer, older = workdir / "newer.jsonl", workdir / "older.jsonl"
    record_archive(model, newer, START, END, STEP, park_ids=list(PARKS))
    record_archive(
        model, older, START - timedelta(days=26), START - timedelta(days=23), STEP, list(PARKS)
    )
    settings = api_fixtures.settings()
    import_archives(engine, [newer], settings, now=lambda: LATER)
    aggregate(engine, settings, LATER)
    import_archives(engine, [older], settings, now=lambda: LATER)


@pytest.fixture(scope="session")
def filled_once(backend: str) -> Iterator[Engine]:
    """`_fill` done once per run and backend, in a database no test writes."""
    engine = shared_database(backend, "filled", _fill)
    yield engine
    engine.dispose()


@pytest.fixture
def filled(engine: Engine, filled_once: Engine) -> Engine:
    """The test's own copy of `filled_once`, in the empty database it was given."""
    copy_rows(filled_once, engine)
    return engine


def held(conn: Connection, park_id: int) -> set[tuple[date, date]]:
    p = park_period_totals.c
    query = select(p.first_date, p.last_date).where(p.park_id == park_id)
    return {(first, last) for first, last in conn.execute(query)}


def dates_at(now: datetime, settings: Settings, name: str) -> Callable[[str], tuple[date, date]]:
    rules = settings.day_rules()
    return lambda zone: period_dates(name, park_day_of(now, ZoneInfo(zone), rules))


def every_ranking(conn: Connection, dates_of: Callable[[str], tuple[date, date]]) -> list[Any]:
    found: list[Any] = []
    for sort in PARK_SORTS:
        found.append(park_rankings(conn, dates_of, sort=sort))
    for sort in RIDE_SORTS:
        for descending in (True, False):
            found.append(ride_rankings(conn, dates_of, sort=sort, descending=descending))
        found.append(ride_rankings(conn, dates_of, sort=sort, limit=3))
    found.append(ride_rankings(conn, dates_of, park_id=16, limit=5))
    found.append(ride_rankings(conn, dates_of, disney_universal_only=True, sort="uptime"))
    return found


def test_the_last_write_of_a_park_leaves_its_current_named_periods_held(
    filled_once: Engine, settings: Settings
) -> None:
    rules = settings.day_rules()
    with filled_once.connect() as conn:  # only reads: the shared database itself
        for park_id, zone in ((6, "America/New_York"), (16, "America/Los_Angeles")):
            today = park_day_of(LATER, ZoneInfo(zone), rules)
            assert held(conn, park_id) == held_ranges(today)
        rides = conn.execute(select(func.count()).select_from(ride_period_totals)).scalar_one()
    assert rides > 0


def test_rankings_read_from_held_ranges_equal_rankings_computed_from_running_totals(
    filled: Engine, settings: Settings
) -> None:
    """Every period, every sort, both directions, limits and filters: identical."""
    with filled.connect() as conn:
        from_held = {name: every_ranking(conn, dates_at(LATER, settings, name)) for name in PERIODS}
    with filled.begin() as conn:
        conn.execute(delete(ride_period_totals))
        conn.execute(delete(park_period_totals))
    with filled.connect() as conn:
        computed = {name: every_ranking(conn, dates_at(LATER, settings, name)) for name in PERIODS}
    assert any(r.totals.downtime_minutes > 0 for r in from_held["last_7_days"][0])
    assert from_held == computed


def test_held_ranges_are_read_only_when_they_give_every_ride(
    filled: Engine, settings: Settings
) -> None:
    """A marked held row shows whether rankings read it: they do although the sample's
    other active parks hold nothing (they have no statistics either), and they do not
    once a park with statistics in its range holds nothing."""
    dates_of = dates_at(LATER, settings, "last_7_days")
    first, last = dates_of("America/New_York")
    r = ride_period_totals.c
    with filled.begin() as conn:
        conn.execute(
            update(ride_period_totals)
            .where(r.park_id == 6, r.first_date == first, r.last_date == last)
            .values(downtime_minutes=99999.0)
        )
    with filled.connect() as conn:
        assert ride_rankings(conn, dates_of, limit=1)[0].totals.downtime_minutes == 99999.0
    with filled.begin() as conn:
        for table in (ride_period_totals, park_period_totals):
            conn.execute(delete(table).where(table.c.park_id == 16))
    with filled.connect() as conn:
        assert ride_rankings(conn, dates_of, limit=1)[0].totals.downtime_minutes < 99999.0
        (anaheim,) = park_rankings(conn, dates_of, park_id=16)
    assert anaheim.rides_tracked > 0


def held_rows(engine: Engine, park_id: int) -> list[Any]:
    with engine.connect() as conn:
        return [
            conn.execute(
                select(table).where(table.c.park_id == park_id).order_by(*table.primary_key)
            ).all()
            for table in (park_period_totals, ride_period_totals)
        ]


def test_a_range_extended_by_its_last_day_equals_the_range_computed_whole(
    filled: Engine,
) -> None:
    """A poll computes the ranges that end on its day from those held without its day
    and from its day's rows (`held_ranges` holds both): maxima (peak waits, longest
    closures) included. Here the day is one of the filled week's full days."""
    day = date(2026, 7, 3)
    spans = {(day - timedelta(days=n), day) for n in (0, 1, 6, 29)}
    before = {(first, day - timedelta(days=1)) for first, _ in spans if first < day}
    found = []
    for hold_first in (before, set()):
        with filled.begin() as conn:
            for table in (ride_period_totals, park_period_totals):
                conn.execute(delete(table))
            for park_id in PARKS:
                period_totals.keep(conn, park_id, hold_first)
                period_totals.keep(conn, park_id, hold_first | spans)
        found.append(
            [
                [row for row in rows if (row.first_date, row.last_date) in spans]
                for park_id in PARKS
                for rows in held_rows(filled, park_id)
            ]
        )
    extended, whole = found
    rides = [row for rows in whole for row in rows if "ride_id" in row._fields]
    assert any(row.peak_wait is not None for row in rides)
    assert any(row.longest_downtime_minutes > 0 for row in rides)
    assert extended == whole
    # A single day is extended from nothing whichever way: its maxima against its rows.
    s = ride_daily_stats.c
    with filled.connect() as conn:
        days = conn.execute(select(ride_daily_stats).where(s.tracked)).all()
    for row in rides:
        inside = [
            d
            for d in days
            if (d.park_id, d.ride_id) == (row.park_id, row.ride_id)
            and row.first_date <= d.stat_date <= row.last_date
        ]
        peaks = [d.peak_wait for d in inside if d.peak_wait is not None]
        longest = max(d.longest_downtime_minutes for d in inside)
        assert (row.peak_wait, row.longest_downtime_minutes) == (max(peaks, default=None), longest)


def test_writing_a_day_forgets_the_ranges_that_hold_it_or_follow_it(filled: Engine) -> None:
    day = date(2026, 7, 1)
    with filled.connect() as conn:
        kept = held(conn, 6)
    with filled.begin() as conn:
        empty = ParkDay(day, None, None, 0.0, 0, 0, False, {})
        save_park_day(conn, 6, empty, {}, final=False, computed_at=LATER)
    with filled.connect() as conn:
        assert held(conn, 6) == {(f, last) for f, last in kept if last < day}
        orphans = conn.execute(
            select(func.count())
            .select_from(ride_period_totals)
            .where(ride_period_totals.c.park_id == 6, ride_period_totals.c.last_date >= day)
        ).scalar_one()
    assert orphans == 0


def test_keep_drops_ranges_of_a_day_gone_by_and_computes_the_new_ones(filled: Engine) -> None:
    with filled.connect() as conn:
        old = held(conn, 6)
    new_today = max(last for _, last in old) + timedelta(days=1)
    with filled.begin() as conn:
        computed = period_totals.keep(conn, 6, held_ranges(new_today))
    with filled.connect() as conn:
        now_held = held(conn, 6)
        stale_rides = conn.execute(
            select(func.count())
            .select_from(ride_period_totals)
            .where(ride_period_totals.c.park_id == 6)
            .where(
                ~ride_period_totals.c.first_date.in_([f for f, _ in now_held])
                | ~ride_period_totals.c.last_date.in_([last for _, last in now_held])
            )
        ).scalar_one()
    assert now_held == held_ranges(new_today)
    assert computed == len(held_ranges(new_today) - old)
    assert stale_rides == 0
    with filled.begin() as conn:
        assert period_totals.keep(conn, 6, held_ranges(new_today)) == 0


def test_two_writers_of_one_park_take_turns_and_leave_it_whole(
    filled: Engine, settings: Settings
) -> None:
    """The collector's first poll of a new day and `aggregate` finalising the day before,
    at the same time: the second waits for the first, then reads what it left (held
    ranges, running totals) rather than what it saw before waiting."""
    rules = StatsRules(settings.state_rules(), settings.day_rules())
    zone = ZoneInfo("America/New_York")
    new_day = date(2026, 7, 5)
    now = datetime(2026, 7, 5, 10, tzinfo=UTC)  # 06:00 in Orlando
    failures: list[BaseException] = []

    def finalise_the_day_before() -> None:
        try:
            with filled.begin() as conn:
                refresh_park_day(conn, 6, zone, new_day - timedelta(days=1), now=now, rules=rules)
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    with filled.connect() as collector:
        with collector.begin():
            refresh_park_day(collector, 6, zone, new_day, now=now, rules=rules)
            other = threading.Thread(target=finalise_the_day_before)
            other.start()
            other.join(timeout=0.5)  # it waits for this transaction's lock
    other.join(timeout=30)
    assert not other.is_alive() and failures == []
    with filled.connect() as conn:
        assert held(conn, 6) == held_ranges(new_day)
        assert_running_totals_whole(conn, 6)
        held_rides = ride_rankings(conn, dates_at(now, settings, "last_7_days"))
    with filled.begin() as conn:
        conn.execute(delete(ride_period_totals))
        conn.execute(delete(park_period_totals))
    with filled.connect() as conn:
        assert ride_rankings(conn, dates_at(now, settings, "last_7_days")) == held_rides


def assert_running_totals_whole(conn: Connection, park_id: int) -> None:
    """Each ride's running totals on each day are those of the day before plus its own."""
    s = ride_daily_stats.c
    rows = conn.execute(
        select(ride_daily_stats).where(s.park_id == park_id).order_by(s.ride_id, s.stat_date)
    ).mappings()
    running: dict[int, tuple[float, ...]] = {}
    for row in rows:
        before = running.get(row["ride_id"], (0.0,) * len(SUMS))
        expected = tuple(a + b for a, b in zip(before, own_sums(row), strict=True))
        found = tuple(row[f"cum_{name}"] for name in SUMS)
        assert found == pytest.approx(expected, abs=1e-6), (row["ride_id"], row["stat_date"])
        running[row["ride_id"]] = found
