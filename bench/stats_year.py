"""Statistics at the scale of a year: 100 parks x 50 rides.

Measures, in one run (issue 5's budgets in brackets):
- one simulated day imported, then `aggregate` for that day of all parks [30 s], and the
  recompute of one park day after a poll [20 ms];
- the permanent rows one day leaves (daily statistics, sessions, status changes,
  data-quality issues), and the database size they take, times 365 [500 MB a year];
- a 30-day park ranking and ride ranking (top 50) over a year of daily statistics, p95
  of 50 runs each [20 ms], from the running totals; next to a baseline in the same run,
  reading the park list.

    .venv/bin/python bench/stats_year.py [--parks 100] [--rides 50] [--mysql-url URL]
        [--only day|year]
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
from themepark_tracker.engine.days import had_downtime
from themepark_tracker.engine.periods import period_dates
from themepark_tracker.engine.sessions import park_day_of
from themepark_tracker.feed.model import FeedConfig, FeedModel
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.jobs.aggregate import aggregate
from themepark_tracker.jobs.daily_stats import StatsRules, refresh_park_day
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.storage import migrate
from themepark_tracker.storage.db import make_engine
from themepark_tracker.storage.maxima import PEAK_LEVELS
from themepark_tracker.storage.park_days import CUMULATIVE, PARK_CUMULATIVE, own_sums, park_own_sums
from themepark_tracker.storage.statistics import park_sums, period_sums, scope
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
#: The simulated year's last day, the current day of its rankings.
TODAY = date(2026, 7, 4)
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
    history(engine, 1000, 60)
    started = time.perf_counter()
    report = aggregate(engine, settings, DAY + timedelta(days=3))
    aggregate_seconds = time.perf_counter() - started
    rules = StatsRules(settings.state_rules(), settings.day_rules())
    zone = ZoneInfo("America/New_York")
    # The day's last poll, as the collector stores it: the park day is today, with all
    # its polls and 60 days of history before it.
    now = DAY + timedelta(hours=23, minutes=55)
    day = park_day_of(now, zone, rules.days)

    def recompute() -> None:
        with engine.begin() as conn:
            refresh_park_day(conn, 1000, zone, day, now=now, rules=rules)

    def work_only() -> None:
        with engine.connect() as conn:
            refresh_park_day(conn, 1000, zone, day, now=now, rules=rules)
            conn.rollback()

    def baseline() -> None:
        with engine.begin() as conn:
            conn.execute(select(parks_table.c.id).where(parks_table.c.id == 1000)).all()

    settle(engine)
    timed(recompute, runs=10)  # warm-up: the statement cache, the buffer pool
    refresh, work, base = (
        p95(timed(action, runs=100)) for action in (recompute, work_only, baseline)
    )
    print(f"{label}: aggregate of {report.days} park days: {aggregate_seconds:.1f} s (budget 30)")
    print(
        f"{label}: recompute one park day (144 polls x {rides_per_park(engine)} rides) after "
        f"its last poll: p95 {refresh:.1f} ms committed, {work:.1f} ms before the commit "
        f"(budget 20); baseline (a one-row transaction) p95 {base:.1f} ms"
    )
    with engine.connect() as conn:
        ride_count = conn.execute(select(func.count()).select_from(rides_table)).scalar_one()
    per_ride_day = counts["status_changes"] / max(1, ride_count)
    print(f"{label}: one day leaves {counts} ({per_ride_day:.1f} status changes per ride)")
    return per_ride_day


def settle(engine: Engine, limit_seconds: float = 120) -> None:
    """Let the database finish writing out the bulk import before timing a poll's work,
    as it has between two collections: SQLite checkpoints its WAL, InnoDB flushes its
    dirty pages."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        deadline = time.monotonic() + limit_seconds
        while time.monotonic() < deadline:
            dirty = conn.exec_driver_sql(
                "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'"
            ).one()[1]
            if int(dirty) < 100:
                return
            time.sleep(1)


def rides_per_park(engine: Engine) -> int:
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).select_from(rides_table).where(rides_table.c.park_id == 1000)
        ).scalar_one()
    return int(count)


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
    park_running: dict[int, list[float]] = {}
    with engine.begin() as conn:
        for offset in range(365):
            day = first + timedelta(days=offset)
            ride_rows, park_rows = [], []
            changes: list[dict[str, object]] = []
            for pid, ids in ride_ids.items():
                for ride_id in ids:
                    ride_rows.append(_ride_day(rng, running, pid, ride_id, day))
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
                park_rows.append(_park_day(pid, day, rides, computed, park_running, first))
            conn.execute(insert(ride_daily_stats), ride_rows)
            conn.execute(insert(park_daily_stats), park_rows)
            if changes:
                conn.execute(insert(status_changes), changes)


