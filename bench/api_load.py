"""The API under load: rankings over a simulated year, served by gunicorn (2 worker
processes) over loopback, against the same server answering a trivial request.

Budget (issue 6): p95 <= 25 ms and >= 300 requests/s for rankings of any period, on
SQLite and on MariaDB. Scenarios, each measured in this one run:

- rankings: park and ride rankings (top 50) for periods of 1, 7, 30, 31 and 365 days,
  every sort order the dashboard asks for, in rotation; answers repeat between two
  collections, so each worker process answers them from its memo after the first time;
- rankings, cold: the same with the memo off (API_CACHE_ENTRIES=0), so that every
  request reads the database: the cost of the first request after each collection;
- trivial: an unknown path, answered by the same stack (routing, security headers,
  JSON error) without the database: the baseline the ratios divide by.

The load generator runs 2 processes x 4 threads of keep-alive clients on the same
machine (2 cores shared with the server), which makes its figures a floor.

    .venv/bin/python bench/api_load.py [--sqlite-db PATH] [--mysql-url URL] [--seconds 10]

Without --sqlite-db a year of statistics is written first (about 3 minutes);
--mysql-url names a database holding such a year (bench/stats_year.py's `a_year`), or
an empty one to fill.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
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

from sqlalchemy import func, make_url, select
from stats_year import a_year

from themepark_tracker.storage import migrate
from themepark_tracker.storage.db import make_engine
from themepark_tracker.storage.tables import ride_daily_stats

LAST = date(2026, 7, 3)
SPANS = (1, 7, 30, 31, 365)
BIN = Path(sys.executable).parent


def ranking_paths() -> list[str]:
    paths = []
    for days in SPANS:
        span = f"from={LAST - timedelta(days=days - 1)}&to={LAST}"
        paths += [
            f"/api/parks/downtime?{span}",
            f"/api/parks/downtime?{span}&sort=uptime&order=asc",
            f"/api/rides/downtime?{span}&limit=50",
            f"/api/rides/downtime?{span}&limit=50&sort=events",
        ]
    return paths


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


def measure(label: str, database_url: str, seconds: float) -> None:
    paths = ranking_paths()
    results = {}
    for scenario, environ, wanted in (
        ("rankings", {}, paths),
        ("rankings, cold", {"API_CACHE_ENTRIES": "0"}, paths),
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
        print(
            f"{label}: {scenario:<15} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  {rps:7.0f} req/s"
            f"  (p95 {p95 / trivial_p95:4.1f}x, throughput {rps / trivial_rps:4.2f}x trivial)"
        )
    print(f"{label}: budget p95 <= 25 ms and >= 300 req/s for rankings")


def ensure_year(url: str) -> None:
    engine = make_engine(make_url(url))
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(ride_daily_stats)).scalar_one()
    if rows == 0:
        print(f"writing a year of statistics into {make_url(url).render_as_string()} ...")
        a_year(engine, 100, 50, 4.2)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-db", type=Path, help="a SQLite file holding a year")
    parser.add_argument("--mysql-url", help="a MySQL database holding (or to hold) a year")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as workdir:
        sqlite_path = args.sqlite_db or Path(workdir) / "year.db"
        targets = [("sqlite", f"sqlite:///{sqlite_path.resolve()}")]
        if args.mysql_url:
            targets.append(("mysql", args.mysql_url))
        for label, url in targets:
            ensure_year(url)
            measure(label, url, args.seconds)


if __name__ == "__main__":
    main()
