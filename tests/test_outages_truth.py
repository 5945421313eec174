"""Outages against the feed's ground truth, over 30 simulated days of three parks with
every quirk of the real feed on (docs/methodology.md, "Outages" and "Back soon?").

- Every clean true breakdown (at least two poll intervals long, apart from storms and
  other closures, ended before closing, and read without a lie) is found as one outage
  starting and ending within one poll, and the reading's age, of the truth.
- The lengths found for the most common tier are, as a distribution, the model's repair
  times seen through the same 10-minute poll grid (Kolmogorov–Smirnov distance <= 0.1).
- Back soon? is calibrated: on held-out days, predictions of P(open within 30 min) in
  bins of 0.1 with 30 cases or more come true that often, within 0.1 of the bin.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import shared_database
from scipy import stats
from sqlalchemy import Engine, select

from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.config import load_settings
from themepark_tracker.engine.recovery import kaplan_meier, recovery
from themepark_tracker.feed.model import REFRESH_SECONDS, FeedConfig, FeedModel
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.jobs.aggregate import aggregate
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.storage.tables import ride_outages, rides

START = datetime(2026, 6, 1, 8, tzinfo=UTC)
DAYS = 30
PARKS = (6, 50, 16)
INTERVAL = timedelta(minutes=10)
#: A reading describes its ride up to a refresh and a minute of lag before the poll.
READING_AGE = timedelta(seconds=REFRESH_SECONDS + 60)
CONFIG = FeedConfig(seed=29)

pytestmark = pytest.mark.heavy


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _fill(engine: Engine, workdir: Path) -> None:
    model = FeedModel(json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8")), CONFIG)
    end = START + timedelta(days=DAYS)
    archive = workdir / "days.jsonl"
    record_archive(model, archive, START, end, INTERVAL, park_ids=list(PARKS))
    settings = load_settings(environ={}, ssm_reader=lambda prefix, region: {})
    import_archives(engine, [archive], settings)
    aggregate(engine, settings, end + timedelta(days=2))


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[FeedModel, dict[int, list[Any]], dict[int, int]]]:
    """The model, each ride's stored outages (oldest first) and each ride's tier: the
    days are imported once per run (SQLite: the outages are the engine's, whichever
    database keeps them)."""
    model = FeedModel(json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8")), CONFIG)
    engine = shared_database("sqlite", "outages", _fill)
    o = ride_outages.c
    found: dict[int, list[Any]] = defaultdict(list)
    with engine.connect() as conn:
        for row in conn.execute(select(ride_outages).order_by(o.ride_id, o.started_at)):
            found[row.ride_id].append(row)
        tiers = {ride_id: tier for ride_id, tier in conn.execute(select(rides.c.id, rides.c.tier))}
    engine.dispose()
    yield model, found, tiers


def _clean_breakdowns(model: FeedModel) -> Iterator[tuple[int, int, datetime, datetime]]:
    """(park, ride, start, end) of each breakdown the rules must find exactly."""
    end = START + timedelta(days=DAYS)
    for park_id in PARKS:
        truth = model.truth(park_id, START, end)
        days = {day["date"]: day for day in truth["days"]}
        for ride in truth["rides"]:
            if ride["kind"] != "ride":
                continue
            opens = [(_at(a), _at(b)) for a, b in ride["open_intervals"]]
            for a, b in ride["breakdowns"]:
                start, finish = _at(a), _at(b)
                if finish - start < 2 * INTERVAL:
                    continue
                before = [o for o in opens if o[1] == start]
                after = [o for o in opens if o[0] == finish]
                # Open on both sides for two polls: no storm, no other closure, not closing.
                if not before or not after:
                    continue
                if before[0][1] - before[0][0] < 2 * INTERVAL + READING_AGE:
                    continue
                if after[0][1] - after[0][0] < 2 * INTERVAL + READING_AGE:
                    continue
                if _lied(model, park_id, ride["id"], start, finish):
                    continue
                assert any(day["opens"] for day in days.values())
                yield park_id, ride["id"], start, finish


def _lied(model: FeedModel, park_id: int, ride_id: int, start: datetime, finish: datetime) -> bool:
    """Whether the ride, around the breakdown, is missing from the feed or read in a way
    the model labels a lie."""
    at = START + INTERVAL * math.floor((start - START - READING_AGE) / INTERVAL)
    while at <= finish + READING_AGE + INTERVAL:
        mine = [r for r in model.readings(park_id, at) if r.ride.id == ride_id]
        if not mine or any(reading.lie is not None for reading in mine):
            return True
        at += INTERVAL
    return False


def test_every_clean_breakdown_is_found_as_one_outage(world: Any) -> None:
    model, found, _ = world
    checked = 0
    for _park, ride_id, start, finish in _clean_breakdowns(model):
        near = [
            o
            for o in found[ride_id]
            if o.started_at < finish + INTERVAL + READING_AGE
            and (o.ended_at or o.started_at) > start
        ]
        assert len(near) == 1, (ride_id, start, finish, near)
        (outage,) = near
        assert timedelta(0) <= outage.started_at - start < INTERVAL + READING_AGE
        assert timedelta(0) <= outage.ended_at - finish < INTERVAL + READING_AGE
        checked += 1
    assert checked > 300


def test_lengths_found_are_the_repair_times_seen_through_the_poll_grid(world: Any) -> None:
    model, found, tiers = world
    tier = 1
    observed = [
        o.minutes
        for ride_id, outages in found.items()
        if tiers.get(ride_id) == tier
        for o in outages
        if o.ended_at is not None and not o.park_wide
    ]
    assert len(observed) > 200
    expected = _through_the_grid(CONFIG.repair_median_minutes[tier - 1], 20_000)
    distance = stats.ks_2samp(observed, expected).statistic
    raw = stats.ks_2samp(observed, _repairs(CONFIG.repair_median_minutes[tier - 1], 20_000))
    assert distance <= 0.1, distance
    assert raw.statistic > distance, "the grid matters"


def _repairs(median: float, count: int) -> list[float]:
    """Repair times (minutes) as the model draws them: log-normal, 5 minutes to 4 hours."""
    rng = random.Random(3)
    return [min(240.0, max(5.0, median * math.exp(rng.gauss(0, 0.6)))) for _ in range(count)]


def _through_the_grid(median: float, count: int) -> list[float]:
    """Each repair time as polls every 10 minutes, at a random phase, see it: a closure
    of r minutes holds floor(r / 10) polls, or one more with chance frac(r / 10); each
    closed poll counts 10 minutes. (The reading's age shifts the polls, not their count.)"""
    rng = random.Random(4)
    seen = []
    for repair in _repairs(median, count):
        polls = math.floor(repair / 10) + (rng.random() < repair / 10 % 1)
        if polls:
            seen.append(10.0 * polls)
    return seen


def test_back_soon_is_calibrated_on_held_out_days(world: Any) -> None:
    """Learn each tier's ride outages from the first 20 days; on the last 10, at every
    poll of a ride outage, predict P(open within 30 min) and see whether it came true."""
    _, found, tiers = world
    cut = START + timedelta(days=20)
    learnt: dict[int, list[float]] = defaultdict(list)
    held: list[tuple[int, Any]] = []
    for ride_id, outages in found.items():
        tier = tiers.get(ride_id) or 2
        for outage in outages:
            if outage.ended_at is None or outage.park_wide:
                continue
            if outage.started_at < cut:
                learnt[tier].append(outage.minutes)
            else:
                held.append((tier, outage))
    bins: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    curves = {tier: kaplan_meier(durations) for tier, durations in learnt.items()}
    for tier, outage in held:
        down_for = 0.0
        while down_for < outage.minutes:
            estimate = recovery(curves[tier], down_for)
            if estimate is not None:
                p = estimate.p_open_within[30]
                came_true = outage.minutes - down_for <= 30
                bins[min(9, int(p * 10))].append((p, came_true))
            down_for += 10
    judged = 0
    for index, cases in bins.items():
        if len(cases) < 30:
            continue
        share = sum(1 for _, hit in cases if hit) / len(cases)
        assert index / 10 - 0.1 <= share <= (index + 1) / 10 + 0.1, (index, share, len(cases))
        judged += 1
    assert judged >= 3
