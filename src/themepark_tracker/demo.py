"""The demo: a database with weeks of simulated history, then the whole system running
on this machine with no internet: the local feed, a collector cycle every minute
against it, and the API with the dashboard.

The feed's world is deterministic (`FeedModel` with a fixed seed), so the history
imported from an archive and the live polls that follow are one continuous story. A
second run reuses the database and only fills the gap since its last poll.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from themepark_tracker.archive import count_lines
from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.config import Settings
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.feed.recording import poll_instants, record_archive
from themepark_tracker.feed.server import FeedClock, running_server
from themepark_tracker.jobs.aggregate import aggregate
from themepark_tracker.jobs.classify import classify_rides
from themepark_tracker.jobs.collect import collect_cycle
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.sources.queue_times import read_json_file
from themepark_tracker.storage import migrate, queries
from themepark_tracker.storage.health import facts

log = logging.getLogger(__name__)
INTERVAL = timedelta(minutes=10)

#: A progress bar for (what, how many steps): a context manager whose value has
#: `update(steps)`, as `click.progressbar` makes.
Progress = Callable[[str, int], AbstractContextManager[Any]]


@dataclass(frozen=True)
class History:
    start: datetime | None
    polls: int


def fill_history(
    engine: Engine,
    settings: Settings,
    model: FeedModel,
    now: datetime,
    days: int,
    progress: Progress,
) -> History:
    """Simulated polls every 10 minutes from `days` ago (or from the last stored poll) up
    to `now`, recorded as an archive and imported; then tiers and final days."""
    migrate.upgrade(engine)
    with engine.connect() as conn:
        known = bool(queries.stored_parks(conn))
        last = facts(conn, INTERVAL, now).last_collection_at
    if not known:
        document = read_json_file(SAMPLE_PARKS_FILE)
        sync_parks(engine, document, source="demo", scope=settings.scope(), now=now)
    start = now - timedelta(days=days) if last is None else last + timedelta(seconds=1)
    cycles = len(list(poll_instants(start, now, INTERVAL)))
    if not cycles:
        return History(None, 0)
    with tempfile.TemporaryDirectory() as workdir:
        archive = Path(workdir) / "history.jsonl"
        with progress("simulating the feed", cycles) as bar:
            record_archive(model, archive, start, now, INTERVAL, progress=bar.update)
        with progress("importing", count_lines(archive)) as bar:
            import_archives(engine, [archive], settings, progress=bar.update)
    classify_rides(engine, settings.tier_overrides_path, settings.classification_cache_path)
    aggregate(engine, settings, now)
    return History(start, cycles)


@contextmanager
def running_demo(
    engine: Engine,
    settings: Settings,
    model: FeedModel,
    clock: Callable[[], datetime],
    every: timedelta,
) -> Iterator[str]:
    """The local feed on a free loopback port and a collector thread polling it every
    `every`; yields the feed's URL, and stops both on the way out."""
    stop = threading.Event()
    with running_server(model, FeedClock(start=clock())) as feed_url:
        collecting = settings.model_copy(update={"queue_times_base_url": feed_url})

        def collect_forever() -> None:
            cycles = 0
            while not stop.is_set():
                try:
                    report = collect_cycle(engine, collecting, clock)
                    log.info("demo collect cycle", extra={"polls": report.stored})
                    cycles += 1
                    if cycles % 60 == 0:
                        aggregate(engine, collecting, clock())
                except Exception:  # the demo keeps going; the log says what failed
                    log.exception("demo collect cycle failed")
                stop.wait(every.total_seconds())

        collector = threading.Thread(target=collect_forever, name="demo-collector", daemon=True)
        collector.start()
        try:
            yield feed_url
        finally:
            stop.set()
            collector.join(timeout=30)
