"""Archives of the simulated feed: what a collector polling it would have fetched.

Written in the archive format (`themepark_tracker.archive`) that the collector writes and
the importer reads, so that simulated history goes through the very same path as real.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from themepark_tracker.archive import (
    ArchiveWriter,
    ParksRecord,
    QueueTimesRecord,
    WikiLiveRecord,
    WikiScheduleRecord,
)
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.feed.wiki import WikiFeed

#: The collector's default concurrency: parks are fetched eight at a time.
CONCURRENCY = 8
CATALOGUE_REFRESH = timedelta(hours=24)


def poll_instants(start: datetime, end: datetime, interval: timedelta) -> Iterator[datetime]:
    """Cycle start times in [start, end)."""
    if interval <= timedelta(0):
        raise ValueError("the interval must be positive")
    at = start
    while at < end:
        yield at
        at += interval


def record_archive(
    model: FeedModel,
    path: Path,
    start: datetime,
    end: datetime,
    interval: timedelta,
    park_ids: Sequence[int] | None = None,
    progress: Callable[[int], None] | None = None,
    wiki: WikiFeed | None = None,
    wiki_parks: Collection[int] | None = None,
) -> int:
    """Write every fetch of the cycles in [start, end); returns the number of records.

    Within a cycle, park k is fetched k // CONCURRENCY seconds after the cycle starts, as
    a collector with bounded concurrency would; the catalogue is fetched at the first
    cycle and again once a day. With `wiki`, each cycle also fetches the ThemeParks.wiki
    live answer of every park (of `wiki_parks`, when given) right after its Queue-Times
    answer, and its schedule at the first cycle and once a day, as the collector does.
    """
    parks = sorted(park_ids if park_ids is not None else model.parks)
    unknown = [park_id for park_id in parks if park_id not in model.parks]
    if unknown:
        raise ValueError(f"no park with id {unknown[0]} in the catalogue")
    written = 0
    catalogue_due = start
    schedule_due: dict[int, datetime] = {}
    with ArchiveWriter(path) as writer:
        for cycle in poll_instants(start, end, interval):
            if cycle >= catalogue_due:
                writer.write(ParksRecord(cycle, model.parks_json()))
                written += 1
                catalogue_due = cycle + CATALOGUE_REFRESH
            for index, park_id in enumerate(parks):
                fetched_at = cycle + timedelta(seconds=1 + index // CONCURRENCY)
                body = model.queue_times_json(park_id, fetched_at)
                assert body is not None
                writer.write(QueueTimesRecord(park_id, fetched_at, body))
                written += 1
                if wiki is None or (wiki_parks is not None and park_id not in wiki_parks):
                    continue
                writer.write(WikiLiveRecord(park_id, fetched_at, wiki.live(park_id, fetched_at)))
                written += 1
                if fetched_at >= schedule_due.get(park_id, start):
                    schedule = wiki.schedule(park_id, fetched_at)
                    writer.write(WikiScheduleRecord(park_id, fetched_at, schedule))
                    written += 1
                    schedule_due[park_id] = fetched_at + CATALOGUE_REFRESH
            if progress:
                progress(1)
    return written
