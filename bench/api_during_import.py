"""The API while `themepark-tracker import` writes to the same database.

Budget: the API's p99 while an archive is imported stays under 250 ms (SQLite, and
MariaDB too). A small world is built first: a few days of history for a handful of
simulated parks, imported in this process. The API is then served as in production by
a real server process (`themepark-tracker serve`: waitress, its default threads) on a
free loopback port, with `API_AUTH=required` and a key made by `themepark-tracker
api-key create`. Eight client threads, each on its own keep-alive connection, ask in
rotation what the dashboard and API users ask: park and ride rankings over three
periods (one of them takes in the days being imported), a park's page, and health.

Latency is measured twice in this one run: idle, then while `themepark-tracker import`
of further days (about 20 s of work on its own) runs as a subprocess. Any answer that is
not 200 counts as a failure; there must be none.

    .venv/bin/python bench/api_during_import.py [--parks 6] [--history-days 3]
        [--import-days 8] [--seconds 10] [--threads N] [--slowest N]
        [--database-url mysql+mysqldb://root@127.0.0.1:3306/x]

With --database-url the run is on that MariaDB server, in a throwaway database made and
dropped by the bench (the URL's own database is not touched); without it, on a SQLite
file in a temporary directory.

Measured (2 shared cores, other test runs beside; defaults; two runs each, before and
after alternating): SQLite p99 during the import was 3,220 and 3,652 ms (idle 106 ms),
now 140 and 131 ms (idle 53 and 58 ms); MariaDB 210 and 196 ms, now 169 and 192 ms.
Before, every request with a key wrote its last-used time (a conditional UPDATE that
took SQLite's write lock even when it changed nothing), so on SQLite each waited for
the import's transaction to end, for seconds. Now the time is written only when due,
at most every 5 minutes, without waiting (skipped while a job holds the lock). The rest
of the tail is answers computed anew after each of the import's commits (about three a
second): with 8 server threads sharing one core under the GIL they waited for all the
others (p99 190 to 300 ms on SQLite with that fix alone), hence `serve`'s 4 threads.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.config import load_settings
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.sources.queue_times import read_json_file
from themepark_tracker.storage import migrate
from themepark_tracker.storage.db import make_engine

BIN = Path(sys.executable).parent
TRACKER = str(BIN / "themepark-tracker")
#: Parks of the shipped sample inside the default scope (North America), in this order.
PARKS = (6, 5, 7, 8, 16, 65, 64, 21, 50, 32)
FIRST_DAY = date(2026, 6, 1)
BUDGET_P99_MS = 250.0


@dataclass(frozen=True)
class Sample:
    at: float
    ms: float
    path: str
    status: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def request_paths(parks: list[int], history: tuple[date, date], imported: date) -> list[str]:
    """What clients ask in rotation: rankings over the last history day, the whole history
    and the week up to the last imported day (which changes as the import lands), a
    park's page over those periods, and health."""
    first, last = history
    periods = [
        f"from={last}&to={last}",
        f"from={first}&to={last}",
        f"from={imported - timedelta(days=6)}&to={imported}",
    ]
    paths = []
    for index, span in enumerate(periods):
        paths += [
            f"/api/parks/downtime?{span}",
            f"/api/parks/downtime?{span}&sort=uptime&order=asc",
            f"/api/rides/downtime?{span}&limit=50",
            f"/api/rides/downtime?{span}&limit=50&sort=events",
            f"/api/parks/{parks[index % len(parks)]}?{span}",
            "/api/health",
        ]
    return paths


class Server:
    """`themepark-tracker serve` on a free loopback port."""

    def __init__(self, environ: dict[str, str], log: Path, threads: int | None) -> None:
        self.port = _free_port()
        self.log = log.open("w")  # waitress warns of its queue depth: not for the table
        command = [TRACKER, "serve", "--host=127.0.0.1", f"--port={self.port}"]
        self.process = subprocess.Popen(  # noqa: S603 - our own venv's entry point
            command + ([f"--threads={threads}"] if threads else []),
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/health")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the API server did not answer")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


def _client(
    port: int, key: str, paths: list[str], offset: int, stop: threading.Event, out: list[Sample]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"X-API-Key": key}
    for path in itertools.islice(itertools.cycle(paths), offset, None):
        if stop.is_set():
            break
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        out.append(Sample(started, 1000 * (time.perf_counter() - started), path, response.status))
    conn.close()


