"""Ride tiers and categories: overrides, then the cache, then keyword rules."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, insert, select

from themepark_tracker.classify import (
    ClassificationError,
    Decision,
    classify_by_rules,
    decide,
    parse_cache,
    parse_overrides,
    render_cache,
)
from themepark_tracker.cli import cli
from themepark_tracker.config import load_settings
from themepark_tracker.ingest import PollInput
from themepark_tracker.jobs.classify import classify_rides
from themepark_tracker.jobs.polls import PollRules, PollStore
from themepark_tracker.storage.tables import parks, rides

T = datetime(2026, 7, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "tier", "category"),
    [
        ("Space Mountain", 1, "ride"),
        ("Hagrid's Magical Creatures Motorbike Adventure", 2, "ride"),
        ("Jurassic World VelociCoaster", 1, "ride"),
        ("Dumbo the Flying Elephant", 3, "ride"),
        ("Prince Charming Regal Carrousel", None, None),
        ("Festival of the Lion King", None, "show"),
        ("Meet Mickey at Town Square Theater", None, "meet_greet"),
        ("Festival of Fantasy Parade", None, "parade"),
        ("Indiana Jones Epic Stunt Spectacular!", None, "show"),
        ("Peter Pan's Flight", 2, "ride"),
        ("Haunted Mansion", None, None),
    ],
)
def test_keyword_rules(name: str, tier: int | None, category: str | None) -> None:
    decision = classify_by_rules(name)
    assert (decision.tier, decision.category) == (tier, category)
    assert 0 <= decision.confidence <= 1


def test_overrides_win_over_the_cache_and_the_cache_over_the_rules() -> None:
    overrides = {(6, 1): Decision(3, "ride", 1.0, "manual", "kiddie coaster")}
    cache = {"6:1": Decision(1, "ride", 0.6, "rules"), "6:2": Decision(2, "ride", 0.4, "rules")}
    assert decide(6, 1, "Barnstormer Coaster", overrides, cache).source == "manual"
    assert decide(6, 2, "Big Thunder Mountain", overrides, cache).tier == 2
    assert decide(6, 3, "Big Thunder Mountain", overrides, cache).tier == 1


def test_overrides_csv_and_its_errors() -> None:
    text = "park_id,ride_id,tier,reason,category\n6,1,1,headliner,\n6,2,,a show,show\n"
    parsed = parse_overrides(text, "o.csv")
    assert parsed[(6, 1)] == Decision(1, "ride", 1.0, "manual", "headliner")
    assert parsed[(6, 2)].category == "show" and parsed[(6, 2)].tier is None
    with pytest.raises(ClassificationError, match="o.csv:2: tier must be 1, 2, 3"):
        parse_overrides("park_id,ride_id,tier,reason\n6,1,4,x\n", "o.csv")
    with pytest.raises(ClassificationError, match="missing columns reason"):
        parse_overrides("park_id,ride_id,tier\n", "o.csv")
    with pytest.raises(ClassificationError, match="o.csv:2: park_id, ride_id and tier are num"):
        parse_overrides("park_id,ride_id,tier,reason\nsix,1,1,x\n", "o.csv")


def test_the_cache_round_trips_and_refuses_another_schema() -> None:
    decisions = {"6:1": Decision(1, "ride", 0.6, "rules", "coaster")}
    assert parse_cache(render_cache(decisions), "c.json") == decisions
    with pytest.raises(ClassificationError, match="expected schema_version 1"):
        parse_cache(json.dumps({"schema_version": 0, "decisions": {}}), "c.json")
    with pytest.raises(ClassificationError, match="not valid JSON"):
        parse_cache("{", "c.json")


def _park(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(parks),
            [
                {
                    "id": 6,
                    "name": "Magic Kingdom",
                    "operator": "Disney",
                    "operator_id": 2,
                    "country": "United States",
                    "continent": "North America",
                    "latitude": 28.4,
                    "longitude": -81.6,
                    "timezone": "America/New_York",
                    "first_seen_at": T,
                    "last_seen_at": T,
                    "updated_at": T,
                }
            ],
        )


def _rides(engine: Engine) -> None:
    _park(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(rides),
            [
                {
                    "id": ride_id,
                    "park_id": 6,
                    "name": name,
                    "first_seen_at": T,
                    "last_seen_at": T,
                    "updated_at": T,
                }
                for ride_id, name in [
                    (1, "Space Mountain"),
                    (2, "Meet Mickey at Town Square Theater"),
                    (3, "Haunted Mansion"),
                ]
            ],
        )


def test_classify_stores_decisions_and_remembers_rule_decisions(
    engine: Engine, tmp_path: Path
) -> None:
    _rides(engine)
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("park_id,ride_id,tier,reason\n6,3,1,headliner dark ride\n")
    cache = tmp_path / "cache.json"
    report = classify_rides(engine, overrides, cache)
    assert report.sources == {"rules": 2, "manual": 1}
    with engine.connect() as conn:
        stored = {
            row.id: (row.tier, row.category, row.tier_source) for row in conn.execute(select(rides))
        }
    assert stored == {
        1: (1, "ride", "rules"),
        2: (None, "meet_greet", "rules"),
        3: (1, "ride", "manual"),
    }
    assert set(parse_cache(cache.read_text(), "c")) == {"6:1", "6:2"}
    assert classify_rides(engine, overrides, cache).changed == 0


def test_classify_review_lists_low_confidence_rides_as_overrides(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    _rides(engine)
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path)}
    result = runner.invoke(cli, ["classify", "--review"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "park_id,ride_id,tier,reason,category,name,confidence"
    assert lines[1:] == ["6,3,,review: unclassified,,Haunted Mansion,0.00"]
    summary = runner.invoke(cli, ["classify"], env=env)
    assert "3 rides classified (2 rules, 1 unclassified), 0 changed" in summary.output


def test_a_bad_overrides_file_is_one_line(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "tier_overrides.csv").write_text("park_id,ride_id,tier,reason\n6,1,9,x\n")
    result = runner.invoke(
        cli, ["classify"], env={"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 1
    assert "tier_overrides.csv:2: tier must be 1, 2, 3 or empty, not 9" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"park_id,ride_id,tier,reason\n6\n", "tier_overrides.csv:2: park_id, ride_id and tier"),
        (b"park_id,ride_id,tier,reason\n6,3,1,caf\xe9\n", "not UTF-8 text"),
        (b'park_id,ride_id,tier,reason\n6,3,1,"open\n' + b"x" * 140_000, "tier_overrides.csv:"),
    ],
)
def test_an_unreadable_overrides_file_is_one_line_too(
    runner: CliRunner,
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    content: bytes,
    message: str,
) -> None:
    (tmp_path / "tier_overrides.csv").write_bytes(content)
    result = runner.invoke(
        cli, ["classify"], env={"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def _first_sight(engine: Engine, data_dir: Path) -> dict[int, tuple[object, ...]]:
    """The collector stores a poll of three rides it has never seen; their decisions."""
    _park(engine)
    settings = load_settings(environ={"DATA_DIR": str(data_dir)}, ssm_reader=lambda p, r: {})
    at = T + timedelta(hours=16)
    payload = {
        "lands": [],
        "rides": [
            {"id": i, "name": n, "is_open": True, "wait_time": 10, "last_updated": at.isoformat()}
            for i, n in [(1, "Space Mountain"), (2, "Meet Mickey"), (3, "Haunted Mansion")]
        ],
    }
    rules = PollRules.from_settings(settings)
    store = PollStore(engine, cycle_id="c", source="collect", rules=rules, now=lambda: at)
    assert store.store(PollInput(6, at, payload)).status == "stored"
    with engine.connect() as conn:
        found = conn.execute(
            select(rides.c.id, rides.c.tier, rides.c.category, rides.c.tier_source)
        ).all()
    return {ride_id: tuple(decision) for ride_id, *decision in found}


def test_a_ride_seen_for_the_first_time_is_decided_as_classify_decides(
    engine: Engine, tmp_path: Path
) -> None:
    overrides = tmp_path / "tier_overrides.csv"
    overrides.write_text("park_id,ride_id,tier,reason\n6,3,1,headliner dark ride\n")
    cache = tmp_path / "classification.json"
    cache.write_text(render_cache({"6:1": Decision(2, "ride", 0.6, "rules", "an older rule")}))
    assert _first_sight(engine, tmp_path) == {
        1: (2, "ride", "rules"),  # the cached decision, not today's rule (tier 1)
        2: (None, "meet_greet", "rules"),
        3: (1, "ride", "manual"),
    }
    assert classify_rides(engine, overrides, cache).changed == 0


def test_a_broken_overrides_file_does_not_stop_collection(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "tier_overrides.csv").write_text("park_id,ride_id,tier,reason\n6,1,9,x\n")
    with caplog.at_level(logging.ERROR):
        decided = _first_sight(engine, tmp_path)
    assert decided == {
        1: (1, "ride", "rules"),
        2: (None, "meet_greet", "rules"),
        3: (None, None, "unclassified"),
    }
    assert "tier decisions unreadable" in caplog.text


def test_the_review_csv_loads_as_overrides(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    _rides(engine)
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path)}
    overrides = tmp_path / "tier_overrides.csv"
    overrides.write_text("")  # an empty file holds no overrides
    review = runner.invoke(cli, ["classify", "--review"], env=env)
    assert review.exit_code == 0, review.output
    overrides.write_text(review.output.replace("6,3,,", "6,3,1,"))
    assert runner.invoke(cli, ["classify"], env=env).exit_code == 0
    with engine.connect() as conn:
        decided = conn.execute(
            select(rides.c.tier, rides.c.tier_source).where(rides.c.id == 3)
        ).one()
    assert tuple(decided) == (1, "manual")
