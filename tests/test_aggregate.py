"""Daily statistics kept current, `aggregate` finalising days, `cleanup` deleting raw polls."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import shared_file
from feed_fixtures import SimClock, collect_every_ten_minutes
from sqlalchemy import Engine, func, select, text

from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.cli import cli
from themepark_tracker.config import Settings, load_settings
from themepark_tracker.engine.sessions import park_day_of
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.jobs.aggregate import aggregate, cleanup
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.storage.tables import (
    aggregation_log,
    metadata,
    operating_sessions,
    park_daily_stats,
    polls,
    ride_daily_stats,
    ride_outages,
    ride_snapshots,
    status_changes,
)

START = datetime(2026, 7, 3, 8, tzinfo=UTC)
END = datetime(2026, 7, 4, 12, tzinfo=UTC)
LATER = datetime(2026, 7, 9, tzinfo=UTC)
STAT_COLUMNS = [c for c in park_daily_stats.c if c.name not in ("id", "is_final", "computed_at")]


@pytest.fixture
def settings() -> Settings:
    return load_settings(environ={}, ssm_reader=lambda prefix, region: {})


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """The test's own copy of two parks' days, simulated once per run."""

    def record(path: Path) -> None:
        model = FeedModel(json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8")))
        record_archive(model, path, START, END, timedelta(minutes=20), park_ids=[6, 16])

    path = tmp_path / "days.jsonl"
    shutil.copyfile(shared_file("aggregate-days.jsonl", record), path)
    return path


def rows(engine: Engine, table: Any, *columns: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        query = select(*(columns or table.c)).order_by(*(columns or table.c)[:3])
        return [tuple(row) for row in conn.execute(query)]


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_an_import_leaves_provisional_statistics_for_every_day_it_touched(
    engine: Engine, settings: Settings, archive: Path
) -> None:
    import_archives(engine, [archive], settings)
    stats = rows(
        engine,
        park_daily_stats,
        park_daily_stats.c.park_id,
        park_daily_stats.c.stat_date,
        park_daily_stats.c.is_final,
        park_daily_stats.c.rides_tracked,
    )
    days = {(park_id, day) for park_id, day, _, _ in stats}
    # Los Angeles: 08:00 UTC on 3 July is 01:00 local, still the park day of 2 July.
    assert days == {
        (6, date(2026, 7, 3)),
        (6, date(2026, 7, 4)),
        (16, date(2026, 7, 2)),
        (16, date(2026, 7, 3)),
        (16, date(2026, 7, 4)),
    }
    assert not any(final for _, _, final, _ in stats)
    assert all(tracked > 0 for _, day, _, tracked in stats if day == date(2026, 7, 3))
    assert count(engine, operating_sessions) == 2
    assert count(engine, ride_daily_stats) > 50


def test_aggregate_finalises_completed_days_to_the_same_figures(
    engine: Engine, settings: Settings, archive: Path
) -> None:
    import_archives(engine, [archive], settings)
    provisional = rows(engine, park_daily_stats, *STAT_COLUMNS)
    report = aggregate(engine, settings, LATER)
    assert report.days == len(provisional) == 5 and report.failures == 0
    assert rows(engine, park_daily_stats, *STAT_COLUMNS) == provisional
    assert all(final for (final,) in rows(engine, park_daily_stats, park_daily_stats.c.is_final))
    assert aggregate(engine, settings, LATER).days == 0
    logged = rows(engine, aggregation_log, aggregation_log.c.job, aggregation_log.c.status)
    assert logged == [("aggregate", "success")] * 5


@pytest.mark.heavy
def test_the_figures_collecting_keeps_after_a_day_are_those_aggregate_finalises(
    engine: Engine, settings: Settings
) -> None:
    """Each poll's recompute runs at the poll's own time, as the collector's does; once
    both parks have closed, the day's figures are final in all but the mark."""
    model = FeedModel(json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8")))
    clock = SimClock(datetime(2026, 7, 4, 20, tzinfo=UTC))  # 16:00 in Toronto
    last = collect_every_ten_minutes(engine, model, clock, 72, PARK_COUNTRIES="Canada,Mexico")
    assert last == datetime(2026, 7, 5, 7, 50, tzinfo=UTC)  # 03:50 in Toronto
    ride_columns = [c for c in ride_daily_stats.c if c.name != "is_final"]
    session_columns = [
        c for c in operating_sessions.c if c.name not in ("id", "is_final", "computed_at")
    ]
    kept = [
        rows(engine, park_daily_stats, *STAT_COLUMNS),
        rows(engine, ride_daily_stats, *ride_columns),
        rows(engine, operating_sessions, *session_columns),
    ]
    assert [(p, d) for p, d, *_ in kept[0]] == [(47, date(2026, 7, 4)), (57, date(2026, 7, 4))]
    downtime = rows(engine, ride_daily_stats, ride_daily_stats.c.downtime_minutes)
    assert len(kept[2]) == 2 and max(downtime) > (0,)
    report = aggregate(engine, settings, datetime(2026, 7, 5, 12, tzinfo=UTC))
    assert (report.days, report.failures) == (2, 0)
    assert all(final for (final,) in rows(engine, park_daily_stats, park_daily_stats.c.is_final))
    assert [
        rows(engine, park_daily_stats, *STAT_COLUMNS),
        rows(engine, ride_daily_stats, *ride_columns),
        rows(engine, operating_sessions, *session_columns),
    ] == kept


def test_a_day_not_over_yet_is_not_finalised(
    engine: Engine, settings: Settings, archive: Path
) -> None:
    import_archives(engine, [archive], settings)
    report = aggregate(engine, settings, datetime(2026, 7, 4, 8, tzinfo=UTC))
    finalised = {day for (day,) in rows(engine, aggregation_log, aggregation_log.c.park_date)}
    assert finalised == {date(2026, 7, 2)}
    assert report.days == len(
        rows(engine, aggregation_log, aggregation_log.c.park_id, aggregation_log.c.park_date)
    )


def reopen_every_day(engine: Engine, settings: Settings, archive: Path, tmp_path: Path) -> None:
    """Every other poll, finalised; then the polls in between, which reopen every day."""
    first_half = tmp_path / "first.jsonl"
    model = FeedModel(json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8")))
    record_archive(model, first_half, START, END, timedelta(minutes=40), park_ids=[6, 16])
    import_archives(engine, [first_half], settings)
    aggregate(engine, settings, LATER)
    import_archives(engine, [archive], settings)


def test_a_late_poll_reopens_a_final_day_and_aggregate_closes_it_again(
    engine: Engine, settings: Settings, archive: Path, tmp_path: Path
) -> None:
    reopen_every_day(engine, settings, archive, tmp_path)
    reopened = rows(engine, park_daily_stats, park_daily_stats.c.is_final)
    assert any(not final for (final,) in reopened)
    assert aggregate(engine, settings, LATER).days > 0
    assert all(final for (final,) in rows(engine, park_daily_stats, park_daily_stats.c.is_final))


def polls_by_park_day(engine: Engine, settings: Settings) -> dict[tuple[int, date], int]:
    zones = {6: ZoneInfo("America/New_York"), 16: ZoneInfo("America/Los_Angeles")}
    found: dict[tuple[int, date], int] = {}
    for park_id, at in rows(engine, polls, polls.c.park_id, polls.c.polled_at):
        key = (park_id, park_day_of(at, zones[park_id], settings.day_rules()))
        found[key] = found.get(key, 0) + 1
    return found


def test_cleanup_deletes_only_days_final_for_longer_than_the_retention(
    engine: Engine, settings: Settings, archive: Path
) -> None:
    import_archives(engine, [archive], settings)
    changes_before = count(engine, status_changes)
    stats_before = rows(engine, park_daily_stats, *STAT_COLUMNS)
    polls_before = polls_by_park_day(engine, settings)
    assert cleanup(engine, settings, LATER).rows == 0  # nothing is final yet
    finalised_at = datetime(2026, 7, 4, 12, tzinfo=UTC)
    aggregate(engine, settings, finalised_at)
    final = {(6, date(2026, 7, 3)), (16, date(2026, 7, 2)), (16, date(2026, 7, 3))}
    logged = rows(engine, aggregation_log, aggregation_log.c.park_id, aggregation_log.c.park_date)
    assert set(logged) == final
    # Magic Kingdom's 3 July ended at 08:00 UTC on the 4th, 28 hours before; it has been
    # final for 24 hours less a minute. (The log stamps the job's clock as it moves on.)
    day = timedelta(hours=24)
    assert cleanup(engine, settings, finalised_at + day - timedelta(minutes=1)).rows == 0
    report = cleanup(engine, settings, finalised_at + day + timedelta(minutes=1))
    assert report.days == 3
    assert report.rows == sum(polls_before[key] for key in final)
    assert polls_by_park_day(engine, settings) == {
        key: n for key, n in polls_before.items() if key not in final
    }
    with engine.connect() as conn:
        orphans = conn.execute(
            select(func.count())
            .select_from(ride_snapshots)
            .where(~ride_snapshots.c.poll_id.in_(select(polls.c.id)))
        ).scalar_one()
    assert orphans == 0
    assert count(engine, status_changes) == changes_before
    assert rows(engine, park_daily_stats, *STAT_COLUMNS) == stats_before


def test_a_day_reopened_by_a_late_poll_is_kept_until_final_again_for_the_retention(
    engine: Engine, settings: Settings, archive: Path, tmp_path: Path
) -> None:
    reopen_every_day(engine, settings, archive, tmp_path)
    assert cleanup(engine, settings, LATER + timedelta(days=3)).rows == 0
    again = LATER + timedelta(days=3)
    aggregate(engine, settings, again)
    assert cleanup(engine, settings, again + timedelta(hours=23)).rows == 0
    assert cleanup(engine, settings, again + timedelta(hours=25)).days == 5
    assert count(engine, polls) == 0


def test_a_failing_park_day_is_logged_and_the_others_go_on(
    engine: Engine, settings: Settings, archive: Path
) -> None:
    import_archives(engine, [archive], settings)
    with engine.begin() as conn:
        if engine.dialect.name == "mysql":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_stats BEFORE INSERT ON park_daily_stats FOR EACH ROW "
                    "BEGIN IF NEW.park_id = 16 AND NEW.is_final THEN "
                    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END IF; END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_stats BEFORE INSERT ON park_daily_stats "
                    "WHEN NEW.park_id = 16 AND NEW.is_final "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
    try:
        report = aggregate(engine, settings, LATER)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER IF EXISTS refuse_stats"))
    assert (report.days, report.failures) == (5, 3)
    logged = rows(
        engine,
        aggregation_log,
        aggregation_log.c.park_id,
        aggregation_log.c.status,
        aggregation_log.c.error,
    )
    assert {(park, status) for park, status, _ in logged} == {(6, "success"), (16, "failure")}
    assert all("refused" in (error or "") for park, _, error in logged if park == 16)
    assert aggregate(engine, settings, LATER).days == 3


def test_the_commands_report_what_they_did(
    runner: CliRunner, engine: Engine, database_url: str, archive: Path
) -> None:
    env = {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    imported = runner.invoke(cli, ["import", str(archive)], env=env)
    assert imported.exit_code == 0, imported.output
    done = runner.invoke(cli, ["aggregate"], env=env)
    assert done.exit_code == 0, done.output
    assert "park days finalised, 0 failed" in done.output
    cleaned = runner.invoke(cli, ["cleanup"], env=env)
    assert cleaned.exit_code == 0, cleaned.output
    assert "polls deleted from" in cleaned.output


def test_park_figures_are_the_sums_of_their_rides(
    engine: Engine, settings: Settings, archive: Path
) -> None:
    import_archives(engine, [archive], settings)
    with engine.connect() as conn:
        by_rides = {
            (park, day): (up, down)
            for park, day, up, down in conn.execute(
                select(
                    ride_daily_stats.c.park_id,
                    ride_daily_stats.c.stat_date,
                    func.sum(ride_daily_stats.c.uptime_minutes),
                    func.sum(ride_daily_stats.c.downtime_minutes),
                )
                .where(ride_daily_stats.c.tracked)
                .group_by(ride_daily_stats.c.park_id, ride_daily_stats.c.stat_date)
            )
        }
        by_park = {
            (park, day): (up, down)
            for park, day, up, down in conn.execute(
                select(
                    park_daily_stats.c.park_id,
                    park_daily_stats.c.stat_date,
                    park_daily_stats.c.uptime_minutes,
                    park_daily_stats.c.downtime_minutes,
                ).where(park_daily_stats.c.rides_tracked > 0)
            )
        }
    assert by_park.keys() == by_rides.keys()
    for key, (up, down) in by_park.items():
        assert up == pytest.approx(by_rides[key][0]) and down == pytest.approx(by_rides[key][1])


def test_statistics_do_not_depend_on_the_order_archives_arrive_in(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    model = FeedModel(json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8")))
    early, late = tmp_path / "early.jsonl", tmp_path / "late.jsonl"
    middle = START + timedelta(hours=20)
    record_archive(model, early, START, middle, timedelta(minutes=20), park_ids=[6])
    record_archive(model, late, middle, END, timedelta(minutes=20), park_ids=[6])
    columns = [c for c in ride_daily_stats.c if c.name not in ("id", "computed_at")]

    import_archives(engine, [late], settings)
    import_archives(engine, [early], settings)
    reversed_order = rows(engine, ride_daily_stats, *columns)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    import_archives(engine, [early, late], settings)
    assert rows(engine, ride_daily_stats, *columns) == reversed_order


def test_a_ride_day_s_outages_are_its_downtime_and_survive_cleanup(
    engine: Engine, settings: Settings, archive: Path
) -> None:
    import_archives(engine, [archive], settings)
    aggregate(engine, settings, datetime(2026, 7, 4, 12, tzinfo=UTC))
    o, s = ride_outages.c, ride_daily_stats.c
    stored = rows(engine, ride_outages)
    with engine.connect() as conn:
        days = conn.execute(
            select(s.ride_id, s.stat_date, s.downtime_minutes, s.downtime_events).where(s.tracked)
        ).all()
        events = {
            (ride, day): (float(total), int(n))
            for ride, day, total, n in conn.execute(
                select(o.ride_id, o.park_date, func.sum(o.minutes), func.count()).group_by(
                    o.ride_id, o.park_date
                )
            )
        }
    assert stored and days
    for ride, day, down, n in days:
        total, found = events.get((ride, day), (0.0, 0))
        assert (round(total, 6), found) == (round(down, 6), n), (ride, day)
    assert set(events) <= {(ride, day) for ride, day, *_ in days}
    report = cleanup(engine, settings, datetime(2026, 7, 5, 12, 1, tzinfo=UTC))
    assert report.days == 3
    assert rows(engine, ride_outages) == stored
