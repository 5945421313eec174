"""One collection cycle: refresh the catalogue when stale, fetch every active park, store.

Fetches run concurrently (bounded); storing happens on the calling thread as answers
arrive, one transaction per park, so that SQLite never sees competing writers.

The `collect` command (`run_collect`) writes every answer to the cycle's own archive in
ARCHIVE_DIR (`spool`) before the database is asked to store it, so that a database
outage loses nothing:

- a dropped connection while storing is retried, with a short backoff, until the
  cycle's deadline: a database back by then leaves the cycle complete;
- answers not stored by the deadline stay in the archive, which stays pending; the next
  cycle imports pending archives before it fetches (what is stored already is
  skipped), so that each park's polls still reach the database in time order;
- a database unreachable at the start (pending imports, the catalogue's age, the active
  parks: each retried for a few seconds) is not asked again that cycle. The catalogue
  is not refreshed (its age is in the database); the parks the last archived cycle
  fetched are fetched and every answer is kept for the next cycle. With no archived
  cycle to name the parks, the cycle fetches nothing and fails (CollectError, exit 1).
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential, wait_random

from themepark_tracker import spool
from themepark_tracker.archive import (
    ArchiveRecord,
    ArchiveWriter,
    ErrorRecord,
    ParksRecord,
    QueueTimesRecord,
    WikiLiveRecord,
    WikiScheduleRecord,
)
from themepark_tracker.config import Settings
from themepark_tracker.engine.sessions import park_day_of
from themepark_tracker.ingest import PollInput
from themepark_tracker.jobs.daily_stats import StatsRules, refresh_park_day
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.jobs.polls import PollRules, PollStore, StoredPoll
from themepark_tracker.jobs.second_source import SCHEDULE_DAYS, store_live, store_schedule
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.jobs.wiki_map import read_overrides
from themepark_tracker.sources.http import FetchError, HttpClient, client_for
from themepark_tracker.sources.queue_times import SourceError, decode_json
from themepark_tracker.storage import queries, wiki, writes
from themepark_tracker.storage.db import connection_lost, transaction
from themepark_tracker.wiki_mapping import NO_OVERRIDES, MappingError, Overrides

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")
P = ParamSpec("P")

#: First wait before storing again after a dropped connection, doubling (with jitter)
#: up to the maximum: a blip (a failover, a restart) is over within seconds, so the
#: first retry comes at once, and a database back at any moment is used within seconds.
STORE_RETRY_WAIT = 0.1
STORE_RETRY_MAX_WAIT = 2.0
#: How long the reads that start a cycle retry a dropped connection (at most a quarter
#: of the deadline): past it the database counts as down for the cycle, and fetching on
#: time matters more than waiting for it.
START_RETRY_SECONDS = 5.0


class CollectError(Exception):
    """The cycle could not run at all."""


class AlreadyRunning(Exception):
    """Another collect holds the lock."""


class Archive(Protocol):
    """Where a cycle's records go before they are stored (an ArchiveWriter, or several)."""

    def write(self, record: ArchiveRecord) -> None: ...


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "database connection lost; trying again",
        extra={
            "attempt": state.attempt_number,
            "wait_seconds": round(state.upcoming_sleep, 3),
            "error": _reason(error) if error else None,
        },
    )


