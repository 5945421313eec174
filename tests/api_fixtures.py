"""Simulated days for the API tests: two parks in two time zones, imported from a
recorded archive of the local feed and aggregated, with the API's clock just after the
last poll so that live status is fresh."""

from __future__ import annotations

import signal
import socket
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from feed_fixtures import SimClock, catalogue, collect_every_ten_minutes
from sqlalchemy import Engine

from themepark_tracker.api import create_app
from themepark_tracker.config import Settings, load_settings
from themepark_tracker.feed.model import FeedConfig, FeedModel
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.jobs.aggregate import aggregate
from themepark_tracker.jobs.import_archive import import_archives

TORONTO, ANAHEIM = 57, 16
START = datetime(2026, 7, 1, 8, tzinfo=UTC)
#: 13:00 in Toronto, 10:00 in Anaheim on 2026-07-04: both parks are open. Polls up to
#: here come from an archive; two collection cycles follow, which also set live status.
END = datetime(2026, 7, 4, 17, tzinfo=UTC)
NOW = END + timedelta(minutes=13)
DAYS = (date(2026, 7, 1), date(2026, 7, 3))


def settings(**environ: str) -> Settings:
    return load_settings(environ=environ, ssm_reader=lambda prefix, region: {})


def model() -> FeedModel:
    return FeedModel(catalogue(TORONTO, ANAHEIM), FeedConfig(seed=5))


def load_days(engine: Engine, workdir: Path) -> None:
    archive = workdir / "days.jsonl"
    record_archive(model(), archive, START, END, timedelta(minutes=10), park_ids=[TORONTO, ANAHEIM])
    import_archives(engine, [archive], settings())
    aggregate(engine, settings(), END)
    collect_every_ten_minutes(engine, model(), SimClock(END), 2)


def app(engine: Engine, **environ: str) -> Any:
    made = create_app(settings(**environ), engine, clock=lambda: NOW)
    made.testing = True
    return made


def free_port() -> int:
    """A loopback port nobody listens on (for servers the tests start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def interruptible() -> None:
    """In a child process, before it starts: Ctrl-C as a terminal gives it, also when the
    tests run in the background of a shell, whose children inherit SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