def _ride_day(
    rng: random.Random, running: dict[int, list[float]], pid: int, ride_id: int, day: date
) -> dict[str, object]:
    down = rng.expovariate(1 / 25)
    row: dict[str, object] = {
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
    totals = [a + b for a, b in zip(running.get(ride_id, [0.0] * 8), own_sums(row), strict=True)]
    running[ride_id] = totals
    row.update(zip(CUMULATIVE, totals, strict=True))
    if had_downtime(down):
        DOWN_ON[ride_id] = day
    return _carried(row, day, DOWN_ON.get(ride_id))


#: Each ride's latest day with downtime so far, as the rows are written in order of days.
DOWN_ON: dict[int, date] = {}


def _carried(row: dict[str, object], day: date, down_on: date | None) -> dict[str, object]:
    """What a write carries on the row (storage/park_days.py), for these rows: every ride
    and park has a row on every day, each with the same peak wait, so a span's highest
    wait is the day's own, and every ride is tracked every day."""
    row.update(dict.fromkeys(PEAK_LEVELS, row["peak_wait"]))
    if "ride_id" in row:
        row["days_since_tracked"] = 0
        row["days_since_down"] = None if down_on is None else (day - down_on).days
    return row


def _park_day(
    pid: int,
    day: date,
    rides: int,
    computed: datetime,
    running: dict[int, list[float]],
    number_one: date,
) -> dict[str, object]:
    """`number_one`: the park's first day, its day number 1."""
    row: dict[str, object] = {
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
    totals = [
        a + b
        for a, b in zip(running.get(pid, [0.0] * 6), park_own_sums(row), strict=True)  # type: ignore[arg-type]
    ]
    running[pid] = totals
    row.update(zip(PARK_CUMULATIVE, totals, strict=True))
    row["day_number"] = (day - number_one).days + 1
    return _carried(row, day, day)


def history(engine: Engine, park_id: int, days: int) -> None:
    """Final statistics of the park's rides on the days before the simulated one, so that
    its recompute reads and writes the named periods as it would with history."""
    rng = random.Random(11)  # noqa: S311 - benchmark data
    with engine.begin() as conn:
        ride_ids = sorted(
            conn.execute(
                select(ride_daily_stats.c.ride_id)
                .where(ride_daily_stats.c.park_id == park_id)
                .distinct()
            ).scalars()
        )
        running: dict[int, list[float]] = {}
        park_running: dict[int, list[float]] = {}
        for offset in range(days, 0, -1):
            day = TODAY - timedelta(days=offset)
            rows = [_ride_day(rng, running, park_id, ride_id, day) for ride_id in ride_ids]
            conn.execute(insert(ride_daily_stats), rows)
            conn.execute(
                insert(park_daily_stats),
                _park_day(park_id, day, len(ride_ids), DAY, park_running, TODAY - timedelta(days)),
            )


def rankings(label: str, engine: Engine) -> None:
    """Rankings as the API asks for them: the last 30 days and another 30 days, from the
    running totals. Timed once the bulk-loaded year is written out, as between two
    collections."""
    settle(engine)
    latest = period_dates("last_30_days", TODAY)
    other = (latest[0] - timedelta(days=1), latest[1] - timedelta(days=1))

    def run(span: tuple[date, date], what: str) -> Callable[[], object]:
        def action() -> None:
            with engine.connect() as conn:
                asked = scope(conn, lambda _timezone: span)
                if what == "parks":
                    park_sums(conn, asked)
                else:
                    period_sums(conn, asked, limit=50 if what == "top" else None)

        return action

    def baseline() -> None:
        with engine.connect() as conn:
            conn.execute(select(parks_table.c.id, parks_table.c.timezone)).all()

    base_ms = p95(timed(baseline))
    print(f"{label}: baseline (read the park list) p95 {base_ms:.1f} ms")
    for name, span in (("last 30 days", latest), ("the 30 days before yesterday", other)):
        parks_ms = p95(timed(run(span, "parks")))
        rides_ms = p95(timed(run(span, "top")))
        all_ms = p95(timed(run(span, "all"), runs=20))
        print(
            f"{label}: {name}: park ranking p95 {parks_ms:.1f} ms ({parks_ms / base_ms:.0f}x "
            f"baseline), ride ranking top 50 p95 {rides_ms:.1f} ms ({rides_ms / base_ms:.0f}x)"
            f" (budget 20 ms); every ride ranked p95 {all_ms:.0f} ms"
        )
    print(f"{label}: a year of statistics and status changes: {size_mb(engine):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parks", type=int, default=100)
    parser.add_argument("--rides", type=int, default=50)
    parser.add_argument(
        "--mysql-url", help="also run on this MySQL server, in a throwaway database"
    )
    parser.add_argument("--only", choices=("day", "year"), help="run one half only")
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
            for label, engine in targets if rate is None and args.only != "year" else []:
                migrate.upgrade(engine)
                rate = one_day(label, engine, archive, args.parks)
            for label, engine in year_targets if args.only != "day" else []:
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
