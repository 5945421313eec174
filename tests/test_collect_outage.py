"""The collector through a database outage: nothing it fetched is lost.

The outage is real on both backends: MariaDB behind a TCP proxy (`tcp_proxy.TcpProxy`)
that closes every connection and refuses new ones; SQLite with its directory moved away
(as when a volume is gone), so that opening the file fails. The feed is the local one,
on a simulated clock; a cut is triggered by the feed itself as it serves a park, so it
falls mid-cycle every time.
"""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner
from feed_fixtures import SimClock, catalogue, collector_settings, rows
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from tcp_proxy import TcpProxy

from themepark_tracker import spool
from themepark_tracker.archive import (
    ArchiveWriter,
    ErrorRecord,
    ParksRecord,
    QueueTimesRecord,
    read_archive,
)
from themepark_tracker.cli import EXIT_PARTIAL, cli
from themepark_tracker.config import Settings
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.feed.server import running_server
from themepark_tracker.jobs.collect import CollectError, run_collect
from themepark_tracker.storage.db import connection_lost, make_engine
from themepark_tracker.storage.tables import polls

T0 = datetime(2026, 7, 4, 18, 0, tzinfo=UTC)
PARKS = (5, 6, 7)
TEN_MINUTES = timedelta(minutes=10)


@dataclass
class Outage:
    """The engine the collector uses, its URL, and how to take its database away."""

    engine: Engine
    url: str
    cut: Callable[[], None]
    restore: Callable[[], None]


@pytest.fixture
def outage(backend: str, engine: Engine, tmp_path: Path) -> Iterator[Outage]:
    if backend == "mysql":
        proxy = TcpProxy((engine.url.host or "127.0.0.1", engine.url.port or 3306))
        url = engine.url.set(host="127.0.0.1", port=proxy.port)
        proxied = make_engine(url)
        yield Outage(proxied, url.render_as_string(hide_password=False), proxy.cut, proxy.restore)
        proxied.dispose()
        proxy.close()
        return
    folder, away = tmp_path / "db", tmp_path / "db-away"
    folder.mkdir()
    shutil.copyfile(str(engine.url.database), folder / "tracker.db")
    url = make_url(f"sqlite:///{folder / 'tracker.db'}")
    local = make_engine(url)

    def cut() -> None:
        # The file goes first: a connection opened after the dispose would keep it. One
        # checked out now keeps it too, as it would, but goes back to the old pool.
        folder.rename(away)
        local.dispose()

    yield Outage(local, url.render_as_string(), cut, lambda: away.rename(folder))
    local.dispose()


class CutsWhenServed:
    """The model's feed, which cuts the database as it serves `park_id` (the first
    time), and restores it `restore_after` seconds later when that is given."""

    def __init__(
        self, model: FeedModel, park_id: int, outage: Outage, restore_after: float | None = None
    ) -> None:
        self.model, self.park_id, self.outage = model, park_id, outage
        self.restore_after = restore_after
        self.timers: list[threading.Timer] = []
        self.done = False

    def parks_json(self) -> bytes:
        return self.model.parks_json()

    def queue_times_json(self, park_id: int, at: datetime) -> bytes | None:
        if park_id == self.park_id and not self.done:
            self.done = True
            self.outage.cut()
            if self.restore_after is not None:
                timer = threading.Timer(self.restore_after, self.outage.restore)
                timer.start()
                self.timers.append(timer)
        return self.model.queue_times_json(park_id, at)

    def join(self) -> None:
        for timer in self.timers:
            timer.join()


def outage_settings(url: str, archive_dir: Path, deadline: float) -> Settings:
    return collector_settings(
        url, ARCHIVE_DIR=str(archive_dir), COLLECT_DEADLINE_SECONDS=str(deadline)
    )


def stored_keys(engine: Engine) -> set[tuple[int, datetime]]:
    return {(p["park_id"], p["polled_at"]) for p in rows(engine, polls)}


def archived_keys(*paths: Path) -> set[tuple[int, datetime]]:
    return {
        (line.record.park_id, line.record.fetched_at)
        for path in paths
        for line in read_archive(path)
        if isinstance(line.record, QueueTimesRecord | ErrorRecord)
        and line.record.park_id is not None
    }


