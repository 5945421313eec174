"""One collection cycle: refresh the catalogue when stale, fetch every active park, store.

Fetches run concurrently (bounded); storing happens on the calling thread as answers
arrive, one transaction per park, so that SQLite never sees competing writers.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from themepark_tracker.archive import ArchiveWriter, ErrorRecord, ParksRecord, QueueTimesRecord
from themepark_tracker.config import Settings
from themepark_tracker.ingest import PollInput
from themepark_tracker.jobs.polls import PollRules, PollStore, StoredPoll
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.sources.queue_times import FetchError, QueueTimesClient, SourceError
from themepark_tracker.storage import queries

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class CollectError(Exception):
    """The cycle could not run at all."""


class AlreadyRunning(Exception):
    """Another collect holds the lock."""


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
    catalogue: str = "fresh"
    duration_seconds: float = 0.0

    @property
    def failed(self) -> int:
        return self.parks - self.outcomes["ok"]

    def exit_code(self, threshold: float) -> int:
        """0 complete (failures within the threshold), 3 partial."""
        if self.parks and self.failed / self.parks > threshold:
            return 3
        return 0

    def summary(self) -> str:
        outcomes = ", ".join(f"{n} {name}" for name, n in sorted(self.outcomes.items()))
        return (
            f"cycle {self.cycle_id}: {self.parks} parks ({outcomes or 'none'}), "
            f"{self.active_parks} operating, {self.rides} ride readings, "
            f"{self.status_changes} status changes, {self.issues} data-quality issues, "
            f"catalogue {self.catalogue}, {self.duration_seconds:.1f} s"
        )


def collect_cycle(
    engine: Engine, settings: Settings, now: Clock, archive: ArchiveWriter | None = None
) -> CycleReport:
    started = time.monotonic()
    deadline = started + settings.collect_deadline_seconds
    report = CycleReport(cycle_id=str(uuid.uuid4()))
    store = PollStore(
        engine,
        cycle_id=report.cycle_id,
        source="collect",
        rules=PollRules.from_settings(settings),
        now=now,
    )
    client = QueueTimesClient(
        settings.queue_times_base_url,
        timeout=settings.http_timeout_seconds,
        user_agent=settings.user_agent,
        attempts=settings.collect_attempts,
        retry_wait=settings.retry_wait_seconds,
        pool_size=settings.collect_concurrency,
        deadline=deadline,
    )
    try:
        report.catalogue = _refresh_catalogue(engine, settings, client, now, archive)
        with engine.connect() as conn:
            park_ids = queries.active_park_ids(conn)
        if not park_ids:
            raise CollectError("no active park to collect: run sync-parks first")
        report.parks = len(park_ids)
        with ThreadPoolExecutor(settings.collect_concurrency, "collect") as pool:
            pending = {pool.submit(_fetch, client, park_id, now): park_id for park_id in park_ids}
            while pending:
                done, _ = wait(
                    pending,
                    timeout=max(0.0, deadline - time.monotonic()),
                    return_when=FIRST_COMPLETED,
                )
                if not done:
                    break
                for future in done:
                    pending.pop(future)
                    fetch = future.result()
                    _record(store, fetch.poll, fetch.body, report, archive)
            for future, park_id in pending.items():
                future.cancel()
                poll = PollInput(
                    park_id,
                    now().replace(microsecond=0),
                    outcome="timeout",
                    error="timeout: cycle deadline passed",
                )
                _record(store, poll, None, report, archive)
    finally:
        client.close()
    report.duration_seconds = time.monotonic() - started
    log.info(
        "collection cycle finished",
        extra={
            "cycle_id": report.cycle_id,
            "parks": report.parks,
            "outcomes": dict(report.outcomes),
            "stored": report.stored,
            "duplicates": report.duplicates,
            "operating_parks": report.active_parks,
            "ride_readings": report.rides,
            "status_changes": report.status_changes,
            "data_quality_issues": report.issues,
            "catalogue": report.catalogue,
            "duration_seconds": round(report.duration_seconds, 3),
        },
    )
    return report


def _refresh_catalogue(
    engine: Engine,
    settings: Settings,
    client: QueueTimesClient,
    now: Clock,
    archive: ArchiveWriter | None,
) -> str:
    with engine.connect() as conn:
        synced_at = queries.catalogue_synced_at(conn)
    fetched_at = now().replace(microsecond=0)
    if synced_at and fetched_at - synced_at < timedelta(hours=settings.catalogue_max_age_hours):
        return "fresh"
    try:
        fetched = client.get("/parks.json")
        document = json.loads(fetched.body)
        if archive:
            archive.write(ParksRecord(fetched_at, _archivable(fetched.body, document)))
        sync_parks(engine, document, source="parks.json", scope=settings.scope(), now=fetched_at)
        return "refreshed"
    except (FetchError, SourceError, ValueError) as exc:
        if archive:
            archive.write(ErrorRecord(None, fetched_at, f"catalogue: {exc}"))
        if synced_at is None:
            raise CollectError(f"cannot load the park catalogue: {exc}") from None
        log.warning("catalogue refresh failed; using the stored one", extra={"error": str(exc)})
        return "stale"


@dataclass(frozen=True)
class _Fetch:
    poll: PollInput
    body: bytes | None


def _fetch(client: QueueTimesClient, park_id: int, now: Clock) -> _Fetch:
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
        payload = json.loads(fetched.body)
    except ValueError as exc:
        poll = PollInput(
            park_id,
            fetched_at,
            outcome="invalid_payload",
            error=f"invalid_payload: not JSON: {exc}",
            http_status=fetched.status,
            duration_ms=fetched.duration_ms,
        )
        return _Fetch(poll, None)
    poll = PollInput(
        park_id, fetched_at, payload, http_status=fetched.status, duration_ms=fetched.duration_ms
    )
    return _Fetch(poll, fetched.body)


def _record(
    store: PollStore,
    poll: PollInput,
    body: bytes | None,
    report: CycleReport,
    archive: ArchiveWriter | None,
) -> None:
    if archive:
        if body is not None:
            archive.write(
                QueueTimesRecord(poll.park_id, poll.fetched_at, _archivable(body, poll.payload))
            )
        else:
            archive.write(ErrorRecord(poll.park_id, poll.fetched_at, poll.error or poll.outcome))
    _count(report, store.store(poll))


def _archivable(body: bytes, decoded: Any) -> Any:
    """The exact bytes served, unless they span lines (an archive record is one line)."""
    return body if b"\n" not in body and b"\r" not in body else decoded


def _count(report: CycleReport, result: StoredPoll) -> None:
    report.outcomes[result.outcome] += 1
    if result.status == "duplicate":
        report.duplicates += 1
        return
    report.stored += result.status == "stored"
    report.rides += result.rides
    report.status_changes += result.status_changes
    report.issues += result.issues
    report.active_parks += result.is_active
