"""Migrations run up and down on both dialects and match the table definitions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import copy_rows
from sqlalchemy import MetaData, Table, insert, inspect, select
from sqlalchemy.engine import URL, Engine

from themepark_tracker.engine.days import ParkDay, RideDay
from themepark_tracker.storage import migrate, wiki
from themepark_tracker.storage.db import make_engine
from themepark_tracker.storage.park_days import save_park_day
from themepark_tracker.storage.tables import (
    closed_park_days,
    metadata,
    park_daily_stats,
    parks,
    polls,
    ride_daily_stats,
    ride_snapshots,
    rides,
    stale_park_days,
    status_changes,
    wiki_parks,
    wiki_schedules,
)

TABLES = {table.name for table in metadata.sorted_tables}


def test_it_creates_every_table_and_records_the_head(empty_db_url: URL) -> None:
    engine = make_engine(empty_db_url)
    before, after = migrate.upgrade(engine)
    assert before is None
    assert after == migrate.head_revision()
    assert TABLES | {"alembic_version"} == set(inspect(engine).get_table_names())
    engine.dispose()


def test_a_second_upgrade_is_a_no_op(empty_db_url: URL) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    before, after = migrate.upgrade(engine)
    assert before == after == migrate.head_revision()
    engine.dispose()


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(empty_db_url: URL) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    before, after = migrate.downgrade(engine, "base")
    assert (before, after) == (migrate.head_revision(), None)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_migrated_schema_matches_the_table_definitions(empty_db_url: URL) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True},
        )
        differences = compare_metadata(context, metadata)
    assert differences == []
    engine.dispose()


def test_revision_0005_fills_the_days_rides_missed_and_their_running_totals(
    empty_db_url: URL,
) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0004")
    t = datetime(2026, 7, 9, tzinfo=UTC)
    stamp = {"first_seen_at": t, "last_seen_at": t, "updated_at": t}
    old_days = Table("ride_daily_stats", MetaData(), autoload_with=engine)
    old_changes = Table("status_changes", MetaData(), autoload_with=engine)
    old_parks = Table("park_daily_stats", MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(insert(parks), [{**_park_row(), **stamp}])
        conn.execute(
            insert(rides),
            [{"id": ride, "park_id": 6, "name": f"Ride {ride}", **stamp} for ride in (1, 2)],
        )
        day = {
            "park_id": 6,
            "downtime_events": 1,
            "longest_downtime_minutes": 5.0,
            "uptime_minutes": 600.0,
            "downtime_minutes": 10.0,
            "avg_wait": 20.0,
            "wait_samples": 3,
            "window_start": t.replace(tzinfo=None),
            "is_final": True,
            "computed_at": t.replace(tzinfo=None),
        }
        conn.execute(
            insert(old_days),
            [
                {**day, "ride_id": 1, "stat_date": date(2026, 7, 7), "tier": 1},
                {**day, "ride_id": 2, "stat_date": date(2026, 7, 7), "tier": None},
                {**day, "ride_id": 1, "stat_date": date(2026, 7, 8), "tier": 1},
            ],
        )
        zero = {"operating_minutes": 0.0, "rides_tracked": 0, "rides_with_downtime": 0}
        zero.update(
            uptime_minutes=0.0,
            downtime_minutes=0.0,
            weighted_downtime_minutes=0.0,
            weighted_total_minutes=0.0,
            wait_samples=0,
            is_final=True,
            computed_at=t.replace(tzinfo=None),
        )
        # A closed day: polled, so a park row, but nothing ran, so no ride row.
        conn.execute(insert(old_parks), [{**zero, "park_id": 6, "stat_date": date(2026, 7, 9)}])
        conn.execute(
            insert(old_changes).values(
                ride_id=1,
                park_id=6,
                changed_at=t.replace(tzinfo=None),
                from_state="open",
                to_state="closed",
            )
        )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        got = {
            (row.ride_id, row.stat_date): row
            for row in conn.execute(select(ride_daily_stats).order_by("stat_date", "ride_id"))
        }
        changes = list(conn.execute(select(status_changes)))
    assert sorted(got) == [(ride, date(2026, 7, day)) for ride in (1, 2) for day in (7, 8, 9)]
    closed = got[(1, date(2026, 7, 9))]
    assert not closed.tracked and closed.cum_downtime_minutes == 20.0
    missed = got[(2, date(2026, 7, 8))]
    assert not missed.tracked and missed.cum_downtime_minutes == 10.0
    assert missed.cum_tracked_days == 1 and missed.cum_weighted_downtime_minutes == 20.0
    second = got[(1, date(2026, 7, 8))]
    assert second.tracked and second.window_start == t
    assert (second.cum_uptime_minutes, second.cum_weighted_total_minutes) == (1200.0, 3660.0)
    assert (second.cum_wait_sum, second.cum_wait_samples, second.cum_downtime_events) == (
        120.0,
        6,
        2,
    )
    assert [(c.ride_id, c.changed_at, c.to_state) for c in changes] == [(1, t, "closed")]
    engine.dispose()


def test_revision_0006_writes_each_polls_ride_states_from_its_snapshots(
    empty_db_url: URL,
) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0005")
    t = datetime(2026, 7, 9, 14, tzinfo=UTC)
    stamp = {"first_seen_at": t, "last_seen_at": t, "updated_at": t}
    old_polls = Table("polls", MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(insert(parks), [{**_park_row(), **stamp}])
        conn.execute(
            insert(rides),
            [{"id": ride, "park_id": 6, "name": f"Ride {ride}", **stamp} for ride in (1, 2)],
        )
        poll = {"park_id": 6, "cycle_id": "c", "source": "collect"}
        conn.execute(
            insert(old_polls),
            [
                {**poll, "id": 1, "polled_at": t, "outcome": "ok"},
                {**poll, "id": 2, "polled_at": t.replace(hour=15), "outcome": "timeout"},
                {**poll, "id": 3, "polled_at": t.replace(hour=16), "outcome": "ok"},
            ],
        )
        conn.execute(
            insert(ride_snapshots),
            [
                {"poll_id": 1, "ride_id": 1, "polled_at": t, "state": "open", "wait_time": 5},
                {"poll_id": 1, "ride_id": 2, "polled_at": t, "state": "closed", "wait_time": None},
            ],
        )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        got = dict(conn.execute(select(polls.c.id, polls.c.ride_states)).all())
    assert got == {1: "1o5,2c", 2: None, 3: ""}
    engine.dispose()


def _park_row() -> dict[str, object]:
    return {
        "id": 6,
        "name": "Magic Kingdom",
        "operator": "Walt Disney Attractions",
        "operator_id": 2,
        "country": "United States",
        "continent": "North America",
        "latitude": 0.0,
        "longitude": 0.0,
        "timezone": "America/New_York",
    }


def test_revision_0009_keeps_every_status_change_and_compresses_on_mysql(
    empty_db_url: URL,
) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0008")
    t = datetime(2026, 7, 9, 14, tzinfo=UTC)
    stamp = {"first_seen_at": t, "last_seen_at": t, "updated_at": t}
    changes = [
        {"ride_id": 1, "park_id": 6, "changed_at": t.replace(hour=h), "to_state": state}
        | {"previous_duration_seconds": None if h == 14 else 3600}
        for h, state in ((14, "open"), (15, "closed"), (16, "open"))
    ]
    with engine.begin() as conn:
        conn.execute(insert(parks), [{**_park_row(), **stamp}])
        conn.execute(insert(rides), [{"id": 1, "park_id": 6, "name": "Ride 1", **stamp}])
        conn.execute(insert(status_changes), changes)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        kept = [dict(row) for row in conn.execute(select(status_changes)).mappings()]
        keys = inspect(conn).get_foreign_keys("status_changes")
        formats = {}
        if engine.dialect.name == "mysql":
            formats = dict(
                conn.exec_driver_sql(
                    "SELECT table_name, row_format FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() "
                    "AND table_name IN ('status_changes', 'ride_daily_stats')"
                ).all()
            )
    assert kept == changes
    assert [key["referred_table"] for key in keys] == ["rides"]
    compressed = {"status_changes": "Compressed", "ride_daily_stats": "Compressed"}
    assert formats == (compressed if engine.dialect.name == "mysql" else {})
    engine.dispose()


def test_revision_0011_gives_each_park_day_its_running_totals(empty_db_url: URL) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0010")
    t = datetime(2026, 7, 9, 14, tzinfo=UTC)
    old_days = Table("park_daily_stats", MetaData(), autoload_with=engine)
    day = {
        "park_id": 6,
        "operating_minutes": 600.0,
        "rides_tracked": 2,
        "rides_with_downtime": 1,
        "weighted_total_minutes": 1200.0,
        "peak_wait": 50,
        "is_final": True,
        "computed_at": t,
    }
    with engine.begin() as conn:
        conn.execute(
            insert(parks), [{**_park_row(), "first_seen_at": t, "last_seen_at": t, "updated_at": t}]
        )
        conn.execute(
            insert(old_days),
            [
                {**day, "stat_date": date(2026, 7, 8), "uptime_minutes": 500.0,
                 "downtime_minutes": 100.0, "weighted_downtime_minutes": 200.0,
                 "avg_wait": 20.0, "wait_samples": 10},
                {**day, "stat_date": date(2026, 7, 1), "uptime_minutes": 550.0,
                 "downtime_minutes": 50.0, "weighted_downtime_minutes": 150.0,
                 "avg_wait": None, "wait_samples": 0},
            ],
        )  # fmt: skip
    migrate.upgrade(engine)
    c = park_daily_stats.c
    with engine.connect() as conn:
        found = conn.execute(
            select(
                c.stat_date,
                c.cum_uptime_minutes,
                c.cum_downtime_minutes,
                c.cum_weighted_downtime_minutes,
                c.cum_weighted_total_minutes,
                c.cum_wait_sum,
                c.cum_wait_samples,
            ).order_by(c.stat_date)
        ).all()
        tables = set(inspect(conn).get_table_names())
    assert [tuple(row) for row in found] == [
        (date(2026, 7, 1), 550.0, 50.0, 150.0, 1200.0, 0.0, 0),
        (date(2026, 7, 8), 1050.0, 150.0, 350.0, 2400.0, 200.0, 10),
    ]
    assert not tables & {"park_period_totals", "ride_period_totals"}
    engine.dispose()


def test_revision_0012_fills_what_writing_the_days_would_have(empty_db_url: URL) -> None:
    """Days saved as the jobs save them (out of order, a gap, a ride appearing later),
    then the columns of revision 0012 dropped and filled again by it."""
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    t = datetime(2026, 7, 9, 14, tzinfo=UTC)
    stamp = {"first_seen_at": t, "last_seen_at": t, "updated_at": t}
    with engine.begin() as conn:
        conn.execute(insert(parks), [{**_park_row(), **stamp}])
        conn.execute(
            insert(rides), [{"id": r, "park_id": 6, "name": f"R{r}", **stamp} for r in (1, 2)]
        )
    days = [date(2026, 7, d) for d in (1, 2, 3, 5, 6, 7, 8, 9, 10, 11)]
    for index, day in sorted(enumerate(days), key=lambda item: (item[0] * 7) % 10):
        rides_ = {
            ride: RideDay(ride, t, t, 500.0, (index * ride) % 3 * 10.0, 1, index % 4 * 5.0 + ride,
                          20.0, 10 * ((index * 3 + ride) % 7) or None, 4)
            for ride in ((1,) if index < 4 else (1, 2))
            if index % 5 != ride
        }  # fmt: skip
        with engine.begin() as conn:
            save_park_day(
                conn, 6, ParkDay(day, t, t, 600.0, 10, 9, False, rides_), {1: 1, 2: 2},
                final=True, computed_at=t,
            )  # fmt: skip

    def carried() -> list[Any]:
        with engine.connect() as conn:
            return [
                conn.execute(select(park_daily_stats).order_by(park_daily_stats.c.stat_date)).all(),
                conn.execute(
                    select(ride_daily_stats).order_by(
                        ride_daily_stats.c.stat_date, ride_daily_stats.c.ride_id
                    )
                ).all(),
            ]

    written = carried()
    migrate.downgrade(engine, "0011")
    migrate.upgrade(engine)
    assert carried() == written
    engine.dispose()


def test_revision_0014_marks_the_days_whose_polls_remain_for_their_outages(
    empty_db_url: URL,
) -> None:
    """Days whose polls cleanup deleted (closed) cannot be recomputed: they stay as they
    are, without outages; the others are marked stale, once."""
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0013")
    t = datetime(2026, 7, 9, 14, tzinfo=UTC)
    days = [date(2026, 7, 1), date(2026, 7, 2), date(2026, 7, 3)]
    row = {"park_id": 6, "operating_minutes": 600.0, "rides_tracked": 0,
           "rides_with_downtime": 0, "uptime_minutes": 0.0, "downtime_minutes": 0.0,
           "weighted_downtime_minutes": 0.0, "weighted_total_minutes": 0.0,
           "is_final": True, "computed_at": t}  # fmt: skip
    old_days = Table("park_daily_stats", MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(
            insert(parks), [{**_park_row(), "first_seen_at": t, "last_seen_at": t, "updated_at": t}]
        )
        conn.execute(insert(old_days), [{**row, "stat_date": day} for day in days])
        conn.execute(
            insert(closed_park_days), [{"park_id": 6, "park_date": days[0], "closed_at": t}]
        )
        conn.execute(
            insert(stale_park_days), [{"park_id": 6, "park_date": days[2], "marked_at": t}]
        )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        stale = conn.execute(select(stale_park_days.c.park_date, stale_park_days.c.marked_at))
        marked = {day: at for day, at in stale}
        assert "ride_outages" in inspect(conn).get_table_names()
    assert sorted(marked) == days[1:] and marked[days[2]] == t
    engine.dispose()


def test_revision_0016_gives_each_park_day_its_outage_lengths_and_buckets(
    api_engine: Engine, engine: Engine
) -> None:
    """Filled from the stored outages, exactly as writing the days stored them, with the
    buckets of the days so far every 16th park day."""
    copy_rows(api_engine, engine)
    p = park_daily_stats.c
    query = select(p.park_id, p.stat_date, p.outage_seconds, p.cum_outages).order_by(
        p.park_id, p.stat_date
    )
    with engine.connect() as conn:
        written = conn.execute(query).all()
    assert sum(row.outage_seconds is not None for row in written) > 4
    migrate.downgrade(engine, "0015")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(query).all() == written


def test_revisions_0021_and_0022_fill_what_the_jobs_would_have(empty_db_url: URL) -> None:
    """A park's running count of days counted with published hours, and when its
    schedule was last fetched, dropped and filled again."""
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    t = datetime(2026, 7, 9, 14, tzinfo=UTC)
    stamp = {"first_seen_at": t, "last_seen_at": t, "updated_at": t}
    with engine.begin() as conn:
        conn.execute(insert(parks), [{**_park_row(), **stamp}])
        conn.execute(
            insert(wiki_parks),
            [{"park_id": 6, "wiki_id": "x", "wiki_name": "X", "how": "table", "mapped_at": t}],
        )
        conn.execute(
            insert(wiki_schedules),
            [
                {"park_id": 6, "park_date": date(2026, 7, d), "kind": "OPERATING",
                 "opens_at": t.replace(day=d), "closes_at": t.replace(day=d, hour=23),
                 "description": None, "fetched_at": t.replace(day=at)}
                for d, at in ((9, 8), (10, 9))
            ],
        )  # fmt: skip
        wiki.schedule_fetched(conn, 6, t.replace(day=8))
        wiki.schedule_fetched(conn, 6, t.replace(day=9))
    for index, day in enumerate(date(2026, 7, d) for d in (3, 1, 4, 2)):
        with engine.begin() as conn:
            save_park_day(
                conn, 6, ParkDay(day, t, t, 600.0, 10, 9, False, {}, index % 2 == 0), {},
                final=True, computed_at=t,
            )  # fmt: skip

    def filled() -> list[Any]:
        with engine.connect() as conn:
            p = park_daily_stats.c
            return [
                conn.execute(select(p.stat_date, p.cum_scheduled_days).order_by(p.stat_date)).all(),
                conn.execute(select(wiki_parks.c.schedule_fetched_at)).all(),
            ]

    written = filled()
    assert [row[1] for row in written[0]] == [0, 0, 1, 2]  # the 3rd and the 4th scheduled
    assert written[1] == [(t.replace(day=9),)]
    migrate.downgrade(engine, "0020")
    migrate.upgrade(engine)
    assert filled() == written
    engine.dispose()
