"""Faults on the statistics path: jobs killed with SIGKILL at random points and run again,
late polls for days whose polls are gone, `cleanup` racing an import, deadlocks.

The promise held here: whatever was stored, the statistics end as a run that was never
interrupted would leave them. Jobs are killed as real processes (`python -m
themepark_tracker`), at a point chosen by a seeded generator and found by watching the
database; the uninterrupted baselines are computed once per backend and worker.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import shared_file
from feed_fixtures import catalogue, clear, no_ssm
from sqlalchemy import Connection, Engine, Table, func, select, update
from sqlalchemy.exc import OperationalError

from themepark_tracker.archive import QueueTimesRecord, read_archive
from themepark_tracker.config import Settings, load_settings
from themepark_tracker.engine.sessions import park_day_of
from themepark_tracker.feed.model import FeedConfig, FeedModel, QuirkRates
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.feed.server import Faults, running_server
from themepark_tracker.jobs.aggregate import aggregate, cleanup
from themepark_tracker.jobs.collect import collect_cycle
from themepark_tracker.jobs.daily_stats import StatsRules, refresh_park_day
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.jobs.polls import PollRules, PollStore
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.storage import db, writes
from themepark_tracker.storage.tables import (
    aggregation_log,
    closed_park_days,
    operating_sessions,
    park_daily_stats,
    parks,
    polls,
    ride_daily_stats,
    ride_snapshots,
    stale_park_days,
    status_changes,
)

pytestmark = [pytest.mark.backend_group("faults"), pytest.mark.heavy]

PARK_IDS = (6, 16)
START = datetime(2026, 7, 1, tzinfo=UTC)
DAYS = 1
TEN_MINUTES = timedelta(minutes=10)
#: Jobs run by the real clock, in the subprocesses as here: today's figures follow the
#: time it is.
NOW = datetime.now(UTC)
#: When the retention of polls aggregated now has passed.
LATER = NOW + timedelta(days=30)
#: Statistics tables and the columns that depend on when, not on what, they were computed.
STATISTICS: tuple[tuple[Table, frozenset[str]], ...] = (
    (park_daily_stats, frozenset({"computed_at"})),
    (ride_daily_stats, frozenset()),
    (operating_sessions, frozenset({"id", "computed_at"})),
    (status_changes, frozenset()),
)
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")},
    "LOG_LEVEL": "WARNING",
}
ZONES = {6: ZoneInfo("America/New_York"), 16: ZoneInfo("America/Los_Angeles")}


@cache
def model() -> FeedModel:
    """Two parks with an afternoon storm every day: closures, reopenings, downtime."""
    return FeedModel(catalogue(*PARK_IDS), FeedConfig(quirks=QuirkRates(storm=1.0)))


def archive() -> Path:
    """A day of both parks every ten minutes, built once per run."""
    return shared_file(
        "faults.jsonl",
        lambda path: record_archive(
            model(), path, START, START + timedelta(days=DAYS), TEN_MINUTES, PARK_IDS
        ),
    )


def settings(**environ: str) -> Settings:
    return load_settings(environ=environ, ssm_reader=no_ssm)


def statistics(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every statistics row, without the times they were computed at; the raw polls."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table, ignored in STATISTICS:
            columns = [c for c in table.c if c.name not in ignored]
            found[table.name] = sorted(
                (tuple(row) for row in conn.execute(select(*columns))), key=repr
            )
        found["polls"] = sorted(conn.execute(select(polls.c.park_id, polls.c.polled_at)).all())
        found["ride_snapshots"] = [conn.execute(select(func.count(ride_snapshots.c.id))).scalar()]
    return found


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


_BASELINES: dict[tuple[str, str], dict[str, list[tuple[Any, ...]]]] = {}


def baseline(engine: Engine, backend: str, job: str) -> dict[str, list[tuple[Any, ...]]]:
    """The statistics of an uninterrupted import (and aggregate), once per backend; the
    database is left empty for the test."""
    if (backend, job) not in _BASELINES:
        clear(engine)
        import_archives(engine, [archive()], settings())
        _BASELINES[backend, "import"] = statistics(engine)
        aggregate(engine, settings(), datetime.now(UTC))
        _BASELINES[backend, "aggregate"] = statistics(engine)
    clear(engine)
    figures = _BASELINES[backend, job]
    # Each park's local days (the UTC days cut in its zone: one more), with its rides.
    assert len(figures["park_daily_stats"]) == (DAYS + 1) * len(PARK_IDS)
    assert len(figures["ride_daily_stats"]) > 20 * len(figures["park_daily_stats"])
    assert figures["status_changes"]
    return figures


def kill_when(
    command: list[str], environ: dict[str, str], reached: Callable[[], bool], timeout: float = 120
) -> None:
    """Run the CLI and SIGKILL it as soon as `reached()`; fail if it ended first."""
    process = subprocess.Popen(
        [sys.executable, "-m", "themepark_tracker", *command],
        env={**ENV, **environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if reached():
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        process.kill()
        _, errors = process.communicate()
    assert process.returncode == -signal.SIGKILL, f"ended before the kill point: {errors}"


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


# --- stale days ---------------------------------------------------------------------------


def test_stored_polls_name_their_days_until_the_figures_are_written(engine: Engine) -> None:
    import_archives(engine, [archive()], settings(), batch=50)
    with engine.connect() as conn:
        polls_of = conn.execute(select(polls.c.park_id, polls.c.polled_at)).all()
    with db.writing(engine) as conn:  # as if a run had stored these and been killed
        writes.mark_stale(conn, [(6, date(2026, 7, 1))], START)
    rules = settings().day_rules()
    assert (6, date(2026, 7, 1)) in {(p, park_day_of(at, ZONES[p], rules)) for p, at in polls_of}
    store = PollStore(
        engine,
        cycle_id="again",
        source="import",
        rules=PollRules.from_settings(settings()),
        now=lambda: NOW,
        defer_stats=True,
    )
    stored = store.store_many([])
    assert stored == [] and count(engine, stale_park_days) == 1
    assert store.refresh_stats() > 0
    assert count(engine, stale_park_days) == 0


# --- killed jobs ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_an_import_killed_while_storing_ends_exact_once_run_again(
    engine: Engine, backend: str, seed: int
) -> None:
    expected = baseline(engine, backend, "import")
    polls_total = len(expected["polls"])
    kill_at = random.Random(seed).randint(30, polls_total * 2 // 3)
    kill_when(
        ["import", "--batch-size", "30", str(archive())],
        {"DATABASE_URL": url_of(engine)},
        lambda: count(engine, polls) >= kill_at,
    )
    assert 0 < count(engine, polls) < polls_total

    report = import_archives(engine, [archive()], settings())

    assert report.stored + report.duplicates == polls_total
    assert statistics(engine) == expected
    assert count(engine, stale_park_days) == 0


def test_an_import_killed_while_recomputing_ends_exact_once_run_again(
    engine: Engine, backend: str
) -> None:
    expected = baseline(engine, backend, "import")
    kill_when(
        ["import", str(archive())],
        {"DATABASE_URL": url_of(engine)},
        lambda: count(engine, ride_daily_stats) > 0,
    )
    import_archives(engine, [archive()], settings())
    assert statistics(engine) == expected


def test_aggregate_alone_recovers_what_a_killed_import_left(engine: Engine, backend: str) -> None:
    expected = baseline(engine, backend, "aggregate")
    kill_when(
        ["import", "--batch-size", "30", str(archive())],
        {"DATABASE_URL": url_of(engine)},
        lambda: count(engine, polls) >= 100,
    )
    import_archives(engine, [archive()], settings())  # the rest of the archive, later
    aggregate(engine, settings(), datetime.now(UTC))
    assert statistics(engine) == expected


@pytest.mark.parametrize("seed", [0, 1])
def test_a_killed_aggregate_ends_exact_once_run_again(
    engine: Engine, backend: str, seed: int
) -> None:
    expected = baseline(engine, backend, "aggregate")
    import_archives(engine, [archive()], settings())
    days = len(expected["park_daily_stats"])
    # Three days at least still to do at the kill point: with fewer, a loaded machine
    # lets the job finish them (and go on to prepare its recovery pools) before the kill
    # lands, and the run has nothing to prove.
    kill_at = random.Random(seed).randint(1, max(1, days - 3))
    kill_when(
        ["aggregate"],
        {"DATABASE_URL": url_of(engine)},
        lambda: count(engine, aggregation_log) >= kill_at,
    )
    assert count(engine, aggregation_log) < days
    aggregate(engine, settings(), datetime.now(UTC))
    assert statistics(engine) == expected


def recomputed(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The statistics that the stored polls give when each of their days is computed
    afresh at the time its figures say they were computed (today's figures depend on the
    time as well as on the polls): equal to what is stored when no poll was stored
    after its day's figures were written."""
    with engine.connect() as conn:
        found = conn.execute(select(polls.c.park_id, polls.c.polled_at)).all()
        zones = {p: ZoneInfo(z) for p, z in conn.execute(select(parks.c.id, parks.c.timezone))}
        computed = {
            (p, d): at
            for p, d, at in conn.execute(
                select(
                    park_daily_stats.c.park_id,
                    park_daily_stats.c.stat_date,
                    park_daily_stats.c.computed_at,
                )
            )
        }
    day_rules = settings().day_rules()
    rules = StatsRules(settings().state_rules(), day_rules)
    for park_id, day in sorted({(p, park_day_of(at, zones[p], day_rules)) for p, at in found}):
        with db.writing(engine) as conn:
            at = computed[park_id, day]  # every day with polls has figures
            refresh_park_day(conn, park_id, zones[park_id], day, now=at, rules=rules)
    return statistics(engine)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_killed_collect_leaves_statistics_that_match_its_stored_polls(
    engine: Engine, backend: str, seed: int, tmp_path: Path
) -> None:
    clear(engine)
    many = FeedModel(catalogue(6, 16, 50, 57, 61, 66))
    sync_parks(
        engine,
        json.loads(many.parks_json()),
        source="test",
        scope=settings().scope(),
        now=datetime.now(UTC),
    )
    # One park at a time, each answer 150 ms late: the cycle stores park by park.
    faults = Faults(latency_ms=150)
    with running_server(many, lambda: datetime.now(UTC), faults) as url:
        environ = {
            "DATABASE_URL": url_of(engine),
            "QUEUE_TIMES_BASE_URL": url,
            "COLLECT_CONCURRENCY": "1",
            "DATA_DIR": str(tmp_path),
        }
        kill_at = random.Random(seed).randint(1, 4)
        kill_when(["collect"], environ, lambda: count(engine, polls) >= kill_at)
        stored = count(engine, polls)
        assert 0 < stored < 6
        report = collect_cycle(engine, settings(**environ), lambda: datetime.now(UTC))
    assert report.stored + report.duplicates == 6  # a park stored in the same second
    assert count(engine, stale_park_days) == 0
    assert statistics(engine) == recomputed(engine)


