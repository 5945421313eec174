"""The API under load: rankings over a simulated year, served by gunicorn (2 worker
processes) over loopback, against the same server answering a trivial request.

Budgets: rankings p95 <= 25 ms and >= 300 requests/s as served (issue 6); cold, p95 <= 5x
the trivial request of the same run, and park and ride pages cold p95 <= 25 ms (issue 19);
on SQLite and on MariaDB. Scenarios, each measured in this one run:

- rankings: park and ride rankings (top 50) for periods of 1, 7, 30, 31 and 365 days,
  every sort, in rotation; answers repeat between two collections, so each worker
  process answers them from its memo after the first time;
- rankings, cold: the same with the memo off (API_CACHE_ENTRIES=0), so that every
  request reads the database: the cost of the first request after each collection, and
  of every new custom range;
- pages, cold: park pages and ride pages over 30 days, memo off;
- trivial: an unknown path, answered by the same stack (routing, security headers,
  JSON error) without the database: the baseline the ratios divide by.

The load generator runs 2 processes x 4 threads of keep-alive clients on the same
machine (2 cores shared with the server), which makes its figures a floor.

    .venv/bin/python bench/api_load.py [--sqlite-db PATH] [--mysql-url URL] [--seconds 10]
        [--json]

--json prints one JSON object (the figures of each database, for comparing runs) and
the human-readable lines on standard error.

Without --sqlite-db a year of statistics is written first (about 3 minutes);
--mysql-url names a database holding such a year (bench/stats_year.py's `a_year`), or
an empty one to fill.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import logging
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import get_args

from sqlalchemy import func, make_url, select
from stats_year import a_year

from themepark_tracker.api.params import ParkSort, RideSort
from themepark_tracker.storage import migrate
from themepark_tracker.storage.db import make_engine
from themepark_tracker.storage.tables import ride_daily_stats

LAST = date(2026, 7, 3)
SPANS = (1, 7, 30, 31, 365)
BIN = Path(sys.executable).parent


PARK_SORTS = get_args(ParkSort)
RIDE_SORTS = get_args(RideSort)


def ranking_paths() -> list[str]:
    """Every sort of parks and of rides (top 50) over each span, worst first; the
    dashboard's ascending uptime too."""
    paths = []
    for days in SPANS:
        span = f"from={LAST - timedelta(days=days - 1)}&to={LAST}"
        paths += [f"/api/parks/downtime?{span}&sort={sort}" for sort in PARK_SORTS]
        paths.append(f"/api/parks/downtime?{span}&sort=uptime&order=asc")
        paths += [f"/api/rides/downtime?{span}&limit=50&sort={sort}" for sort in RIDE_SORTS]
    return paths


def page_paths() -> list[str]:
    """Park pages and ride pages over 30 days, of ten parks and ten rides."""
    span = f"from={LAST - timedelta(days=29)}&to={LAST}"
    parks = [1000 + 10 * k for k in range(10)]
    return [f"/api/parks/{park}?{span}" for park in parks] + [
        f"/api/rides/{park * 1000 + 7}?{span}" for park in parks
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """gunicorn with 2 workers on the tracker's WSGI entry point."""

    def __init__(self, database_url: str, **environ: str) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "RATE_LIMITS_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            **environ,
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
            [
                str(BIN / "gunicorn"),
                "--workers=2",
                "--threads=4",
                f"--bind=127.0.0.1:{self.port}",
                "--log-level=warning",
                "themepark_tracker.wsgi:application",
            ],
            env=env,
        )
        for _ in range(200):
            try:
                status, _ = fetch(http.client.HTTPConnection("127.0.0.1", self.port), "/api/health")
                if status in (200, 503):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not answer")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def fetch(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read()