def every_park_at(*moments: datetime) -> set[tuple[int, datetime]]:
    return {(park_id, at) for park_id in PARKS for at in moments}


# --- a dropped connection mid-cycle ------------------------------------------------------------


def test_a_database_back_within_the_deadline_leaves_the_cycle_complete(
    outage: Outage, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The probe's outage: 0.6 s without the database while the answers come in."""
    archive_dir = tmp_path / "archive"
    source = CutsWhenServed(FeedModel(catalogue(*PARKS)), 6, outage, restore_after=0.6)
    clock = SimClock(T0)
    with running_server(source, clock) as url:
        settings = outage_settings(url, archive_dir, deadline=10)
        started = time.monotonic()
        report = run_collect(outage.engine, settings, clock)
        elapsed = time.monotonic() - started
    source.join()

    assert source.done and "database connection lost; trying again" in caplog.text
    assert elapsed < 5
    assert (report.unstored, report.pending_archives) == (0, 0)
    assert report.exit_code(settings.collect_failure_threshold) == 0
    assert stored_keys(outage.engine) == every_park_at(T0)
    assert report.archive is not None and spool.pending(archive_dir) == []
    kinds = [line.record.kind for line in read_archive(report.archive) if line.record]
    assert sorted(kinds) == ["parks", "queue_times", "queue_times", "queue_times"]


def test_answers_not_stored_by_the_deadline_are_stored_by_the_next_cycle(
    outage: Outage, tmp_path: Path
) -> None:
    archive_dir = tmp_path / "archive"
    source = CutsWhenServed(FeedModel(catalogue(*PARKS)), 6, outage)
    clock = SimClock(T0)
    with running_server(source, clock) as url:
        settings = outage_settings(url, archive_dir, deadline=1.5)
        started = time.monotonic()
        first = run_collect(outage.engine, settings, clock)
        elapsed = time.monotonic() - started
        assert elapsed < 4
        assert first.exit_code(settings.collect_failure_threshold) == EXIT_PARTIAL
        assert first.unstored >= 1 and first.archive is not None
        assert spool.pending(archive_dir) == [first.archive]
        assert "answers not stored (database unreachable)" in first.summary()
        assert archived_keys(first.archive) == every_park_at(T0)

        outage.restore()
        clock.advance(minutes=10)
        second = run_collect(outage.engine, settings, clock)

    assert second.imported == first.unstored
    assert (second.unstored, second.pending_archives) == (0, 0)
    assert second.exit_code(settings.collect_failure_threshold) == 0
    assert stored_keys(outage.engine) == every_park_at(T0, T0 + TEN_MINUTES)
    assert spool.pending(archive_dir) == []


# --- a database down for a whole cycle -----------------------------------------------------


def test_a_cycle_without_a_database_fetches_the_last_cycles_parks_and_keeps_them(
    outage: Outage, tmp_path: Path
) -> None:
    archive_dir = tmp_path / "archive"
    clock = SimClock(T0)
    with running_server(FeedModel(catalogue(*PARKS)), clock) as url:
        settings = outage_settings(url, archive_dir, deadline=2)
        assert run_collect(outage.engine, settings, clock).exit_code(0.1) == 0

        outage.cut()
        clock.advance(minutes=10)
        started = time.monotonic()
        down = run_collect(outage.engine, settings, clock)
        elapsed = time.monotonic() - started
        assert elapsed < 2, "the start gives up after a quarter of the deadline"
        assert down.exit_code(settings.collect_failure_threshold) == EXIT_PARTIAL
        assert (down.parks, down.unstored, down.stored) == (3, 3, 0)
        assert down.catalogue == "unchecked"
        assert down.archive is not None and spool.pending(archive_dir) == [down.archive]
        assert archived_keys(down.archive) == every_park_at(T0 + TEN_MINUTES)

        outage.restore()
        clock.advance(minutes=10)
        back = run_collect(outage.engine, settings, clock)

    assert (back.imported, back.unstored, back.pending_archives) == (3, 0, 0)
    assert back.exit_code(settings.collect_failure_threshold) == 0
    assert stored_keys(outage.engine) == every_park_at(T0, T0 + TEN_MINUTES, T0 + 2 * TEN_MINUTES)
    assert spool.pending(archive_dir) == []


def test_without_a_database_or_an_archive_to_name_the_parks_nothing_is_fetched(
    outage: Outage, tmp_path: Path
) -> None:
    archive_dir = tmp_path / "archive"
    model = FeedModel(catalogue(*PARKS))
    served: list[int] = []

    class Watched:
        def parks_json(self) -> bytes:
            served.append(0)
            return model.parks_json()

        def queue_times_json(self, park_id: int, at: datetime) -> bytes | None:
            served.append(park_id)
            return model.queue_times_json(park_id, at)

    outage.cut()
    with running_server(Watched(), lambda: T0) as url:
        with pytest.raises(CollectError, match="no archived cycle names the parks"):
            run_collect(outage.engine, outage_settings(url, archive_dir, 2), lambda: T0)
    assert served == []
    assert spool.archives(archive_dir) == [], "an empty archive is not left behind"


@pytest.mark.backends("mysql")
def test_the_command_exits_3_while_answers_wait_and_import_stores_them_too(
    runner: CliRunner, outage: Outage, tmp_path: Path
) -> None:
    """The CLI through the proxy: exit codes as the README says; `--archive` still gets
    every record; `import` of a pending archive stores it, and the next cycle clears it."""
    archive_dir, copy = tmp_path / "archive", tmp_path / "copy.jsonl.gz"
    clock = SimClock(T0)
    with running_server(FeedModel(catalogue(*PARKS)), clock) as url:
        env = {
            "DATABASE_URL": outage.url,
            "QUEUE_TIMES_BASE_URL": url,
            "DATA_DIR": str(tmp_path),
            "ARCHIVE_DIR": str(archive_dir),
            "COLLECT_DEADLINE_SECONDS": "2",
        }

        def collect() -> tuple[int, str]:
            with time_machine.travel(clock.now, tick=False):
                result = runner.invoke(cli, ["collect", "--archive", str(copy)], env=env)
            return result.exit_code, result.stdout

        assert collect()[0] == 0
        outage.cut()
        clock.advance(minutes=10)
        code, output = collect()
        assert code == EXIT_PARTIAL, output
        assert "3 answers not stored (database unreachable), kept in" in output
        assert "1 archive pending" in output
        (pending,) = spool.pending(archive_dir)

        outage.restore()
        imported = runner.invoke(cli, ["import", str(pending)], env=env)
        assert imported.exit_code == 0, imported.output
        assert "3 polls stored" in imported.output
        clock.advance(minutes=10)
        code, output = collect()

    assert code == 0, output
    assert "pending" not in output
    assert spool.pending(archive_dir) == []
    everything = every_park_at(T0, T0 + TEN_MINUTES, T0 + 2 * TEN_MINUTES)
    assert stored_keys(outage.engine) == everything
    assert archived_keys(copy) == everything
    assert sum(isinstance(line.record, ParksRecord) for line in read_archive(copy)) == 1


@pytest.mark.backends("mysql")
def test_the_command_exits_1_when_it_can_do_nothing(
    runner: CliRunner, outage: Outage, tmp_path: Path
) -> None:
    outage.cut()
    env = {
        "DATABASE_URL": outage.url,
        "QUEUE_TIMES_BASE_URL": "http://127.0.0.1:9",
        "DATA_DIR": str(tmp_path),
        "COLLECT_DEADLINE_SECONDS": "2",
    }
    result = runner.invoke(cli, ["collect"], env=env)
    assert result.exit_code == 1
    assert "no archived cycle names the parks to fetch: nothing fetched" in result.output


# --- what counts as a lost connection ----------------------------------------------------


def _error(engine: Engine, statement: str = "SELECT 1") -> DBAPIError:
    with pytest.raises(DBAPIError) as caught, engine.connect() as conn:
        conn.execute(text(statement))
    return caught.value


def test_a_lost_connection_is_told_from_a_statement_the_database_refused(
    backend: str, engine: Engine, tmp_path: Path
) -> None:
    assert not connection_lost(_error(engine, "SELECT * FROM no_such_table"))
    assert not connection_lost(ValueError("unable to open"))
    if backend == "sqlite":
        gone = create_engine(f"sqlite:///{tmp_path / 'gone' / 'tracker.db'}")
        assert "unable to open" in str(_error(gone)) and connection_lost(_error(gone))
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    refused = create_engine(engine.url.set(port=closed_port))
    error = _error(refused)
    assert error.orig is not None and error.orig.args[0] in (2002, 2003) and connection_lost(error)


# --- the archive directory ---------------------------------------------------------------


def _archive(directory: Path, started: datetime, *, pending: bool, park_id: int = 5) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / spool.archive_name(started, os.urandom(4).hex())
    with ArchiveWriter(path) as writer:
        writer.write(ErrorRecord(park_id, started, "HTTP 500"))
    if pending:
        spool.mark_of(path).touch()
    return path


@pytest.mark.backends("sqlite")
def test_retention_deletes_old_archives_but_never_a_pending_one(
    engine: Engine, tmp_path: Path
) -> None:
    archive_dir = tmp_path / "archive"
    old = _archive(archive_dir, T0 - timedelta(days=7, minutes=1), pending=False)
    recent = _archive(archive_dir, T0 - timedelta(days=6), pending=False)
    old_pending = _archive(archive_dir, T0 - timedelta(days=8), pending=True)
    foreign = archive_dir / "today.jsonl.gz"
    foreign.write_bytes(gzip.compress(b""))
    os.utime(foreign, (0, 0))
    orphan = spool.mark_of(archive_dir / spool.archive_name(T0 - timedelta(days=1), "dead"))
    orphan.touch()

    clock = SimClock(T0)
    with running_server(FeedModel(catalogue(*PARKS)), clock) as url:
        settings = outage_settings(url, archive_dir, deadline=5)
        report = run_collect(engine, settings, clock)
        assert report.exit_code(0.1) == 0
        assert not old.exists() and not orphan.exists()
        assert recent.exists() and foreign.exists()
        assert old_pending.exists() and spool.pending(archive_dir) == []
        clock.advance(minutes=10)
        later = run_collect(engine, settings, clock)
    assert not old_pending.exists(), "once stored, an old archive goes like any other"
    assert spool.archives(archive_dir) == [recent, report.archive, later.archive]


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=20 * 24 * 60), st.booleans()), max_size=12
    ),
    st.integers(min_value=1, max_value=14),
)
@examples(max_examples=40, deadline=None)
def test_retention_keeps_exactly_the_recent_and_the_pending(
    archives: list[tuple[int, bool]], days: int
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        made = {
            _archive(directory, T0 - timedelta(minutes=age), pending=pending): (age, pending)
            for age, pending in archives
        }
        spool.expire(directory, T0, days)
        kept = set(spool.archives(directory))
    assert kept == {
        path for path, (age, pending) in made.items() if pending or age <= days * 24 * 60
    }


@given(st.datetimes(timezones=st.just(UTC)), st.uuids())
@examples(max_examples=50)
def test_an_archive_name_says_when_its_cycle_started(moment: datetime, cycle: object) -> None:
    name = spool.archive_name(moment, str(cycle))
    assert spool.started_at(Path(name)) == moment.replace(microsecond=0)


@pytest.mark.backends("sqlite")
def test_an_archive_directory_that_cannot_be_written_does_not_stop_collection(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    clock = SimClock(T0)
    with running_server(FeedModel(catalogue(*PARKS)), clock) as url:
        settings = outage_settings(url, blocker / "archive", deadline=5)
        report = run_collect(engine, settings, clock)
    assert report.exit_code(0.1) == 0 and report.archive is None
    assert stored_keys(engine) == every_park_at(T0)
    assert "the cycle's archive cannot be written" in caplog.text
    assert spool.unwritable(blocker / "archive") is not None