# --- closed days -----------------------------------------------------------------------------


def closed(engine: Engine) -> set[tuple[int, date]]:
    with engine.connect() as conn:
        query = select(closed_park_days.c.park_id, closed_park_days.c.park_date)
        return {(p, d) for p, d in conn.execute(query)}


def test_a_late_poll_for_a_closed_day_changes_nothing_and_is_named(
    engine: Engine, backend: str, tmp_path: Path
) -> None:
    import_archives(engine, [archive()], settings())
    aggregate(engine, settings(), datetime.now(UTC))
    cleanup(engine, settings(), LATER)
    days = closed(engine)
    assert days and count(engine, polls) == 0
    before = statistics(engine)

    late = tmp_path / "late.jsonl"
    at = START + timedelta(hours=20, minutes=5)  # midday in both parks, a poll not stored
    record_archive(model(), late, at, at + TEN_MINUTES, TEN_MINUTES, [6])
    report = import_archives(engine, [late], settings())

    assert (report.stored, report.late.total()) == (0, 1)
    ((park_day, polls_late),) = report.late.items()
    assert park_day in days and polls_late == 1
    assert statistics(engine) == before

    again = import_archives(engine, [archive()], settings())  # the whole archive again
    assert (again.stored, again.late.total()) == (0, len(PARK_IDS) * DAYS * 144)
    assert statistics(engine) == before
    aggregate(engine, settings(), datetime.now(UTC))
    assert statistics(engine) == before


