"""One simulated day of 100 parks x 50 rides polled every 10 minutes (14,400 payloads).

Budget (issue 3): at most 30 s on one core. Machines here are shared and noisy, so the
figure that matters is the ratio printed last, measured in this same run: our payload
generation against a baseline that only JSON-encodes the very same payloads (the least
any generator must do to serve them).

    .venv/bin/python bench/feed_day.py [--parks 100] [--rides 50]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.feed.model import FeedConfig, FeedModel

ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")


def catalogue(parks: int) -> list[dict[str, Any]]:
    """The sample's groups, with parks cloned until there are `parks` of them."""
    sample = json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8"))
    groups = [{**group, "parks": []} for group in sample]
    for index in range(parks):
        group = groups[index % len(groups)]
        group["parks"].append(
            {
                "id": 1000 + index,
                "name": f"Bench Park {index}",
                "country": "United States",
                "continent": "North America",
                "latitude": "28.0",
                "longitude": "-81.0",
                "timezone": ZONES[index % len(ZONES)],
            }
        )
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parks", type=int, default=100)
    parser.add_argument("--rides", type=int, default=50)
    args = parser.parse_args()

    model = FeedModel(catalogue(args.parks), FeedConfig(rides_per_park=(args.rides, args.rides)))
    day = datetime(2026, 7, 4, 8, tzinfo=UTC)
    instants = [day + timedelta(minutes=10 * k) for k in range(144)]

    started = time.process_time()
    bodies = [model.queue_times_json(park_id, at) for park_id in model.parks for at in instants]
    ours = time.process_time() - started

    payloads = [json.loads(body) for body in bodies if body is not None]
    started = time.process_time()
    for payload in payloads:
        json.dumps(payload, ensure_ascii=False).encode()
    baseline = time.process_time() - started

    rides = sum(len(p.rides) for p in model.parks.values())
    print(f"payloads generated:        {len(bodies)} ({len(model.parks)} parks, {rides} rides)")
    print(f"our generation (CPU):      {ours:.2f} s  (budget 30 s)")
    print(f"baseline json.dumps only:  {baseline:.2f} s")
    print(f"ratio ours / baseline:     {ours / baseline:.1f}x")
    print(f"budget used:               {100 * ours / 30:.0f} %")


if __name__ == "__main__":
    main()
