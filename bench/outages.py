"""Outages at the scale of a year: 100 parks x 50 rides with one outage a ride day (the
closure each ride day of bench/stats_year.py's year has), a few rides down now.

Measures, in one run, in-process (Flask's test client, memo off, the clock on the
year's last day) so that the figures are the server's work and nothing else:
- a ride's outages over 30 days; its recovery estimate from its own outages, and from
  its tier's in every park (a ride without enough of its own); every ride down now with
  its estimate; ride rankings (top 50) by MTTR over 30 days and over 365 days, and park
  rankings over 30 and 365 days, each with its reliability figures:
  p95 of the requests, next to the trivial request (an unknown path) of the same run;
- how long `aggregate` takes to prepare every recovery pool (5,400 of them);
- the room a year of outages takes: ride_outages' pages (SQLite) or data and index
  (MariaDB), the park rows' outage columns, and the prepared pools (a window of 90 days,
  so the same whatever the history).

The requests run as in production, after `aggregate` has prepared the recovery pools.

Budgets (issue 20): outages, recovery and rides down now cold p95 <= 25 ms; a year of
outages <= 100 MB.

    .venv/bin/python bench/outages.py [--sqlite-db PATH] [--mysql-url URL] [--runs 40]

Without --sqlite-db a year is written first (about 4 minutes).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from api_load import ensure_year, say
from sqlalchemy import Engine, delete, func, insert, make_url, select, text, update

from themepark_tracker.api import create_app
from themepark_tracker.config import load_settings
from themepark_tracker.jobs.aggregate import aggregate
from themepark_tracker.storage import migrate
from themepark_tracker.storage.db import make_engine
from themepark_tracker.storage.tables import (
    park_daily_stats,
    parks,
    recovery_pools,
    ride_daily_stats,
    ride_outages,
    rides,
)

NOW = datetime(2026, 7, 4, 20, tzinfo=UTC)
LAST = date(2026, 7, 4)
DOWN_NOW = 100


def add_outages(engine: Engine) -> None:
    """One outage per ride day, as long as the day's downtime (to the second), starting
    at 13:00 UTC plus a few minutes; one in twenty park-wide. Then `DOWN_NOW` rides down
    since 30 minutes ago. The park rows' outage columns are filled by migration 0016,
    run again over them (and timed)."""
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(ride_outages)).scalar_one():
            return
        days = conn.execute(select(ride_daily_stats.c.stat_date).distinct()).scalars().all()
    s = ride_daily_stats.c
    for day in sorted(days):
        with engine.begin() as conn:
            found = conn.execute(
                select(s.ride_id, s.downtime_minutes).where(s.stat_date == day)
            ).all()
            start = datetime(day.year, day.month, day.day, 13, tzinfo=UTC)
            conn.execute(
                insert(ride_outages),
                [
                    {
                        "ride_id": ride_id,
                        "started_at": (begun := start + timedelta(minutes=ride_id % 50)),
                        "park_date": day,
                        "ended_at": begun + timedelta(seconds=round(minutes * 60) + 1),
                        "minutes": round(minutes * 60) / 60,  # whole seconds, as real ones
                        "park_wide": ride_id % 20 == 0,
                    }
                    for ride_id, minutes in found
                ],
            )
    with engine.begin() as conn:
        chosen = conn.execute(
            select(rides.c.id, rides.c.park_id).order_by(rides.c.id).limit(DOWN_NOW)
        ).all()
        conn.execute(
            update(rides).where(rides.c.id.in_([r for r, _ in chosen])).values(live_status="down")
        )
        conn.execute(update(parks).values(live_at=NOW - timedelta(minutes=5), open_now=True))
        conn.execute(
            insert(ride_outages),
            [
                {
                    "ride_id": ride_id,
                    "started_at": NOW - timedelta(minutes=30),
                    "park_date": LAST,
                    "ended_at": None,
                    "minutes": 25.0,
                    "park_wide": False,
                }
                for ride_id, _ in chosen
            ],
        )
    started = time.perf_counter()
    migrate.downgrade(engine, "0015")
    migrate.upgrade(engine)
    say(f"migration 0016 over a year of outages: {time.perf_counter() - started:.1f} s")


def room_mb(engine: Engine, table: str) -> float:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = conn.exec_driver_sql(
                "SELECT SUM(pgsize) FROM dbstat WHERE name = ?", (table,)
            ).scalar_one()
        else:
            found = conn.execute(
                text(
                    "SELECT data_length + index_length FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_name = :name"
                ),
                {"name": table},
            ).scalar_one()
    return float(found or 0) / 2**20


def park_outages_mb(engine: Engine) -> float:
    """What the park rows' outage columns hold."""
    p = park_daily_stats.c
    with engine.connect() as conn:
        found = conn.execute(
            select(func.sum(func.length(p.outage_seconds)) + func.sum(func.length(p.cum_outages)))
        ).scalar_one()
    return float(found or 0) / 2**20


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def measure(label: str, url: str, runs: int) -> None:
    ensure_year(url)
    engine = make_engine(make_url(url))
    add_outages(engine)
    environ = {"DATABASE_URL": url, "API_CACHE_ENTRIES": "0", "RATE_LIMITS_ENABLED": "false"}
    settings = load_settings(environ=environ, ssm_reader=lambda p, r: {})
    with engine.begin() as conn:
        conn.execute(delete(recovery_pools))
    started = time.perf_counter()
    prepared = aggregate(engine, settings, NOW).pools
    preparing = time.perf_counter() - started
    client = create_app(settings, engine, clock=lambda: NOW).test_client()
    month = f"from={LAST - timedelta(days=29)}&to={LAST}"
    year = f"from={LAST - timedelta(days=364)}&to={LAST}"
    rides_of = [park * 1000 + 7 for park in range(1000, 1100, 10)]
    down = [1000001 + k for k in range(10)]  # down now, with a year of their own outages
    scenarios: dict[str, Callable[[int], str]] = {
        "trivial": lambda i: "/api/no-such-path",
        "outages, 30 days": lambda i: f"/api/rides/{rides_of[i % 10]}/outages?{month}",
        "recovery, own pool": lambda i: f"/api/rides/{down[i % 10]}/recovery",
        "recovery, tier pool": lambda i: f"/api/rides/{rides_of[i % 10]}/recovery?down_for=900",
        "rides down now": lambda i: "/api/live/down",
        "rides by MTTR, 30 days": lambda i: f"/api/rides/downtime?{month}&sort=mttr&limit=50",
        "rides by MTTR, 365 days": lambda i: f"/api/rides/downtime?{year}&sort=mttr&limit=50",
        "parks, 30 days": lambda i: f"/api/parks/downtime?{month}",
        "parks, 365 days": lambda i: f"/api/parks/downtime?{year}",
    }
    results = {}
    for name, path in scenarios.items():
        for i in range(3):
            client.get(path(i))
        samples = []
        for i in range(runs):
            started = time.perf_counter()
            response = client.get(path(i))
            samples.append(1000 * (time.perf_counter() - started))
            if response.status_code >= 500 or (name != "trivial" and response.status_code != 200):
                raise RuntimeError(f"{path(i)}: HTTP {response.status_code}")
        results[name] = (statistics.median(samples), p95(samples))
    trivial = results["trivial"][1]
    for name, (p50, high) in results.items():
        print(
            f"{label}: {name:<24} p50 {p50:6.1f} ms  p95 {high:6.1f} ms  "
            f"({high / trivial:5.1f}x trivial)"
        )
    print(f"{label}: aggregate prepared {prepared} recovery pools in {preparing:.1f} s")
    kept = room_mb(engine, "ride_outages") + park_outages_mb(engine)
    pools = room_mb(engine, "recovery_pools")
    print(
        f"{label}: a year of outages takes {kept:.0f} MB (ride_outages, and the park rows' "
        f"outage columns), and the prepared recovery pools {pools:.0f} MB: "
        f"{kept + pools:.0f} MB (budget 100)"
    )
    print(f"{label}: budgets: outages, recovery, rides down now cold p95 <= 25 ms")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-db", type=Path, help="a SQLite file holding a year")
    parser.add_argument("--mysql-url", help="a MySQL database holding (or to hold) a year")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as workdir:
        path = args.sqlite_db or Path(workdir) / "year.db"
        targets = [("sqlite", f"sqlite:///{path.resolve()}")]
        if args.mysql_url:
            targets.append(("mysql", args.mysql_url))
        for label, url in targets:
            measure(label, url, args.runs)


if __name__ == "__main__":
    main()
