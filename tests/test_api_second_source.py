"""The API of days counted with both sources: a park day's published against observed
hours, whether each day was counted with its published hours, the data-quality page,
and the attribution naming both sources."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from feed_fixtures import catalogue
from sqlalchemy import Engine, func, select

from themepark_tracker.api import create_app
from themepark_tracker.config import load_settings
from themepark_tracker.feed.model import FeedConfig, FeedModel
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.feed.wiki import WikiFeed
from themepark_tracker.jobs.aggregate import aggregate
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.storage.tables import data_quality_issues

MAGIC_KINGDOM = 6
START = datetime(2026, 7, 6, 8, tzinfo=UTC)  # 04:00 in Orlando
END = START + timedelta(days=3)
DAYS = [date(2026, 7, 6) + timedelta(days=n) for n in range(3)]


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> tuple[Any, WikiFeed]:
    model = FeedModel(catalogue(MAGIC_KINGDOM), FeedConfig(seed=3))
    wiki = WikiFeed(model)
    archive = tmp_path / "both.jsonl"
    record_archive(model, archive, START, END, timedelta(minutes=10), wiki=wiki)
    settings = load_settings(environ={}, ssm_reader=lambda prefix, region: {})
    import_archives(engine, [archive], settings)
    aggregate(engine, settings, END + timedelta(hours=2))
    app = create_app(settings, engine, clock=lambda: END + timedelta(hours=2))
    app.testing = True
    return app.test_client(), wiki


def _get(client: Any, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_a_park_day_shows_its_published_hours_against_the_observed_ones(
    world: tuple[Any, WikiFeed],
) -> None:
    client, wiki = world
    body = _get(client, f"/api/parks/{MAGIC_KINGDOM}?from={DAYS[0]}&to={DAYS[-1]}")
    assert body["attribution"]["second_source_url"] == "https://themeparks.wiki"
    assert "ThemeParks.wiki" in body["attribution"]["text"]
    sessions = {s["date"]: s for s in body["data"]["operating_sessions"]}
    flags = {d["date"]: d["scheduled"] for d in body["data"]["days"]}
    checked = 0
    for day in DAYS:
        published = wiki.published(MAGIC_KINGDOM, day)
        assert flags[day.isoformat()] == bool(published)
        if not published:
            continue
        session = sessions[day.isoformat()]
        operating = next(h for h in published if h.kind == "OPERATING")
        assert session["scheduled"]
        opened = datetime.fromisoformat(session["opened_at"].replace("Z", "+00:00"))
        assert opened.timestamp() == operating.opens
        kinds = sorted(h["kind"] for h in session["published"])
        assert kinds == sorted(h.kind for h in published)
        assert "TICKETED_EVENT" in kinds  # Disney's early entry: not in the session
        observed = datetime.fromisoformat(session["observed_opened_at"].replace("Z", "+00:00"))
        assert abs(observed - opened) < timedelta(hours=1)  # the first active poll
        checked += 1
    assert checked >= 2
    assert body["data"]["days_with_published_hours"] == sum(flags.values())
    rankings = _get(client, f"/api/parks/downtime?from={DAYS[0]}&to={DAYS[-1]}")["data"]
    assert [(p["days"], p["days_with_published_hours"]) for p in rankings] == [
        (len(flags), sum(flags.values()))
    ]


def test_data_quality_counts_each_day_s_polls_answers_and_problems(
    world: tuple[Any, WikiFeed], engine: Engine
) -> None:
    client, _ = world
    body = _get(client, f"/api/parks/{MAGIC_KINGDOM}/data-quality?from={DAYS[0]}&to={DAYS[-1]}")
    days = body["data"]["days"]
    assert [d["date"] for d in days] == [day.isoformat() for day in DAYS]
    for day in days:
        assert day["polls"] == 144  # every 10 minutes of a 24-hour day
        assert day["sources_answered"] == {"queue_times": 144, "themeparks_wiki": 144}
        assert day["scheduled"] is not None
        assert day["stale_readings"] >= 0 and day["disagreements"] >= 0
    assert sum(day["disagreements"] for day in days) > 0  # a reading lags its status
    with engine.connect() as conn:
        i = data_quality_issues.c
        invalid = conn.execute(
            select(func.count()).where(
                i.park_id == MAGIC_KINGDOM,
                i.issue_type.in_(("wait_not_a_number", "wait_negative", "wait_too_long")),
                i.observed_at >= START,
                i.observed_at < END,
            )
        ).scalar_one()
    assert sum(day["invalid_waits"] for day in days) == invalid
    too_long = _get(
        client, f"/api/parks/{MAGIC_KINGDOM}/data-quality?from=2026-06-01&to=2026-07-08", 400
    )
    assert too_long["error"]["code"] == "invalid_parameter"
    assert _get(client, "/api/parks/999/data-quality", 404)["error"]["code"] == "not_found"
