"""Import one simulated day of 100 parks x 50 rides (14,400 polls, ~750,000 snapshots).

Budget (issue 4): at most 60 s on SQLite and on MariaDB, peak memory at most 300 MB.
Machines here are shared and noisy: the ratio printed is measured in this same run,
against a baseline that bulk-inserts the very same snapshot rows with no validation,
no states, no status changes and one transaction per 1,000 polls.

    .venv/bin/python bench/import_day.py [--parks 100] [--rides 50] [--mysql-url URL]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feed_day import catalogue
from sqlalchemy import Engine, create_engine, insert, make_url, select, text

from themepark_tracker.config import load_settings
from themepark_tracker.feed.model import FeedConfig, FeedModel
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.storage import migrate
from themepark_tracker.storage.db import make_engine
from themepark_tracker.storage.tables import polls, ride_snapshots


def baseline(engine: Engine, rows_per_poll: list[list[dict[str, object]]], park_id: int) -> float:
    """Bare inserts of the same volume: one poll row and its snapshots, batched."""
    with engine.begin() as conn:
        ride_ids = [
            r["ride_id"]
            for r in conn.execute(select(ride_snapshots.c.ride_id).distinct().limit(50)).mappings()
        ]
    started = time.perf_counter()
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    for batch_start in range(0, len(rows_per_poll), 1000):
        with engine.begin() as conn:
            for index in range(batch_start, min(batch_start + 1000, len(rows_per_poll))):
                at = t0 + timedelta(seconds=index)
                key = conn.execute(
                    insert(polls).values(
                        park_id=park_id,
                        polled_at=at,
                        cycle_id="baseline",
                        source="import",
                        outcome="ok",
                    )
                ).inserted_primary_key
                assert key is not None
                conn.execute(
                    insert(ride_snapshots),
                    [
                        {
                            **row,
                            "poll_id": key[0],
                            "polled_at": at,
                            "ride_id": ride_ids[i % len(ride_ids)],
                        }
                        for i, row in enumerate(rows_per_poll[index])
                    ],
                )
    return time.perf_counter() - started


def run(label: str, engine: Engine, archive: Path, polls_count: int, rides: int) -> None:
    settings = load_settings(environ={}, ssm_reader=lambda prefix, region: {})
    migrate.upgrade(engine)
    started = time.perf_counter()
    report = import_archives(engine, [archive], settings)
    ours = time.perf_counter() - started
    with engine.connect() as conn:
        snapshots = conn.execute(
            select(ride_snapshots.c.id).order_by(ride_snapshots.c.id.desc()).limit(1)
        ).scalar()
        park_id = conn.execute(select(polls.c.park_id).limit(1)).scalar_one()
    row = {
        "is_open_raw": True,
        "wait_time_raw": "20",
        "wait_time": 20,
        "last_updated": None,
        "state": "open",
    }
    rows_per_poll = [[row] * rides for _ in range(polls_count)]
    base = baseline(engine, rows_per_poll, park_id)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label}: {report.summary()}")
    print(
        f"{label}: import {ours:.1f} s (budget 60 s), baseline bare inserts {base:.1f} s, "
        f"ratio {ours / base:.1f}x, snapshots ~{snapshots}, peak RSS {peak_mb:.0f} MB (budget 300)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parks", type=int, default=100)
    parser.add_argument("--rides", type=int, default=50)
    parser.add_argument(
        "--mysql-url", help="also run on this MySQL/MariaDB server (a throwaway database is made)"
    )
    args = parser.parse_args()
    model = FeedModel(catalogue(args.parks), FeedConfig(rides_per_park=(args.rides, args.rides)))
    with tempfile.TemporaryDirectory() as workdir:
        archive = Path(workdir) / "day.jsonl"
        start = datetime(2026, 7, 4, 4, tzinfo=UTC)
        record_archive(model, archive, start, start + timedelta(days=1), timedelta(minutes=10))
        polls_count = 144 * args.parks
        engine = make_engine(make_url(f"sqlite:///{workdir}/bench.db"))
        run("sqlite", engine, archive, polls_count, args.rides)
        engine.dispose()
        if args.mysql_url:
            server = make_url(args.mysql_url)
            name = f"tpt_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(server)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            try:
                engine = make_engine(server.set(database=name))
                run("mysql", engine, archive, polls_count, args.rides)
                engine.dispose()
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP DATABASE {name}"))
                admin.dispose()


if __name__ == "__main__":
    main()
