"""Statistics at the scale of a year: 100 parks x 50 rides.

Measures, in one run (issue 5's budgets in brackets):
- one simulated day imported, then `aggregate` for that day of all parks [30 s], and the
  recompute of one park day after a poll [20 ms];
- the permanent rows one day leaves (daily statistics, sessions, status changes,
  data-quality issues), and the database size they take, times 365 [500 MB a year];
- a 30-day park ranking and ride ranking over a year of daily statistics, p95 of 50
  runs each [20 ms], next to a baseline in the same run: a bare `SELECT COUNT(*)` over
  the same 30 days of ride statistics.

    .venv/bin/python bench/stats_year.py [--parks 100] [--rides 50] [--mysql-url URL]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from feed_day import catalogue
from sqlalchemy import Engine, create_engine, func, insert, make_url, select, text

from themepark_tracker.catalogue import Scope
from themepark_tracker.config import load_settings
from themepark_tracker.engine.sessions import park_day_of
from themepark_tracker.feed.model import FeedConfig, FeedModel
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.jobs.aggregate import aggregate
from themepark_tracker.jobs.daily_stats import StatsRules, refresh_park_day
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.storage import migrate
from themepark_tracker.storage.db import make_engine
from themepark_tracker.storage.park_days import CUMULATIVE, own_sums
from themepark_tracker.storage.rankings import park_rankings, ride_rankings
from themepark_tracker.storage.tables import (
    data_quality_issues,
    operating_sessions,
    park_daily_stats,
    ride_daily_stats,
    status_changes,
)
from themepark_tracker.storage.tables import parks as parks_table
from themepark_tracker.storage.tables import rides as rides_table

DAY = datetime(2026, 7, 4, 8, tzinfo=UTC)
PERMANENT = (
    ride_daily_stats,
    park_daily_stats,
    operating_sessions,
    status_changes,
    data_quality_issues,
)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def timed(action: Callable[[], object], runs: int = 50) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(1000 * (time.perf_counter() - started))
    return samples


def size_mb(engine: Engine) -> float:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            page = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            return float(pages * page) / 2**20
        total = conn.execute(
            text(
                "SELECT SUM(data_length + index_length) FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_name IN "
                "('ride_daily_stats', 'park_daily_stats', 'operating_sessions', "
                "'status_changes', 'data_quality_issues')"
            )
        ).scalar_one()
        return float(total or 0) / 2**20


def one_day(label: str, engine: Engine, archive: Path, parks: int) -> float:
    """Returns the status changes one simulated day left per ride."""
    settings = load_settings(environ={}, ssm_reader=lambda prefix, region: {})
    import_archives(engine, [archive], settings)
    with engine.connect() as conn:
        counts = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in PERMANENT
        }
    started = time.perf_counter()
    report = aggregate(engine, settings, DAY + timedelta(days=3))
    aggregate_seconds = time.perf_counter() - started
    rules = StatsRules(settings.state_rules(), settings.day_rules())
    zone = ZoneInfo("America/New_York")
    day = park_day_of(DAY + timedelta(hours=10), zone, rules.days)

    def recompute() -> None:
        with engine.begin() as conn:
            refresh_park_day(conn, 1000, zone, day, now=DAY + timedelta(days=3), rules=rules)

    refresh = timed(recompute, runs=20)
    print(f"{label}: aggregate of {report.days} park days: {aggregate_seconds:.1f} s (budget 30)")
    print(f"{label}: recompute one park day: p95 {p95(refresh):.1f} ms (budget 20)")
    with engine.connect() as conn:
        ride_count = conn.execute(select(func.count()).select_from(rides_table)).scalar_one()
    per_ride_day = counts["status_changes"] / max(1, ride_count)
    print(f"{label}: one day leaves {counts} ({per_ride_day:.1f} status changes per ride)")
    return per_ride_day


def a_year(engine: Engine, parks: int, rides: int, changes_per_ride_day: float) -> None:
    """Daily statistics of a year, and status changes at the rate one simulated day
    gave, written directly: ranking speed and size depend on rows, not on how they were
    computed."""
    rng = random.Random(7)  # noqa: S311 - benchmark data
    first = date(2025, 7, 5)
    computed = datetime(2026, 7, 4, tzinfo=UTC)
    sync_parks(engine, catalogue(parks), source="bench", scope=Scope(), now=computed)
    ride_ids = {
        pid: [pid * 1000 + k for k in range(1, rides + 1)] for pid in range(1000, 1000 + parks)
    }
    with engine.begin() as conn:
        conn.execute(
            insert(rides_table),
            [
                {
                    "id": ride_id,
                    "park_id": pid,
                    "name": f"Ride {ride_id}",
                    "tier": 2,
                    "first_seen_at": computed,
                    "last_seen_at": computed,
                    "updated_at": computed,
                }
                for pid, ids in ride_ids.items()
                for ride_id in ids
            ],
        )
    running: dict[int, list[float]] = {}
    with engine.begin() as conn:
        for offset in range(365):
            day = first + timedelta(days=offset)
            ride_rows, park_rows = [], []
            changes: list[dict[str, object]] = []
            for pid, ids in ride_ids.items():
                for ride_id in ids:
                    down = rng.expovariate(1 / 25)
                    row = {
                        "ride_id": ride_id,
                        "park_id": pid,
                        "stat_date": day,
                        "tier": 2,
                        "tracked": True,
                        "uptime_minutes": 660 - down,
                        "downtime_minutes": down,
                        "downtime_events": 1,
                        "longest_downtime_minutes": down,
                        "avg_wait": 30.0,
                        "peak_wait": 60,
                        "wait_samples": 60,
                        "is_final": True,
                    }
                    row.update(zip(CUMULATIVE, _running(running, ride_id, row), strict=True))
                    ride_rows.append(row)
                    opened = datetime(day.year, day.month, day.day, 13, tzinfo=UTC)
                    changes.extend(
                        {
                            "ride_id": ride_id,
                            "park_id": pid,
                            "changed_at": opened + timedelta(minutes=7 * k + ride_id % 7),
                            "to_state": "open" if k % 2 == 0 else "closed",
                            "previous_duration_seconds": 1800,
                        }
                        for k in range(round(changes_per_ride_day + rng.random() - 0.5))
                    )
                park_rows.append(
                    {
                        "park_id": pid,
                        "stat_date": day,
                        "operating_minutes": 660,
                        "rides_tracked": rides,
                        "rides_with_downtime": rides,
                        "uptime_minutes": 600.0 * rides,
                        "downtime_minutes": 60.0 * rides,
                        "weighted_downtime_minutes": 120.0 * rides,
                        "weighted_total_minutes": 1320.0 * rides,
                        "avg_wait": 30.0,
                        "peak_wait": 60,
                        "wait_samples": 60 * rides,
                        "is_final": True,
                        "computed_at": computed,
                    }
                )
            conn.execute(insert(ride_daily_stats), ride_rows)
            conn.execute(insert(park_daily_stats), park_rows)
            conn.execute(insert(status_changes), changes)


def _running(running: dict[int, list[float]], ride_id: int, row: dict[str, object]) -> list[float]:
    totals = [a + b for a, b in zip(running.get(ride_id, [0.0] * 8), own_sums(row), strict=True)]
    running[ride_id] = totals
    return totals


def rankings(label: str, engine: Engine) -> None:
    span = (date(2026, 6, 4), date(2026, 7, 3))

    def dates_of(_timezone: str) -> tuple[date, date]:
        return span

    def ranked_parks() -> None:
        with engine.connect() as conn:
            park_rankings(conn, dates_of)

    def ranked_rides() -> None:
        with engine.connect() as conn:
            ride_rankings(conn, dates_of, limit=50)

    def every_ride() -> None:
        with engine.connect() as conn:
            ride_rankings(conn, dates_of)

    def baseline() -> None:
        with engine.connect() as conn:
            conn.execute(select(parks_table.c.id, parks_table.c.timezone)).all()

    parks_ms, rides_ms, all_ms, base_ms = (
        p95(timed(ranked_parks)),
        p95(timed(ranked_rides)),
        p95(timed(every_ride, runs=20)),
        p95(timed(baseline)),
    )
    print(
        f"{label}: 30-day park ranking p95 {parks_ms:.1f} ms, ride ranking (top 50) p95 "
        f"{rides_ms:.1f} ms (budget 20 ms); every ride ranked {all_ms:.1f} ms; baseline "
        f"(read the park list) p95 {base_ms:.1f} ms; ratios {parks_ms / base_ms:.1f}x and "
        f"{rides_ms / base_ms:.1f}x"
    )
    print(f"{label}: a year of statistics and status changes: {size_mb(engine):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parks", type=int, default=100)
    parser.add_argument("--rides", type=int, default=50)
    parser.add_argument(
        "--mysql-url", help="also run on this MySQL server, in a throwaway database"
    )
    parser.add_argument(
        "--changes-per-ride",
        type=float,
        help="status changes per ride and day for the year; skips the simulated day",
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    model = FeedModel(catalogue(args.parks), FeedConfig(rides_per_park=(args.rides, args.rides)))
    with tempfile.TemporaryDirectory() as workdir:
        archive = Path(workdir) / "day.jsonl"
        record_archive(model, archive, DAY, DAY + timedelta(days=1), timedelta(minutes=10))
        targets: list[tuple[str, Engine]] = [
            ("sqlite", make_engine(make_url(f"sqlite:///{workdir}/day.db"))),
        ]
        year_targets: list[tuple[str, Engine]] = [
            ("sqlite", make_engine(make_url(f"sqlite:///{workdir}/year.db"))),
        ]
        names: list[str] = []
        admin = create_engine(make_url(args.mysql_url)) if args.mysql_url else None
        if admin is not None:
            for purpose, bucket in (("day", targets), ("year", year_targets)):
                name = f"tpt_bench_{purpose}_{uuid.uuid4().hex[:6]}"
                with admin.begin() as conn:
                    conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
                names.append(name)
                bucket.append(("mysql", make_engine(make_url(args.mysql_url).set(database=name))))
        try:
            rate = args.changes_per_ride
            for label, engine in targets if rate is None else []:
                migrate.upgrade(engine)
                rate = one_day(label, engine, archive, args.parks)
            for label, engine in year_targets:
                migrate.upgrade(engine)
                a_year(engine, args.parks, args.rides, rate or 0.0)
                rankings(label, engine)
        finally:
            for _, engine in targets + year_targets:
                engine.dispose()
            if admin is not None:
                with admin.begin() as conn:
                    for name in names:
                        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
                admin.dispose()


if __name__ == "__main__":
    main()
