"""Helpers shared by the collector and import tests: catalogues, clocks, sources, table reads.

Nothing here stands in for our code or for `requests`: the sources are real
`PayloadSource`s served over loopback by `running_server`, and the clock is the one
simulated time that both the feed and the collector read.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Table, delete, select

from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.config import Settings, load_settings
from themepark_tracker.feed.model import FeedModel, Reading
from themepark_tracker.feed.server import running_server
from themepark_tracker.jobs.collect import collect_cycle
from themepark_tracker.storage.tables import metadata, polls, ride_snapshots

SAMPLE: list[dict[str, Any]] = json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8"))


def sample_park_ids(continent: str | None = None) -> set[int]:
    return {
        park["id"]
        for group in SAMPLE
        for park in group["parks"]
        if continent is None or park["continent"] == continent
    }


def catalogue(*park_ids: int) -> list[dict[str, Any]]:
    """The shipped sample `parks.json` cut down to these parks, groups kept."""
    wanted = set(park_ids)
    groups = []
    for group in SAMPLE:
        parks = [park for park in group["parks"] if park["id"] in wanted]
        if parks:
            groups.append({**group, "parks": parks})
    assert {p["id"] for g in groups for p in g["parks"]} == wanted, "unknown sample park id"
    return groups


class SimClock:
    """Simulated time that stands still until the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def no_ssm(prefix: str, region: str) -> dict[str, str]:
    raise AssertionError("SSM must not be read outside production")


def collector_settings(base_url: str, **overrides: str) -> Settings:
    environ = {"QUEUE_TIMES_BASE_URL": base_url, "RETRY_WAIT_SECONDS": "0.01", **overrides}
    return load_settings(environ=environ, ssm_reader=no_ssm)


class ScriptedSource:
    """A hand-written feed: a catalogue, and per park the payloads in force from given times.

    `script[park_id]` is a list of (from, payload) in time order; the payload served at
    `at` is the last one whose `from` is not after it. Bytes are served as given.
    """

    def __init__(
        self,
        parks: list[dict[str, Any]],
        script: dict[int, Sequence[tuple[datetime, dict[str, Any] | bytes]]],
    ) -> None:
        self.parks = parks
        self.script = script
        self.asked: list[tuple[int, datetime]] = []

    def parks_json(self) -> bytes:
        return json.dumps(self.parks).encode()

    def queue_times_json(self, park_id: int, at: datetime) -> bytes | None:
        self.asked.append((park_id, at))
        current: dict[str, Any] | bytes | None = None
        for start, payload in self.script.get(park_id, ()):
            if start <= at:
                current = payload
        if current is None:
            return None
        return current if isinstance(current, bytes) else json.dumps(current).encode()


def feed_ride(
    ride_id: int, name: str, at: datetime, is_open: bool = True, wait: Any = 20
) -> dict[str, Any]:
    """One ride entry as Queue-Times writes it, updated one minute before `at`."""
    stamp = (at - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "id": ride_id,
        "name": name,
        "is_open": is_open,
        "wait_time": wait,
        "last_updated": stamp,
    }


# --- docs/methodology.md, written out again ------------------------------------------------------


def epoch(moment: int) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def valid_wait(reading: Reading) -> int | None:
    """docs/methodology.md 1: an integer number of minutes from 0 to 360, else invalid."""
    wait = reading.wait_time
    if isinstance(wait, bool) or not isinstance(wait, int) or not 0 <= wait <= 360:
        return None
    return wait


def metrics_state(reading: Reading, polled_at: datetime) -> str:
    """docs/methodology.md 2-3, written out again here: open, closed, or unknown when stale."""
    wait = valid_wait(reading)
    if not ((wait is not None and wait > 0) or reading.is_open):
        return "closed"
    if epoch(reading.last_updated) < polled_at - timedelta(minutes=60):
        return "unknown"
    return "open"


def is_single_rider(name: str) -> bool:
    return "single rider" in name.casefold()


def snapshots_by_poll(engine: Engine) -> dict[tuple[int, datetime], dict[int, dict[str, Any]]]:
    """(park, polled_at) -> ride id -> snapshot row."""
    poll_keys = {p["id"]: (p["park_id"], p["polled_at"]) for p in rows(engine, polls)}
    result: dict[tuple[int, datetime], dict[int, dict[str, Any]]] = {}
    for snapshot in rows(engine, ride_snapshots):
        result.setdefault(poll_keys[snapshot["poll_id"]], {})[snapshot["ride_id"]] = snapshot
    return result


# --- what the server saw ------------------------------------------------------------------

SERVER_LOGGER = "themepark_tracker.feed.server"
_ANSWER = re.compile(r'"GET (\S+) HTTP/1\.[01]" (\d{3})')


def watch_server(caplog: pytest.LogCaptureFixture) -> Callable[[], Counter[tuple[str, str]]]:
    """Count the requests the feed server handled, from its own DEBUG log.

    Returns a function giving a Counter of (path, status) where status is the HTTP status
    answered, or "hang" for a request the server held without an answer.
    """
    caplog.set_level(logging.DEBUG, logger=SERVER_LOGGER)

    def seen() -> Counter[tuple[str, str]]:
        counts: Counter[tuple[str, str]] = Counter()
        for record in caplog.records:
            if record.name != SERVER_LOGGER:
                continue
            message = record.getMessage()
            if message.startswith("fault timeout on "):
                counts[(message.removeprefix("fault timeout on "), "hang")] += 1
                continue
            match = _ANSWER.search(message)
            if match:
                counts[(match[1], match[2])] += 1
        return counts

    return seen


def park_path(park_id: int) -> str:
    return f"/parks/{park_id}/queue_times.json"


# --- the database ------------------------------------------------------------------------


def rows(engine: Engine, table: Table, *order_by: str) -> list[dict[str, Any]]:
    query = select(table)
    if order_by:
        query = query.order_by(*(table.c[name] for name in order_by))
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: to show that something changed nothing."""
    result = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            result[table.name] = sorted(
                (tuple(row) for row in conn.execute(select(table))), key=repr
            )
    return result


def clear(engine: Engine) -> None:
    """Empty every table, as a fresh database would be."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(delete(table))


def collect_every_ten_minutes(
    engine: Engine, model: FeedModel, clock: SimClock, cycles: int, **overrides: str
) -> datetime:
    """Run `cycles` collection cycles against the model's feed; returns the last poll time."""
    with running_server(model, clock) as url:
        settings = collector_settings(url, **overrides)
        for _ in range(cycles):
            collect_cycle(engine, settings, clock)
            clock.advance(minutes=10)
    return clock.now - timedelta(minutes=10)