def test_cleanup_racing_a_late_import_deletes_no_poll_of_a_day_it_did_not_close(
    engine: Engine, backend: str, tmp_path: Path
) -> None:
    expected = baseline(engine, backend, "aggregate")
    import_archives(engine, [archive()], settings())
    aggregate(engine, settings(), datetime.now(UTC))
    # The same day polled again five minutes later: new polls for final days.
    extra = tmp_path / "extra.jsonl.gz"
    shifted = START + timedelta(minutes=5)
    record_archive(model(), extra, shifted, shifted + timedelta(days=DAYS), TEN_MINUTES, PARK_IDS)
    reports = []
    importing = threading.Thread(
        target=lambda: reports.append(import_archives(engine, [extra], settings(), batch=20))
    )
    stored_before = count(engine, polls)
    importing.start()
    while count(engine, polls) == stored_before and importing.is_alive():
        time.sleep(0.005)  # cleanup starts once the import has stored into final days
    while importing.is_alive():
        cleanup(engine, settings(), LATER)
    importing.join()
    (report,) = reports

    with engine.connect() as conn:
        stored = {(p, at) for p, at in conn.execute(select(polls.c.park_id, polls.c.polled_at))}
    shut = closed(engine)
    rules = settings().day_rules()

    def day(park_id: int, at: datetime) -> tuple[int, date]:
        return park_id, park_day_of(at, ZONES[park_id], rules)

    assert not {day(*key) for key in stored} & shut
    assert (
        report.stored + report.late.total() + report.duplicates
        == report.records - report.catalogues
    )
    assert set(report.late) <= shut
    # Closed days kept the figures of the polls they had (their running totals carry the
    # earlier days' new polls); open ones have every poll.
    names = [c.name for c in park_daily_stats.c if c.name != "computed_at"]
    own = [i for i, name in enumerate(names) if not name.startswith("cum_")]

    def figures_of(rows: list[tuple[Any, ...]]) -> dict[Any, tuple[Any, ...]]:
        return {row[:2]: tuple(row[i] for i in own) for row in rows}

    figures = figures_of(expected["park_daily_stats"])
    now_figures = figures_of(statistics(engine)["park_daily_stats"])
    assert all(now_figures[key] == figures[key] for key in shut)
    offered = {
        (line.record.park_id, line.record.fetched_at)
        for line in read_archive(extra)
        if isinstance(line.record, QueueTimesRecord)
    }
    assert {key for key in offered if day(*key) not in shut} <= stored


