"""`sources map`: parks and rides paired with the local feed's ThemeParks.wiki entities,
on both databases, through the command; changes logged, failures kept apart."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from feed_fixtures import SimClock, catalogue, collect_every_ten_minutes
from sqlalchemy import Engine, select

from themepark_tracker.cli import cli
from themepark_tracker.config import load_settings
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.feed.server import running_server
from themepark_tracker.feed.wiki import WikiFeed
from themepark_tracker.jobs.wiki_map import map_sources
from themepark_tracker.storage.tables import rides, wiki_parks, wiki_rides
from themepark_tracker.wiki_mapping import shipped_parks

#: A verified row of the table, and a name match nobody verified (and wrong: Queue-Times'
#: 57 is Canada's Wonderland, the table's row says Great America).
MAGIC_KINGDOM, WONDERLAND = 6, 57
T0 = datetime(2026, 7, 3, 16, tzinfo=UTC)


@pytest.fixture
def model() -> FeedModel:
    return FeedModel(catalogue(MAGIC_KINGDOM, WONDERLAND))


def _pairs(engine: Engine) -> tuple[dict[int, str], dict[int, tuple[str, str]]]:
    with engine.connect() as conn:
        parks = dict(conn.execute(select(wiki_parks.c.park_id, wiki_parks.c.wiki_id)).all())
        found = conn.execute(select(wiki_rides.c.ride_id, wiki_rides.c.wiki_id, wiki_rides.c.how))
        return parks, {ride: (wiki_id, how) for ride, wiki_id, how in found}


def test_every_park_and_ride_is_paired_and_changes_are_logged(
    runner: CliRunner,
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    model: FeedModel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = SimClock(T0)
    collect_every_ten_minutes(engine, model, clock, 1)
    wiki = WikiFeed(model)
    with running_server(model, clock, wiki=wiki) as url:
        env = {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(tmp_path),
            "THEMEPARKS_WIKI_BASE_URL": url + "/v1",
        }
        first = runner.invoke(cli, ["sources", "map"], env=env)
        assert first.exit_code == 0, first.output
        assert "1 parks mapped, 1 awaiting review" in first.output
        parks, pairs = _pairs(engine)
        assert parks == {MAGIC_KINGDOM: shipped_parks()[MAGIC_KINGDOM].wiki_id}
        with engine.connect() as conn:
            stored = dict(
                conn.execute(
                    select(rides.c.id, rides.c.name).where(rides.c.park_id == MAGIC_KINGDOM)
                ).all()
            )
        simulated = {ride.id: ride for park in model.parks.values() for ride in park.rides}
        checked = single = 0
        for ride_id, name in stored.items():
            ride = simulated[ride_id]
            owner = simulated[ride.parent_id] if ride.parent_id is not None else ride
            if name == ride.name:  # not renamed by a quirk of the feed
                assert pairs[ride_id] == (wiki.ride_id(owner), "name"), name
                checked += 1
                single += owner is not ride
        assert checked > 0.8 * len(stored) and single > 0

        review = runner.invoke(cli, ["sources", "map", "--review"], env=env)
        assert review.exit_code == 0
        row = f"park,{WONDERLAND},{shipped_parks()[WONDERLAND].wiki_id}"
        assert row in review.output and "Canada's Wonderland = Great America?" in review.output

        some_ride = min(pairs)
        wonderland = wiki.park_ids[WONDERLAND]  # what a person would find and confirm
        (tmp_path / "themeparks_wiki_map.csv").write_text(
            "kind,queue_times_id,themeparks_wiki_id\n"
            f"park,{WONDERLAND},{wonderland}\n"
            f"ride,{some_ride},\n"
        )
        job_log = logging.getLogger("themepark_tracker.jobs.wiki_map")
        job_log.addHandler(caplog.handler)
        try:
            settings = load_settings(environ=env, ssm_reader=lambda prefix, region: {})
            report = map_sources(engine, settings, T0)
        finally:
            job_log.removeHandler(caplog.handler)
    parks_after, pairs_after = _pairs(engine)
    assert parks_after == {**parks, WONDERLAND: wonderland} and some_ride not in pairs_after
    changes = {(c.kind, c.queue_times_id, c.after) for c in report.changes}
    assert ("park", WONDERLAND, wonderland) in changes and ("ride", some_ride, None) in changes
    assert all(
        c.after is not None
        for c in report.changes
        if c.kind == "ride" and c.queue_times_id != some_ride
    )
    logged = {
        (r.kind, r.queue_times_id, r.after)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.getMessage() == "ThemeParks.wiki pair changed"
    }
    assert logged == changes


def test_a_park_that_cannot_be_paired_is_reported_and_the_rest_is_stored(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path, model: FeedModel
) -> None:
    clock = SimClock(T0)
    collect_every_ten_minutes(engine, model, clock, 1)
    (tmp_path / "themeparks_wiki_map.csv").write_text(
        "kind,queue_times_id,themeparks_wiki_id\n"
        f"park,{WONDERLAND},00000000-0000-0000-0000-000000000000\n"
    )
    with running_server(model, clock, wiki=WikiFeed(model)) as url:
        env = {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(tmp_path),
            "THEMEPARKS_WIKI_BASE_URL": url + "/v1",
        }
        result = runner.invoke(cli, ["sources", "map"], env=env)
        off = runner.invoke(
            cli, ["sources", "map"], env={**env, "THEMEPARKS_WIKI_ENABLED": "false"}
        )
    assert result.exit_code == 3
    assert f"not mapped: park {WONDERLAND}: 00000000" in result.output
    assert set(_pairs(engine)[0]) == {MAGIC_KINGDOM}
    assert off.exit_code == 1 and "turned off (THEMEPARKS_WIKI_ENABLED)" in off.output
