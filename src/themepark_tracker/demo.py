"""The demo: the whole system running on this machine with no internet: the API with
the dashboard at once, weeks of simulated history imported behind it, then the local
feed and a collector cycle every minute against it.

The feed's world is deterministic (`FeedModel` with a fixed seed), so the history
imported from an archive and the live polls that follow are one continuous story. A
second run reuses the database and only fills the gap since its last poll.
"""

from __future__ import annotations

import functools
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine

from themepark_tracker.api import schemas
from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.config import Settings
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.feed.recording import poll_instants, record_archive
from themepark_tracker.feed.server import FeedClock, running_server
from themepark_tracker.feed.wiki import WikiFeed
from themepark_tracker.jobs.aggregate import aggregate
from themepark_tracker.jobs.classify import classify_rides
from themepark_tracker.jobs.collect import collect_cycle
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.jobs.wiki_map import map_sources
from themepark_tracker.sources.queue_times import read_json_file
from themepark_tracker.storage import migrate, queries, wiki
from themepark_tracker.storage.health import facts

log = logging.getLogger(__name__)
INTERVAL = timedelta(minutes=10)


class HistoryBuild:
    """The history the demo builds behind the running dashboard, one simulated day at a
    time: what `/api/health` reports while the rankings fill in. Thread-safe: the build
    runs in the collector's thread, the API reads it from its own."""

    def __init__(self, start: datetime, end: datetime, parks: Sequence[int]) -> None:
        self.start = start
        self.end = end
        self.parks = tuple(parks)
        self.cycles = len(list(poll_instants(start, end, INTERVAL)))
        self._lock = threading.Lock()
        self._steps = 0.0
        self._until: datetime | None = None
        self._state: Literal["building", "done", "failed"] = "building"
        self._detail: str | None = None

    def advance(self, steps: float) -> None:
        """Each cycle is two steps: simulated, then imported."""
        with self._lock:
            self._steps += steps

    def imported(self, until: datetime) -> None:
        with self._lock:
            self._until = until

    def finish(self, error: str | None = None) -> None:
        with self._lock:
            self._state = "done" if error is None else "failed"
            self._detail = error

    def status(self) -> schemas.History:
        with self._lock:
            done = self._state == "done"
            share = 1.0 if done else min(self._steps / (2 * self.cycles), 0.99)
            return schemas.History(
                state=self._state,
                percent=round(100 * share, 1),
                days=round((self.end - self.start) / timedelta(days=1), 1),
                start=self.start,
                end=self.end,
                imported_until=self.end if done else self._until,
                detail=self._detail,
            )


def prepare(engine: Engine, settings: Settings, now: datetime, days: int) -> HistoryBuild | None:
    """The schema and the shipped catalogue (a second or two), and the history still to
    build: from `days` ago, or from the cycle after the last stored poll, up to `now`
    (None when there is none)."""
    migrate.upgrade(engine)
    with engine.connect() as conn:
        known = bool(queries.stored_parks(conn))
        last = facts(conn, INTERVAL, now).last_collection_at
    if not known:
        document = read_json_file(SAMPLE_PARKS_FILE)
        sync_parks(engine, document, source="demo", scope=settings.scope(), now=now)
    with engine.connect() as conn:
        tracked = [
            park_id for park_id, park in queries.stored_parks(conn).items() if park.is_active
        ]
    start = now - timedelta(days=days) if last is None else last + INTERVAL
    build = HistoryBuild(start, now, tracked)
    return build if build.cycles else None


def fill_history(
    engine: Engine,
    settings: Settings,
    model: FeedModel,
    build: HistoryBuild,
    stop: threading.Event | None = None,
    step: timedelta = timedelta(days=1),
) -> bool:
    """Simulated polls of the tracked parks every 10 minutes over the build's span, a
    `step` (a day) at a time, each recorded as an archive and imported as real data is,
    so the dashboard shows every finished day at once; then tiers and final days. False
    when `stop` cut it short."""
    with engine.connect() as conn:
        paired = set(wiki.stored_parks(conn))
    second = WikiFeed(model)
    chunk = build.start
    while chunk < build.end:
        if stop is not None and stop.is_set():
            return False
        until = min(chunk + step, build.end)
        cycles = len(list(poll_instants(chunk, until, INTERVAL)))
        with tempfile.TemporaryDirectory() as workdir:
            archive = Path(workdir) / "history.jsonl"
            records = record_archive(
                model,
                archive,
                chunk,
                until,
                INTERVAL,
                build.parks,
                progress=build.advance,
                wiki=second,
                wiki_parks=paired,
            )
            import_archives(
                engine,
                [archive],
                settings,
                progress=functools.partial(_advance, build, cycles / records),
                now=lambda: build.end,
            )
        build.imported(until)
        chunk = until
    classify_rides(engine, settings.tier_overrides_path, settings.classification_cache_path)
    aggregate(engine, settings, build.end)
    build.finish()
    return True


def _advance(build: HistoryBuild, per_record: float, records: int) -> None:
    build.advance(records * per_record)


@contextmanager
def running_demo(
    engine: Engine,
    settings: Settings,
    model: FeedModel,
    clock: Callable[[], datetime],
    every: timedelta,
    build: HistoryBuild | None = None,
    announce: Callable[[str], None] = log.warning,
) -> Iterator[str]:
    """The local feed on a free loopback port and a thread that first builds `build`
    (the history; `announce` says when it is done), then polls the feed every `every`;
    yields the feed's URL, and stops both on the way out."""
    stop = threading.Event()
    with running_server(model, FeedClock(start=clock()), wiki=WikiFeed(model)) as feed_url:
        collecting = settings.model_copy(
            update={
                "queue_times_base_url": feed_url,
                "themeparks_wiki_base_url": f"{feed_url}/v1",
            }
        )

        def build_history() -> bool:
            assert build is not None
            started = time.monotonic()
            try:
                if not fill_history(engine, settings, model, build, stop):
                    return False
            except Exception as exc:  # the dashboard says so; collecting goes on
                log.exception("demo history failed")
                build.finish(f"{type(exc).__name__}: {exc}")
                return True
            announce(
                f"history: {build.cycles} cycles from {build.start:%Y-%m-%d %H:%M} UTC,"
                f" built in {time.monotonic() - started:.0f} s"
            )
            return True

        def pair_sources() -> None:
            try:  # the second source: statuses and schedules from the same feed
                log.info(
                    "demo sources map",
                    extra={"pairs": map_sources(engine, collecting, clock()).summary()},
                )
            except Exception:
                log.exception("demo sources map failed")

        def collect_forever() -> None:
            # Parks first, so that the history carries the paired parks' answers; rides
            # again once the history has stored them.
            pair_sources()
            if build is not None and not build_history():
                return
            pair_sources()
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