def retried(until: float, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`work(*args, **kwargs)`, run again while it loses its database connection, with a
    short backoff, until `until` (a `time.monotonic()` instant); it runs at least once."""

    def stop(state: RetryCallState) -> bool:
        return time.monotonic() + (state.upcoming_sleep or 0) >= until

    retrying = Retrying(
        retry=retry_if_exception(connection_lost),
        wait=wait_exponential(multiplier=STORE_RETRY_WAIT, max=STORE_RETRY_MAX_WAIT)
        + wait_random(0, STORE_RETRY_WAIT),
        stop=stop,
        before_sleep=_log_retry,
        reraise=True,
    )
    result: T = retrying(work, *args, **kwargs)
    return result


def _start_patience(settings: Settings) -> float:
    return min(START_RETRY_SECONDS, settings.collect_deadline_seconds / 4)


def _read(engine: Engine, query: Callable[[Connection], T]) -> T:
    with engine.connect() as conn:
        return query(conn)


@contextmanager
def collect_lock(path: Path) -> Iterator[None]:
    """An OS lock held for the whole cycle; released by the kernel even on a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(f"another collect is running (lock {path} is held)") from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(descriptor)


@dataclass
class CycleReport:
    cycle_id: str
    parks: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    stored: int = 0
    duplicates: int = 0
    rides: int = 0
    status_changes: int = 0
    issues: int = 0
    active_parks: int = 0
    catalogue: str = "unchecked"
    duration_seconds: float = 0.0
    unstored: int = 0
    """Answers (polls, a catalogue) not stored because the database could not be
    reached: they are in the cycle's archive only, pending."""
    imported: int = 0
    """Polls stored from earlier cycles' pending archives."""
    pending_archives: int = 0
    """Archives in ARCHIVE_DIR still pending once the cycle ended, this one included."""
    archive: Path | None = None
    wiki_answers: Counter[str] = field(default_factory=Counter)
    """ThemeParks.wiki answers of the paired parks by outcome (`live`, `schedule`, or
    what failed): they never count against the Queue-Times polls."""

    @property
    def failed(self) -> int:
        return self.parks - self.outcomes["ok"]

    def exit_code(self, threshold: float) -> int:
        """0 complete: every answer stored, failures within the threshold. 3 partial:
        more parks failed than the threshold allows, or answers wait in a pending
        archive for a database that could not be reached."""
        if self.unstored or self.pending_archives:
            return 3
        if self.parks and self.failed / self.parks > threshold:
            return 3
        return 0

    def summary(self) -> str:
        outcomes = ", ".join(f"{n} {name}" for name, n in sorted(self.outcomes.items()))
        parts = [
            f"cycle {self.cycle_id}: {self.parks} parks ({outcomes or 'none'}), "
            f"{self.active_parks} operating, {self.rides} ride readings, "
            f"{self.status_changes} status changes, {self.issues} data-quality issues, "
            f"catalogue {self.catalogue}, {self.duration_seconds:.1f} s"
        ]
        if self.wiki_answers:
            answers = ", ".join(f"{n} {name}" for name, n in sorted(self.wiki_answers.items()))
            parts.append(f"ThemeParks.wiki: {answers}")
        if self.imported:
            parts.append(f"{self.imported} polls stored from pending archives")
        if self.unstored:
            kept = f"kept in {self.archive}" if self.archive else "not archived"
            parts.append(f"{self.unstored} answers not stored (database unreachable), {kept}")
        if self.pending_archives:
            parts.append(
                f"{self.pending_archives} archive{'s' * (self.pending_archives > 1)} pending"
            )
        return "; ".join(parts)


def run_collect(
    engine: Engine, settings: Settings, now: Clock, copy: ArchiveWriter | None = None
) -> CycleReport:
    """The `collect` command's cycle (module docstring): archives past
    ARCHIVE_RETENTION_DAYS deleted (never pending ones), earlier cycles' pending archives
    imported, then a cycle whose answers go to its own archive (and to `copy`) before
    the database; that archive stays pending unless everything in it was stored.

    An ARCHIVE_DIR that cannot be written is logged and the cycle runs without its
    archive: the database may well take everything, and `check` reports the directory.
    """
    directory = settings.archive_path
    started = time.monotonic()
    try:
        for path in spool.expire(directory, now(), settings.archive_retention_days):
            log.info("archive past its retention deleted", extra={"archive": str(path)})
    except OSError as exc:
        log.error(
            "old archives not expired", extra={"archive_dir": str(directory), "error": str(exc)}
        )
    until = started + _start_patience(settings)
    imported, database = _import_pending(engine, settings, now, directory, until)
    cycle_id = str(uuid.uuid4())
    own = _open_archive(directory, now(), cycle_id)
    copies = _Copies(own, copy)
    try:
        report = collect_cycle(
            engine,
            settings,
            now,
            copies,
            cycle_id=cycle_id,
            database=database,
            known_parks=lambda: spool.last_parks(directory, besides=own.path if own else None),
        )
    except BaseException:
        _close_archive(own, stored=False)
        raise
    _close_archive(own, stored=not report.unstored)
    if own is not None and own.records and not copies.failed:
        report.archive = own.path
    if report.unstored and report.archive is None:
        log.error(
            "answers not stored, and the cycle's archive is missing or incomplete",
            extra={"cycle_id": cycle_id, "unstored": report.unstored},
        )
    report.imported = imported
    report.pending_archives = len(spool.pending(directory))
    if report.pending_archives:
        log.warning(
            "archives pending: their answers wait for the database",
            extra={"archive_dir": str(directory), "pending": report.pending_archives},
        )
    return report


def _import_pending(
    engine: Engine, settings: Settings, now: Clock, directory: Path, until: float
) -> tuple[int, bool]:
    """Earlier cycles' pending archives, oldest first, each mark cleared once its
    archive is in (what is stored already is skipped). Returns the polls stored, and
    False when the database is unreachable: the rest stay pending, and this cycle stores
    nothing either, so that every park's polls still arrive in time order.

    An archive that fails for any other reason stays pending and the others go on:
    one bad file must not stop collection (`check` reports it once it is old).
    """
    stored = 0
    for path in spool.pending(directory):
        try:
            result = retried(until, import_archives, engine, [path], settings, now=now)
        except Exception as exc:
            if connection_lost(exc):
                log.error(
                    "database unreachable: pending archives stay pending",
                    extra={"archive": str(path), "error": _reason(exc)},
                )
                return stored, False
            log.exception(
                "pending archive not imported; it stays pending", extra={"archive": str(path)}
            )
            continue
        spool.mark_stored(path)
        stored += result.stored
        log.info(
            "pending archive imported",
            extra={
                "archive": str(path),
                "stored": result.stored,
                "duplicates": result.duplicates,
                "bad_lines": len(result.bad_lines),
            },
        )
    return stored, True


def _open_archive(directory: Path, started: datetime, cycle_id: str) -> spool.CycleArchive | None:
    try:
        return spool.CycleArchive(directory, started, cycle_id)
    except OSError as exc:
        log.error(
            "the cycle's archive cannot be written: collecting without it",
            extra={"archive_dir": str(directory), "error": str(exc)},
        )
        return None


def _close_archive(own: spool.CycleArchive | None, *, stored: bool) -> None:
    if own is None:
        return
    try:
        own.close(stored=stored)
    except OSError as exc:
        log.error(
            "the cycle's archive did not close", extra={"archive": str(own.path), "error": str(exc)}
        )


class _Copies:
    """Each record into the cycle's own archive, then the `--archive` copy. The own
    archive failing (a full disk) is logged and the cycle goes on without it, since the
    database may well store everything; the copy fails the cycle, as it always has."""

    def __init__(self, own: spool.CycleArchive | None, copy: ArchiveWriter | None) -> None:
        self.own = own
        self.copy = copy
        self.failed = False

    def write(self, record: ArchiveRecord) -> None:
        if self.own is not None and not self.failed:
            try:
                self.own.write(record)
            except OSError as exc:
                self.failed = True
                log.error(
                    "the cycle's archive cannot be written: going on without it",
                    extra={"archive": str(self.own.path), "error": str(exc)},
                )
        if self.copy is not None:
            self.copy.write(record)


def collect_cycle(
    engine: Engine,
    settings: Settings,
    now: Clock,
    archive: Archive | None = None,
    *,
    cycle_id: str | None = None,
    database: bool = True,
    known_parks: Callable[[], list[int]] | None = None,
) -> CycleReport:
    """One cycle; every answer goes to `archive` (when given) before it is stored.

    A dropped connection is retried until the deadline. What could not be stored by
    then, and everything when the database is unreachable at the start (or `database`
    is False), is counted in `report.unstored`: it is in `archive` alone. The parks to
    fetch are then `known_parks()`; with none, CollectError before anything is fetched.
    """
    return _Cycle(engine, settings, now, archive, cycle_id or str(uuid.uuid4()), database).run(
        known_parks
    )


class _Cycle:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        now: Clock,
        archive: Archive | None,
        cycle_id: str,
        database: bool,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.now = now
        self.archive = archive
        self.database = database
        self.started = time.monotonic()
        self.deadline = self.started + settings.collect_deadline_seconds
        self.start_deadline = self.started + _start_patience(settings)
        self.report = CycleReport(cycle_id=cycle_id)
        self.store = PollStore(
            engine,
            cycle_id=cycle_id,
            source="collect",
            rules=PollRules.from_settings(settings),
            now=now,
        )
        self.client = client_for(settings, settings.queue_times_base_url, self.deadline)
        self.wiki_client = client_for(settings, settings.themeparks_wiki_base_url, self.deadline)

    def run(self, known_parks: Callable[[], list[int]] | None) -> CycleReport:
        report = self.report
        try:
            park_ids = self._park_ids(known_parks)
            report.parks = len(park_ids)
            self._fetch_all(park_ids)
        finally:
            self.client.close()
            self.wiki_client.close()
        report.duration_seconds = time.monotonic() - self.started
        log.info(
            "collection cycle finished",
            extra={
                "cycle_id": report.cycle_id,
                "parks": report.parks,
                "outcomes": dict(report.outcomes),
                "stored": report.stored,
                "duplicates": report.duplicates,
                "unstored": report.unstored,
                "operating_parks": report.active_parks,
                "ride_readings": report.rides,
                "status_changes": report.status_changes,
                "data_quality_issues": report.issues,
                "catalogue": report.catalogue,
                "duration_seconds": round(report.duration_seconds, 3),
            },
        )
        return report

    def _park_ids(self, known_parks: Callable[[], list[int]] | None) -> list[int]:
        if self.database:
            try:
                self._refresh_catalogue()
                park_ids = retried(self.start_deadline, _read, self.engine, queries.active_park_ids)
            except DBAPIError as exc:
                if not connection_lost(exc):
                    raise
                log.error(
                    "database unreachable at the start of the cycle: fetching the parks "
                    "of the last archived cycle and keeping every answer for the next",
                    extra={"cycle_id": self.report.cycle_id, "error": _reason(exc)},
                )
                self.database = False
            else:
                if not park_ids:
                    raise CollectError("no active park to collect: run sync-parks first")
                return park_ids
        park_ids = known_parks() if known_parks else []
        if not park_ids:
            raise CollectError(
                "the database is unreachable and no archived cycle names the parks to "
                "fetch: nothing fetched"
            )
        return park_ids

    def _refresh_catalogue(self) -> None:
        report, archive = self.report, self.archive
        synced_at = retried(self.start_deadline, _read, self.engine, queries.catalogue_synced_at)
        fetched_at = self.now().replace(microsecond=0)
        max_age = timedelta(hours=self.settings.catalogue_max_age_hours)
        if synced_at and fetched_at - synced_at < max_age:
            report.catalogue = "fresh"
            return
        try:
            fetched = self.client.get("/parks.json")
            document = decode_json(fetched.body)
            if archive:
                archive.write(ParksRecord(fetched_at, _archivable(fetched.body, document)))
            self._sync(document, fetched_at)
            report.catalogue = "refreshed"
        except (FetchError, SourceError, ValueError) as exc:
            if archive:
                archive.write(ErrorRecord(None, fetched_at, f"catalogue: {exc}"))
            if synced_at is None:
                raise CollectError(f"cannot load the park catalogue: {exc}") from None
            log.warning("catalogue refresh failed; using the stored one", extra={"error": str(exc)})
            report.catalogue = "stale"

    def _sync(self, document: Any, fetched_at: datetime) -> None:
        try:
            retried(
                self.start_deadline,
                sync_parks,
                self.engine,
                document,
                source="parks.json",
                scope=self.settings.scope(),
                now=fetched_at,
            )
        except DBAPIError as exc:
            if connection_lost(exc):
                self.report.catalogue = "kept"
                self.report.unstored += 1
            raise

    def _fetch_all(self, park_ids: list[int]) -> None:
        now, deadline = self.now, self.deadline
        second = self._second_source(park_ids)
        # Each source has its own pool, sized to its own upstream's limits: the second
        # source's asks wait behind no Queue-Times fetch, and the other way round.
        with (
            ThreadPoolExecutor(self.settings.collect_concurrency, "collect") as pool,
            ThreadPoolExecutor(self.settings.themeparks_wiki_concurrency, "collect-wiki") as side,
        ):
            pending = {
                pool.submit(_fetch, self.client, park_id, now): park_id for park_id in park_ids
            }
            asked = {
                side.submit(_fetch_wiki, self.wiki_client, ask, now): ask for ask in second.asks
            }
            while pending or asked:
                running: list[Future[Any]] = [*pending, *asked]
                done, _ = wait(
                    running,
                    timeout=max(0.0, deadline - time.monotonic()),
                    return_when=FIRST_COMPLETED,
                )
                if not done:
                    break
                for future in done:
                    if future in asked:
                        asked.pop(future)
                        self._record_wiki(future.result(), second)
                        continue
                    pending.pop(future)
                    fetch = future.result()
                    self._record(fetch.poll, fetch.body)
            for future in asked:
                future.cancel()
                self.report.wiki_answers["timeout"] += 1
            for future, park_id in pending.items():
                future.cancel()
                poll = PollInput(
                    park_id,
                    now().replace(microsecond=0),
                    outcome="timeout",
                    error="timeout: cycle deadline passed",
                )
                self._record(poll, None)

    def _second_source(self, park_ids: list[int]) -> _WikiPlan:
        """The paired parks' ThemeParks.wiki answers to fetch this cycle: every one's
        live answer, and its schedule the first time and then once a park day, at the
        day's first cycle (so the parks of each timezone fetch theirs at their own 04:00,
        not all in one cycle). None when the source is off, the database is unreachable
        or the overrides cannot be read."""
        found = _WikiPlan()
        if not (self.settings.themeparks_wiki_enabled and self.database):
            return found
        try:
            found.overrides = read_overrides(self.settings)
            paired, fetched, found.zones = retried(self.start_deadline, _read, self.engine, _paired)
        except MappingError as exc:
            log.error("ThemeParks.wiki not fetched", extra={"error": str(exc)})
            return found
        except DBAPIError as exc:
            if not connection_lost(exc):
                raise
            return found
        now, rules = self.now(), self.settings.day_rules()
        for park_id in park_ids:
            if park_id in paired:
                found.asks.append(_WikiAsk(park_id, paired[park_id], "live"))
                zone = ZoneInfo(found.zones[park_id])
                last = fetched.get(park_id)
                if last is None or park_day_of(last, zone, rules) < park_day_of(now, zone, rules):
                    found.asks.append(_WikiAsk(park_id, paired[park_id], "schedule"))
                if last is None or now - last > timedelta(days=SCHEDULE_DAYS):
                    # Days of this month before now that no fetch covered: the month's
                    # published hours fill those (and only those) that have none.
                    month = now.astimezone(zone)
                    path = f"schedule/{month.year}/{month.month:02d}"
                    found.asks.append(_WikiAsk(park_id, paired[park_id], "month", path))
        return found

    def _record_wiki(self, fetched: _WikiFetch, second: _WikiPlan) -> None:
        """Archive, then store, a ThemeParks.wiki answer; a failure is counted and
        logged, and never touches the Queue-Times polls."""
        ask, report = fetched.ask, self.report
        if fetched.body is None:  # not archived: an error line is a failed poll of the park
            report.wiki_answers[f"{ask.kind} failed"] += 1
            log.warning(
                "ThemeParks.wiki answer not fetched",
                extra={"park_id": ask.park_id, "kind": ask.kind, "error": fetched.error},
            )
            return
        try:
            document = decode_json(fetched.body)
        except SourceError as exc:
            report.wiki_answers[f"{ask.kind} failed"] += 1
            log.warning(
                "ThemeParks.wiki answer not JSON", extra={"park_id": ask.park_id, "error": str(exc)}
            )
            return
        record_type = WikiLiveRecord if ask.kind == "live" else WikiScheduleRecord
        if self.archive:
            self.archive.write(
                record_type(ask.park_id, fetched.fetched_at, _archivable(fetched.body, document))
            )
        if not self.database:
            return
        zone = ZoneInfo(second.zones[ask.park_id])

        def store(conn: Connection) -> object:
            rules = self.settings.day_rules()
            writes.lock_parks(conn, [ask.park_id], changing=True)
            day, now = park_day_of(fetched.fetched_at, zone, rules), self.now()
            if ask.kind == "live":
                store_live(
                    conn, ask.park_id, fetched.fetched_at, document, second.overrides, day, now
                )
            else:
                store_schedule(conn, ask.park_id, fetched.fetched_at, document, zone, day, now)
            # The park's poll of this cycle may be stored already: its day, and its live
            # status, take these statuses or hours now.
            stats = StatsRules(self.settings.state_rules(), rules)
            for stale in queries.stale_days_of(conn, ask.park_id):
                refresh_park_day(conn, ask.park_id, zone, stale, now=now, rules=stats)
            return None

        try:
            transaction(self.engine, store)
            report.wiki_answers[ask.kind] += 1
        except Exception:  # the second source never stops the first: counted and logged
            log.exception(
                "ThemeParks.wiki answer not stored",
                extra={"park_id": ask.park_id, "kind": ask.kind},
            )
            report.wiki_answers[f"{ask.kind} not stored"] += 1

    def _record(self, poll: PollInput, body: bytes | None) -> None:
        """Archive the answer, then store it, retrying a dropped connection until the
        deadline; past it the database counts as down for the rest of the cycle."""
        if self.archive:
            if body is not None:
                self.archive.write(
                    QueueTimesRecord(poll.park_id, poll.fetched_at, _archivable(body, poll.payload))
                )
            else:
                self.archive.write(
                    ErrorRecord(poll.park_id, poll.fetched_at, poll.error or poll.outcome)
                )
        if self.database:
            try:
                _count(self.report, retried(self.deadline, self.store.store, poll))
                return
            except DBAPIError as exc:
                if not connection_lost(exc):
                    raise
                log.error(
                    "database unreachable until the cycle's deadline: the rest of its "
                    "answers are kept in its archive for the next cycle",
                    extra={"cycle_id": self.report.cycle_id, "error": _reason(exc)},
                )
                self.database = False
        self.report.outcomes[poll.outcome] += 1
        self.report.unstored += 1


@dataclass(frozen=True)
class _Fetch:
    poll: PollInput
    body: bytes | None


@dataclass(frozen=True)
class _WikiAsk:
    park_id: int
    wiki_id: str
    kind: str
    """`live`, `schedule` (today and the next 30 days) or `month` (a month's days)."""
    path: str = ""
    """After `/entity/{id}/`; the kind's own name when empty."""


@dataclass
class _WikiPlan:
    asks: list[_WikiAsk] = field(default_factory=list)
    overrides: Overrides = NO_OVERRIDES
    zones: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _WikiFetch:
    ask: _WikiAsk
    fetched_at: datetime
    body: bytes | None
    error: str | None


def _fetch_wiki(client: HttpClient, ask: _WikiAsk, now: Clock) -> _WikiFetch:
    fetched_at = now().replace(microsecond=0)
    path = f"/entity/{ask.wiki_id}/{ask.path or ask.kind}"
    try:
        return _WikiFetch(ask, fetched_at, client.get(path).body, None)
    except FetchError as exc:
        return _WikiFetch(ask, fetched_at, None, str(exc))


def _fetch(client: HttpClient, park_id: int, now: Clock) -> _Fetch:
    # Whole seconds, as the archive records them: a re-import must find the same poll.
    fetched_at = now().replace(microsecond=0)
    try:
        fetched = client.get(f"/parks/{park_id}/queue_times.json")
    except FetchError as exc:
        poll = PollInput(
            park_id, fetched_at, outcome=exc.outcome, error=str(exc), http_status=exc.status
        )
        return _Fetch(poll, None)
    try:
        payload = decode_json(fetched.body)
    except SourceError as exc:
        poll = PollInput(
            park_id,
            fetched_at,
            outcome="invalid_payload",
            error=f"invalid_payload: {exc}",
            http_status=fetched.status,
            duration_ms=fetched.duration_ms,
        )
        return _Fetch(poll, None)
    poll = PollInput(
        park_id, fetched_at, payload, http_status=fetched.status, duration_ms=fetched.duration_ms
    )
    return _Fetch(poll, fetched.body)


def _archivable(body: bytes, decoded: Any) -> Any:
    """The exact bytes served, unless they span lines (an archive record is one line)."""
    return body if b"\n" not in body and b"\r" not in body else decoded


def _count(report: CycleReport, result: StoredPoll) -> None:
    report.outcomes[result.outcome] += 1
    if result.status == "duplicate":
        report.duplicates += 1
        return
    if result.status == "late":  # for a closed day: possible only with a clock far behind
        log.warning("poll for a closed day not stored", extra={"day": str(result.day)})
        return
    report.stored += result.status == "stored"
    report.rides += result.rides
    report.status_changes += result.status_changes
    report.issues += result.issues
    report.active_parks += result.is_active


def _paired(conn: Connection) -> tuple[dict[int, str], dict[int, datetime], dict[int, str]]:
    return wiki.stored_parks(conn), wiki.schedules_fetched(conn), queries.park_timezones(conn)
