"""The collector's own archives (ARCHIVE_DIR): each cycle's answers on local disk before
the database is asked to store them, so that a database outage costs no data.

One gzip archive per cycle, named by the cycle's start (UTC) and id, e.g.
`collect-20260704T180000Z-1a2b3c4d.jsonl.gz`. Per cycle rather than per UTC day because
the cycle is what succeeds or fails: a pending archive then holds exactly the answers
of one cycle, the next cycle replays those rather than a day of duplicates, and an
archive is never written to again once its cycle has ended.

An archive is pending from the moment it is created until everything in it is stored:
the mark is an empty `<archive>.pending` beside it. A collector killed mid-cycle thus
leaves its answers pending too, and the next cycle imports them (what is stored already
is skipped). Retention never deletes a pending archive: it may be the only copy.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from themepark_tracker.archive import (
    ArchiveRecord,
    ArchiveWriter,
    ErrorRecord,
    QueueTimesRecord,
    read_archive,
)
from themepark_tracker.checks import ArchiveFacts

log = logging.getLogger(__name__)

MARK = ".pending"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"collect-([0-9]{8}T[0-9]{6}Z)-[0-9a-f]+\.jsonl\.gz")


def archive_name(started: datetime, cycle_id: str) -> str:
    """The file name of a cycle's archive: its start to the second, then its id."""
    utc = started.astimezone(UTC)
    stamp = f"{utc.year:04d}{utc:%m%dT%H%M%SZ}"  # %Y does not pad years before 1000
    return f"collect-{stamp}-{cycle_id.replace('-', '')[:8]}.jsonl.gz"


def started_at(path: Path) -> datetime | None:
    """When the cycle of a collector's archive started; None for any other file."""
    match = _NAME.fullmatch(path.name)
    if match is None:
        return None
    return datetime.strptime(match[1], _STAMP).replace(tzinfo=UTC)


def mark_of(path: Path) -> Path:
    return path.with_name(path.name + MARK)


def archives(directory: Path) -> list[Path]:
    """The collector's archives in `directory`, oldest first; other files are not ours."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if started_at(path) is not None)


def pending(directory: Path) -> list[Path]:
    """Archives whose answers are not all stored yet, oldest first."""
    return [path for path in archives(directory) if mark_of(path).exists()]


def mark_stored(path: Path) -> None:
    mark_of(path).unlink(missing_ok=True)


class CycleArchive:
    """This cycle's archive, pending from before its first record until `close(stored=True)`."""

    def __init__(self, directory: Path, started: datetime, cycle_id: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / archive_name(started, cycle_id)
        mark_of(self.path).touch()
        self.records = 0
        try:
            self._writer = ArchiveWriter(self.path)
        except OSError:
            mark_stored(self.path)
            raise

    def write(self, record: ArchiveRecord) -> None:
        self._writer.write(record)
        self.records += 1

    def close(self, *, stored: bool) -> None:
        """`stored`: everything written is in the database, so the mark goes. An archive
        that got no record at all is removed."""
        self._writer.close()
        if not self.records:
            self.path.unlink(missing_ok=True)
            mark_stored(self.path)
        elif stored:
            mark_stored(self.path)


def expire(directory: Path, now: datetime, days: int) -> list[Path]:
    """Delete the archives of cycles that started more than `days` ago, except pending
    ones, and marks whose archive is gone (nothing is left to import). Returns what went."""
    cutoff = now - timedelta(days=days)
    removed = []
    for path in archives(directory):
        at = started_at(path)
        if at is not None and at < cutoff and not mark_of(path).exists():
            path.unlink(missing_ok=True)
            removed.append(path)
    for mark in directory.glob(f"collect-*{MARK}") if directory.is_dir() else []:
        if not mark.with_name(mark.name.removesuffix(MARK)).exists():
            log.warning("pending mark without its archive removed", extra={"mark": str(mark)})
            mark.unlink(missing_ok=True)
    return removed


def last_parks(directory: Path, *, besides: Path | None = None) -> list[int]:
    """The parks the newest archived cycle fetched (every park of a cycle gets a record:
    its answer, its failure or its timeout): whom to fetch when the database cannot say."""
    for path in reversed(archives(directory)):
        if path == besides:
            continue
        try:
            found = {
                line.record.park_id
                for line in read_archive(path)
                if isinstance(line.record, QueueTimesRecord | ErrorRecord)
                and line.record.park_id is not None
            }
        except OSError as exc:
            log.warning("archive unreadable", extra={"archive": str(path), "error": str(exc)})
            continue
        if found:
            return sorted(found)
    return []


def facts(directory: Path) -> ArchiveFacts:
    """What `check` judges: when each pending archive's cycle started, and whether
    `collect` could write an archive there at all."""
    problem = unwritable(directory)
    try:
        starts = [started_at(path) for path in pending(directory)]
    except OSError as exc:
        return ArchiveFacts((), problem or f"{directory} cannot be read: {exc.strerror or exc}")
    return ArchiveFacts(tuple(at for at in starts if at is not None), problem)


def unwritable(directory: Path) -> str | None:
    """Why `collect` could not write its archive into `directory`, or None when it can:
    a real file is made and removed when the directory exists, else the directory must
    be creatable in its nearest existing parent."""
    if directory.exists():
        if not directory.is_dir():
            return f"{directory} is not a directory"
        try:
            with tempfile.TemporaryFile(dir=directory):
                pass
        except OSError as exc:
            return f"{directory} is not writable: {exc.strerror or exc}"
        return None
    parent = directory.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{directory} cannot be created: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{directory} cannot be created: {parent} is not writable"
    return None