def _client(port: int, paths: list[str], until: float, offset: int, out: list[float]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for path in itertools.islice(itertools.cycle(paths), offset, None):
        if time.perf_counter() >= until:
            break
        started = time.perf_counter()
        status, _ = fetch(conn, path)
        if status >= 500:
            raise RuntimeError(f"{path}: HTTP {status}")
        out.append(1000 * (time.perf_counter() - started))
    conn.close()


def _process(port: int, paths: list[str], seconds: float, seed: int, queue: object) -> None:
    until = time.perf_counter() + seconds
    samples: list[list[float]] = [[] for _ in range(4)]
    threads = [
        threading.Thread(target=_client, args=(port, paths, until, seed * 4 + i, samples[i]))
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put([s for part in samples for s in part])  # type: ignore[attr-defined]


def load(port: int, paths: list[str], seconds: float) -> tuple[float, float, float]:
    """(p50 ms, p95 ms, requests per second) of 2 processes x 4 keep-alive clients."""
    queue: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_process, args=(port, paths, seconds, i, queue))
        for i in range(2)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    samples = [s for _ in workers for s in queue.get()]
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94], len(samples) / elapsed


def measure(label: str, database_url: str, seconds: float) -> dict[str, float]:
    paths = ranking_paths()
    results = {}
    for scenario, environ, wanted in (
        ("rankings", {}, paths),
        ("rankings, cold", {"API_CACHE_ENTRIES": "0"}, paths),
        ("pages, cold", {"API_CACHE_ENTRIES": "0"}, page_paths()),
        ("trivial", {}, ["/api/no-such-path"]),
    ):
        server = Server(database_url, **environ)
        try:
            load(server.port, wanted, min(2.0, seconds))  # warm up: connections, memo
            results[scenario] = load(server.port, wanted, seconds)
        finally:
            server.stop()
    _, _, trivial_rps = results["trivial"]
    trivial_p95 = results["trivial"][1]
    for scenario, (p50, p95, rps) in results.items():
        say(
            f"{label}: {scenario:<15} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  {rps:7.0f} req/s"
            f"  (p95 {p95 / trivial_p95:4.1f}x, throughput {rps / trivial_rps:4.2f}x trivial)"
        )
    say(
        f"{label}: budgets: rankings as served p95 <= 25 ms and >= 300 req/s; cold p95 <= 5x "
        "trivial; pages cold p95 <= 25 ms"
    )
    return {
        "cold_p95_ms": round(results["rankings, cold"][1], 1),
        "served_p95_ms": round(results["rankings"][1], 1),
        "trivial_p95_ms": round(trivial_p95, 1),
        "pages_cold_p95_ms": round(results["pages, cold"][1], 1),
        "cold_p50_ms": round(results["rankings, cold"][0], 1),
        "cold_ratio": round(results["rankings, cold"][1] / trivial_p95, 1),
    }


#: Where the human-readable lines go: standard error when standard output is JSON.
OUT = sys.stdout


def say(line: str) -> None:
    print(line, file=OUT, flush=True)


def ensure_year(url: str) -> None:
    engine = make_engine(make_url(url))
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(ride_daily_stats)).scalar_one()
    if rows == 0:
        say(f"writing a year of statistics into {make_url(url).render_as_string()} ...")
        a_year(engine, 100, 50, 4.2)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-db", type=Path, help="a SQLite file holding a year")
    parser.add_argument("--mysql-url", help="a MySQL database holding (or to hold) a year")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    global OUT  # noqa: PLW0603 - one switch for the whole run
    OUT = sys.stderr if args.json else sys.stdout
    logging.disable(logging.WARNING)
    figures = {}
    with tempfile.TemporaryDirectory() as workdir:
        sqlite_path = args.sqlite_db or Path(workdir) / "year.db"
        targets = [("sqlite", f"sqlite:///{sqlite_path.resolve()}")]
        if args.mysql_url:
            targets.append(("mysql", args.mysql_url))
        for label, url in targets:
            ensure_year(url)
            figures[label] = measure(label, url, args.seconds)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
