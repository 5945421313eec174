"""Import archives through the very path `collect` uses: same parsing, same storage."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from themepark_tracker.archive import (
    ArchiveLine,
    ArchiveRecord,
    ErrorRecord,
    ParksRecord,
    QueueTimesRecord,
    WikiLiveRecord,
    WikiScheduleRecord,
    read_archive,
)
from themepark_tracker.config import Settings
from themepark_tracker.engine.sessions import park_day_of
from themepark_tracker.ingest import PollInput
from themepark_tracker.jobs.polls import PollRules, PollStore
from themepark_tracker.jobs.second_source import store_live, store_schedule
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.jobs.wiki_map import read_overrides
from themepark_tracker.sources.queue_times import SourceError
from themepark_tracker.storage import queries
from themepark_tracker.storage.db import transaction
from themepark_tracker.storage.tables import POLL_OUTCOMES

log = logging.getLogger(__name__)


class ImportStopped(Exception):
    """--strict met a bad line."""


@dataclass
class ImportReport:
    import_id: str
    records: int = 0
    stored: int = 0
    duplicates: int = 0
    unknown_park: int = 0
    late: Counter[tuple[int, date]] = field(default_factory=Counter)
    """Polls refused per closed (park, day): its polls were deleted by `cleanup`."""
    catalogues: int = 0
    wiki_answers: int = 0
    """ThemeParks.wiki answers stored (a re-import finds them stored)."""
    failed_fetches: int = 0
    bad_lines: list[str] = field(default_factory=list)
    duration_seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.records} records: {self.stored} polls stored, {self.duplicates} already "
            f"stored, {self.unknown_park} for unknown parks, {self.catalogues} catalogues, "
            + (f"{self.wiki_answers} ThemeParks.wiki answers, " if self.wiki_answers else "")
            + f"{len(self.bad_lines)} bad lines"
            + (f", {self.late.total()} late for closed days" if self.late else "")
            + f", in {self.duration_seconds:.1f} s"
        )

    def late_days(self) -> list[str]:
        """`park 16 2026-07-02: 140 polls`, one per closed day that was sent polls."""
        return [
            f"park {park_id} {day}: {count} polls"
            for (park_id, day), count in sorted(self.late.items())
        ]


#: Polls written per transaction: an import is idempotent, so it need not commit each one.
BATCH = 1000


def import_archives(
    engine: Engine,
    paths: Sequence[Path],
    settings: Settings,
    *,
    strict: bool = False,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ImportReport:
    """Import every record; a bad line is reported with its place and skipped.

    Files are taken in the order of their first record's time, records in file order,
    so each park's polls arrive in time order as the collector wrote them. `now` is the
    clock that says which day is each park's current one. `batch` polls are stored per
    transaction; their days' statistics are recomputed at the end, at each catalogue
    record, and by the next import or `aggregate` should this one be killed before.
    """
    started = time.monotonic()
    report = ImportReport(import_id=str(uuid.uuid4()))
    store = PollStore(
        engine,
        cycle_id=report.import_id,
        source="import",
        rules=PollRules.from_settings(settings),
        now=now,
        defer_stats=True,
    )
    pending: list[PollInput] = []
    second = _SecondSource(engine, settings, report, now)
    for path in sorted(paths, key=_first_time):
        for line in read_archive(path):
            if progress:
                progress(1)
            if line.error is not None:
                report.bad_lines.append(str(line))
                log.warning("bad archive line", extra={"where": str(line)})
                if strict:
                    _flush(store, pending, report)
                    second.flush()
                    store.refresh_stats()
                    raise ImportStopped(str(line))
                continue
            report.records += 1
            record = line.record
            if isinstance(record, WikiLiveRecord | WikiScheduleRecord):
                second.pending.append(record)
                continue
            if isinstance(record, ParksRecord):
                _flush(store, pending, report)
                second.flush()
                store.refresh_stats()
                _sync_catalogue(engine, line, record, settings, report)
                store.forget()
                continue
            poll = _poll(record, report)
            if poll is not None:
                pending.append(poll)
            if len(pending) >= batch:
                _flush(store, pending, report)
                second.flush()
    _flush(store, pending, report)
    second.flush()
    store.refresh_stats()
    report.duration_seconds = time.monotonic() - started
    log.info(
        "archive import finished",
        extra={
            "import_id": report.import_id,
            "files": len(paths),
            "records": report.records,
            "stored": report.stored,
            "duplicates": report.duplicates,
            "unknown_park": report.unknown_park,
            "late": report.late.total(),
            "bad_lines": len(report.bad_lines),
            "duration_seconds": round(report.duration_seconds, 3),
        },
    )
    return report


class _SecondSource:
    """ThemeParks.wiki answers, stored after the polls read before them, whose rides
    they may be paired with; one transaction for each flush."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        report: ImportReport,
        now: Callable[[], datetime],
    ) -> None:
        self.engine, self.settings, self.report, self.now = engine, settings, report, now
        self.pending: list[WikiLiveRecord | WikiScheduleRecord] = []

    def flush(self) -> None:
        if not self.pending:
            return
        overrides, rules = read_overrides(self.settings), self.settings.day_rules()
        records, self.pending = self.pending, []

        def store(conn: Connection) -> int:
            zones = queries.park_timezones(conn)
            stored = 0
            for record in records:
                if record.park_id not in zones:
                    self.report.unknown_park += 1
                    continue
                zone = ZoneInfo(zones[record.park_id])
                if isinstance(record, WikiLiveRecord):
                    day = park_day_of(record.fetched_at, zone, rules)
                    if queries.is_closed(conn, record.park_id, day):
                        self.report.late[(record.park_id, day)] += 1  # its polls are gone
                        continue
                    stored += store_live(
                        conn,
                        record.park_id,
                        record.fetched_at,
                        record.payload,
                        overrides,
                        day,
                        self.now(),
                    )
                else:
                    today = park_day_of(record.fetched_at, zone, rules)
                    store_schedule(
                        conn,
                        record.park_id,
                        record.fetched_at,
                        record.payload,
                        zone,
                        today,
                        self.now(),
                    )
                    stored += 1
            return stored

        self.report.wiki_answers += transaction(self.engine, store)