# --- deadlocks -----------------------------------------------------------------------------


@pytest.mark.backends("mysql")
def test_a_transaction_chosen_as_a_deadlock_victim_runs_again(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    sync_parks(
        engine, catalogue(6, 16), source="test", scope=settings().scope(), now=datetime.now(UTC)
    )
    both = threading.Barrier(2)
    met: set[int] = set()
    done: list[int] = []

    def work(first: int, second: int) -> Callable[[Connection], int]:
        def run(conn: Connection) -> int:
            conn.execute(update(parks).where(parks.c.id == first).values(data_version=1))
            if first not in met:  # the first attempts hold one park each, then cross
                met.add(first)
                both.wait(timeout=10)
            conn.execute(update(parks).where(parks.c.id == second).values(data_version=2))
            return first

        return run

    threads = [
        threading.Thread(target=lambda a=a, b=b: done.append(db.transaction(engine, work(a, b))))
        for a, b in ((6, 16), (16, 6))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(done) == [6, 16]
    assert "deadlock, trying again" in caplog.text


def test_deadlock_codes_are_told_from_other_errors() -> None:
    def error(code: int) -> OperationalError:
        return OperationalError("UPDATE", {}, Exception(code, "message"))

    assert db.is_deadlock(error(1213)) and db.is_deadlock(error(1205))
    assert not db.is_deadlock(error(2013))
    assert not db.is_deadlock(ValueError(1213))
