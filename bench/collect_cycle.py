"""One collection cycle over 100 parks against the local feed answering in 300 ms.

Budget (issue 4): at most 2 x the ideal ceil(100 / 8) x 0.3 s = 3.9 s with 8 requests at
a time. Printed next to a baseline measured in this same run: the same 100 GETs with a
plain 8-thread pool and no validation, retries or storage.

    .venv/bin/python bench/collect_cycle.py [--parks 100] [--latency-ms 300]
        [--second-source [--wiki-concurrency N]]

With --second-source (issue 21: at most 1.5 x the one-source cycle) every park is also
paired with the feed's ThemeParks.wiki answers, and two cycles of each kind run in the
same process: one source, then both (the first of those also fetches every schedule).
"""

from __future__ import annotations

import argparse
import logging
import math
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from feed_day import catalogue
from sqlalchemy import make_url

from themepark_tracker.catalogue import Scope
from themepark_tracker.config import load_settings
from themepark_tracker.feed.model import FeedConfig, FeedModel
from themepark_tracker.feed.server import Faults, running_server
from themepark_tracker.feed.wiki import WikiFeed
from themepark_tracker.jobs.collect import collect_cycle
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.storage import migrate
from themepark_tracker.storage.db import make_engine
from themepark_tracker.storage.wiki import save_parks
from themepark_tracker.wiki_mapping import ParkPair

NOW = datetime(2026, 7, 4, 18, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parks", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--second-source", action="store_true")
    parser.add_argument("--wiki-concurrency", type=int, default=None)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    document = catalogue(args.parks)
    model = FeedModel(document, FeedConfig(rides_per_park=(50, 50)))
    faults = Faults(latency_ms=args.latency_ms)
    ideal = math.ceil(args.parks / args.concurrency) * args.latency_ms / 1000
    if args.second_source:
        both_sources(model, document, faults, args.concurrency, args.wiki_concurrency)
        return
    with (
        tempfile.TemporaryDirectory() as workdir,
        running_server(model, lambda: NOW, faults) as url,
    ):
        engine = make_engine(make_url(f"sqlite:///{workdir}/bench.db"))
        migrate.upgrade(engine)
        sync_parks(engine, document, source="bench", scope=Scope(), now=NOW)
        settings = load_settings(
            environ={
                "QUEUE_TIMES_BASE_URL": url,
                "COLLECT_CONCURRENCY": str(args.concurrency),
                "DATA_DIR": workdir,
            },
            ssm_reader=lambda prefix, region: {},
        )
        started = time.perf_counter()
        report = collect_cycle(engine, settings, lambda: NOW)
        ours = time.perf_counter() - started

        session = requests.Session()
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(
                pool.map(
                    lambda p: session.get(f"{url}/parks/{p}/queue_times.json", timeout=10).content,
                    model.parks,
                )
            )
        baseline = time.perf_counter() - started
        engine.dispose()
    print(report.summary())
    print(
        f"ideal ceil({args.parks}/{args.concurrency}) x {args.latency_ms / 1000:g} s: {ideal:.2f} s"
    )
    print(
        f"our cycle (fetch, validate, store): {ours:.2f} s = {ours / ideal:.2f} x ideal (budget 2)"
    )
    print(
        f"baseline plain GETs:                  {baseline:.2f} s = {baseline / ideal:.2f} x ideal"
    )
    print(f"ratio ours / baseline:                {ours / baseline:.2f} x")


def both_sources(
    model: FeedModel,
    document: Any,
    faults: Faults,
    concurrency: int,
    wiki_concurrency: int | None,
) -> None:
    """Three one-source cycles (the baseline is their median), then every park paired and
    three cycles of both: the first (every park's 30 days and month of schedules too), a
    steady one, and a park day's first (every park's schedule again)."""
    wiki = WikiFeed(model)
    now = [NOW]
    with (
        tempfile.TemporaryDirectory() as workdir,
        running_server(model, lambda: now[0], faults, wiki=wiki) as url,
    ):
        engine = make_engine(make_url(f"sqlite:///{workdir}/bench.db"))
        migrate.upgrade(engine)
        sync_parks(engine, document, source="bench", scope=Scope(), now=NOW)
        environ = {
            "QUEUE_TIMES_BASE_URL": url,
            "THEMEPARKS_WIKI_BASE_URL": f"{url}/v1",
            "COLLECT_CONCURRENCY": str(concurrency),
            "DATA_DIR": workdir,
        }
        if wiki_concurrency:
            environ["THEMEPARKS_WIKI_CONCURRENCY"] = str(wiki_concurrency)

        def cycle(label: str, at: datetime, enabled: str) -> float:
            now[0] = at
            settings = load_settings(
                environ={**environ, "THEMEPARKS_WIKI_ENABLED": enabled},
                ssm_reader=lambda prefix, region: {},
            )
            started = time.perf_counter()
            report = collect_cycle(engine, settings, lambda: at)
            took = time.perf_counter() - started
            print(f"{label}: {took:.2f} s\n   {report.summary()}")
            return took

        one = sorted(
            cycle(f"one source, cycle {k + 1}", NOW + timedelta(minutes=10 * k), "false")
            for k in range(3)
        )
        pairs = {
            park_id: ParkPair(park_id, wiki_id, model.parks[park_id].name, "override")
            for park_id, wiki_id in wiki.park_ids.items()
        }
        with engine.begin() as conn:
            save_parks(conn, pairs, NOW)
        both = {
            "first (30 days and the month of schedules)": NOW + timedelta(minutes=30),
            "steady": NOW + timedelta(minutes=40),
            "a park day's first (every schedule again)": NOW + timedelta(days=1),
        }
        timings = {what: cycle(f"both sources, {what}", at, "true") for what, at in both.items()}
        engine.dispose()
    baseline = one[1]
    print(f"one source (median of 3): {baseline:.2f} s")
    for what, took in timings.items():
        print(f"both sources, {what}: {took / baseline:.2f} x one source (budget 1.5)")


if __name__ == "__main__":
    main()