@contextmanager
def clients(port: int, key: str, paths: list[str], count: int) -> Iterator[list[Sample]]:
    """`count` client threads asking until the block ends; yields their samples."""
    stop = threading.Event()
    parts: list[list[Sample]] = [[] for _ in range(count)]
    step = max(1, len(paths) // count)
    threads = [
        threading.Thread(target=_client, args=(port, key, paths, i * step, stop, parts[i]))
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    samples: list[Sample] = []
    try:
        yield samples
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        samples.extend(s for part in parts for s in part)


@dataclass(frozen=True)
class Figures:
    count: int
    failures: int
    p50: float
    p95: float
    p99: float
    max: float
    rps: float


def figures(samples: list[Sample], seconds: float) -> Figures:
    times = [s.ms for s in samples]
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    failures = sum(1 for s in samples if s.status != 200)
    return Figures(
        len(times), failures, cuts[49], cuts[94], cuts[98], max(times), len(times) / seconds
    )


def _row(label: str, f: Figures) -> str:
    return (
        f"{label:<14} {f.count:>7} {f.failures:>5} {f.p50:>8.1f} {f.p95:>8.1f} {f.p99:>8.1f}"
        f" {f.max:>8.1f} {f.rps:>7.0f}"
    )


def build_world(url: str, workdir: Path, args: argparse.Namespace) -> tuple[Path, list[str]]:
    """The history imported into `url`, the further days' archive, and the request paths."""
    model = FeedModel(read_json_file(SAMPLE_PARKS_FILE))
    parks = list(PARKS[: args.parks])
    history = workdir / "history.jsonl.gz"
    further = workdir / "further.jsonl.gz"
    split = FIRST_DAY + timedelta(days=args.history_days)
    end = split + timedelta(days=args.import_days)
    interval = timedelta(minutes=10)
    record_archive(model, history, _midnight(FIRST_DAY), _midnight(split), interval, parks)
    record_archive(model, further, _midnight(split), _midnight(end), interval, parks)
    settings = load_settings(environ={}, ssm_reader=lambda prefix, region: {})
    engine = make_engine(make_url(url))
    migrate.upgrade(engine)
    started = time.perf_counter()
    report = import_archives(engine, [history], settings)
    engine.dispose()
    print(f"history: {report.summary()} ({time.perf_counter() - started:.0f} s)")
    last_history = split - timedelta(days=1)
    paths = request_paths(parks, (FIRST_DAY, last_history), end - timedelta(days=1))
    return further, paths


def make_key(environ: dict[str, str]) -> str:
    made = subprocess.run(  # noqa: S603 - our own venv's entry point
        [TRACKER, "api-key", "create", "bench"],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r": (\S+)$", made.stdout.strip())
    if not found:
        raise RuntimeError(f"no key in {made.stdout!r}")
    return found.group(1)


def measure(label: str, url: str, workdir: Path, args: argparse.Namespace) -> None:
    further, paths = build_world(url, workdir, args)
    environ = {
        **os.environ,
        "DATABASE_URL": url,
        "API_AUTH": "required",
        "SECRET_KEY": uuid.uuid4().hex,
        "API_RATE_LIMITS": "1000000/hour",
        "LOG_LEVEL": "WARNING",
    }
    key = make_key(environ)
    server = Server(environ, workdir / "server.log", args.threads)
    try:
        with clients(server.port, key, paths, args.clients):  # warm up: connections, memo
            time.sleep(2)
        started = time.perf_counter()
        with clients(server.port, key, paths, args.clients) as samples:
            time.sleep(args.seconds)
        idle = figures(samples, time.perf_counter() - started)
        started = time.perf_counter()
        with clients(server.port, key, paths, args.clients) as during:
            importing = subprocess.run(  # noqa: S603 - our own venv's entry point
                [TRACKER, "import", str(further)],
                env=environ,
                capture_output=True,
                text=True,
                check=True,
            )
        elapsed = time.perf_counter() - started
        busy = figures(during, elapsed)
    finally:
        server.stop()
    print(f"{label}: import {importing.stdout.strip()} (wall {elapsed:.1f} s)")
    print(
        f"{'':<14} {'answers':>7} {'fail':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'max ms':>8} {'req/s':>7}"
    )
    print(_row(f"{label} idle", idle))
    print(_row(f"{label} import", busy))
    print(
        f"{label}: p99 during import / idle {busy.p99 / idle.p99:.1f}x;"
        f" budget p99 < {BUDGET_P99_MS:.0f} ms during import:"
        f" {'met' if busy.p99 < BUDGET_P99_MS and not busy.failures else 'NOT met'}"
    )
    failed = Counter(s.status for s in [*samples, *during] if s.status != 200)
    if failed:
        print(f"{label}: FAILED answers by status: {dict(failed)}; the server's log ends:")
        print("\n".join(Path(server.log.name).read_text().splitlines()[-20:]))
    if args.slowest:
        print(f"{label}: slowest answers during the import (seconds into it):")
        for s in sorted(during, key=lambda s: s.ms, reverse=True)[: args.slowest]:
            print(f"  {s.ms:8.1f} ms  +{s.at - started:5.1f} s  {s.status}  {s.path}")


@contextmanager
def throwaway_mysql(server_url: str) -> Iterator[str]:
    server = make_url(server_url)
    name = f"tpt_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server._replace(database=None))  # no database: it may not exist
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE {name}"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parks", type=int, default=6, choices=range(1, len(PARKS) + 1))
    parser.add_argument("--history-days", type=int, default=3)
    parser.add_argument("--import-days", type=int, default=8, help="days the timed import adds")
    parser.add_argument("--seconds", type=float, default=10.0, help="idle measurement")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, help="the server's (default: serve's own)")
    parser.add_argument("--slowest", type=int, default=0, help="list the N slowest answers")
    parser.add_argument(
        "--database-url", help="a MariaDB server to run on (a throwaway database is made)"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as workdir:
        if args.database_url:
            with throwaway_mysql(args.database_url) as url:
                measure("mysql", url, Path(workdir), args)
        else:
            measure("sqlite", f"sqlite:///{workdir}/bench.db", Path(workdir), args)


if __name__ == "__main__":
    main()