def _flush(store: PollStore, pending: list[PollInput], report: ImportReport) -> None:
    for poll, result in zip(pending, store.store_many(pending) if pending else [], strict=True):
        if result.status == "stored":
            report.stored += 1
        elif result.status == "duplicate":
            report.duplicates += 1
        elif result.status == "late" and result.day is not None:
            report.late[(poll.park_id, result.day)] += 1
        else:
            report.unknown_park += 1
    pending.clear()


def _sync_catalogue(
    engine: Engine, line: ArchiveLine, record: ParksRecord, settings: Settings, report: ImportReport
) -> None:
    try:
        sync_parks(
            engine,
            record.payload,
            source=f"{line.path}:{line.line_number}",
            scope=settings.scope(),
            now=record.fetched_at,
        )
    except SourceError as exc:
        report.bad_lines.append(f"{line.path}:{line.line_number}: {exc}")
        return
    report.catalogues += 1


def _poll(record: ArchiveRecord | None, report: ImportReport) -> PollInput | None:
    """A stored poll, keyed like a collected one by its whole second."""
    if isinstance(record, QueueTimesRecord):
        return PollInput(record.park_id, record.fetched_at.replace(microsecond=0), record.payload)
    report.failed_fetches += 1
    if isinstance(record, ErrorRecord) and record.park_id is not None:
        outcome = record.error.partition(":")[0]
        status = re.search(r"\bHTTP (\d{3})\b", record.error)
        return PollInput(
            record.park_id,
            record.fetched_at.replace(microsecond=0),
            outcome=outcome if outcome in POLL_OUTCOMES and outcome != "ok" else "http_error",
            error=record.error,
            http_status=int(status.group(1)) if status else None,
        )
    return None


def _first_time(path: Path) -> str:
    """Sort key: the first readable record's time (files that cannot be read sort last)."""
    try:
        for line in read_archive(path):
            if line.record is not None:
                return line.record.fetched_at.isoformat()
    except OSError:
        pass
    return "~"
