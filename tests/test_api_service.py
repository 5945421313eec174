"""Health, the OpenAPI document and its page, the CLI's `serve` and `api-key`, and one
end-to-end check that the API's numbers are the engine's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
import waitress
from api_fixtures import ANAHEIM, DAYS, NOW, TORONTO, app, free_port, settings
from click.testing import CliRunner
from conftest import copy_rows
from sqlalchemy import Engine, make_url, select

from themepark_tracker.api import create_app
from themepark_tracker.classify import Decision
from themepark_tracker.cli import cli
from themepark_tracker.engine.days import compute_park_day
from themepark_tracker.engine.scores import ride_totals, total
from themepark_tracker.engine.sessions import day_bounds
from themepark_tracker.jobs.daily_stats import StatsRules, refresh_park_day
from themepark_tracker.storage import queries
from themepark_tracker.storage.db import make_engine
from themepark_tracker.storage.tables import rides
from themepark_tracker.storage.writes import save_classification


def test_health_is_healthy_with_fresh_data_and_degraded_when_stale(api_engine: Engine) -> None:
    fresh = app(api_engine).test_client().get("/api/health")
    body = fresh.get_json()
    assert fresh.status_code == 200 and fresh.headers["Cache-Control"] == "no-store"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["collection"]["status"] == "ok"
    assert body["checks"]["collection"]["detail"] == "2 of 2 parks answered"
    assert body["checks"]["collection"]["age_minutes"] == 3.0
    assert body["checks"]["aggregation"]["status"] == "ok"
    late = create_app(settings(), api_engine, clock=lambda: NOW + timedelta(hours=2))
    stale = late.test_client().get("/api/health").get_json()
    assert stale["status"] == "degraded"
    assert stale["checks"]["collection"]["status"] == "warning"


def test_health_reports_aggregation_and_its_absence(engine: Engine) -> None:
    empty = app(engine).test_client().get("/api/health")
    assert empty.status_code == 503
    body = empty.get_json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["collection"]["detail"] == "nothing collected yet"
    assert body["checks"]["aggregation"]["status"] == "warning"


def test_health_without_a_database_is_503(tmp_path: Path) -> None:
    missing = make_engine(make_url(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"))
    answer = create_app(settings(), missing).test_client().get("/api/health")
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["database"] == {
        "status": "failed",
        "detail": "the database did not answer",
        "at": None,
        "age_minutes": None,
    }
    data = create_app(settings(), missing).test_client().get("/api/parks")
    assert data.status_code == 503
    assert data.get_json()["error"]["code"] == "database_unavailable"


def test_the_openapi_document_lists_every_endpoint_and_its_parameters(api_engine: Engine) -> None:
    spec = app(api_engine).test_client().get("/api/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert set(spec["paths"]) == {
        "/api/parks",
        "/api/parks/downtime",
        "/api/parks/waittimes",
        "/api/parks/{park_id}",
        "/api/parks/{park_id}/data-quality",
        "/api/export/rides.csv",
        "/api/export/parks.csv",
        "/api/export/outages.csv",
        "/api/rides/downtime",
        "/api/rides/waittimes",
        "/api/rides/{ride_id}",
        "/api/rides/{ride_id}/outages",
        "/api/rides/{ride_id}/recovery",
        "/api/live/down",
        "/api/trends",
        "/api/live/summary",
        "/api/health",
        "/api/session",
    }
    rankings = spec["paths"]["/api/parks/downtime"]["get"]
    names = {p["name"] for p in rankings["parameters"]}
    assert names == {"period", "from", "to", "filter", "sort", "order", "limit"}
    period = next(p for p in rankings["parameters"] if p["name"] == "period")
    assert period["schema"]["enum"][0] == "today" and "null" not in str(period["schema"])
    assert rankings["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ParkRankingsResponse"
    }
    assert "ParkRankingsResponse" in spec["components"]["schemas"]


def test_the_docs_page_shows_every_path(api_engine: Engine) -> None:
    page = app(api_engine).test_client().get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    for path in ("/api/parks/downtime", "/api/rides/{ride_id}", "/api/live/summary"):
        assert f"GET {path}" in text
    assert "https://queue-times.com" in text and "<script" not in text


def test_api_keys_from_the_command_line(runner: CliRunner, database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    made = runner.invoke(cli, ["api-key", "create", "status page"], env=env)
    assert made.exit_code == 0, made.output
    key_id, key = made.stdout.split()[1], made.stdout.split(": ")[-1].strip()
    assert key.startswith("tpt_") and len(key) > 40
    listed = runner.invoke(cli, ["api-key", "list"], env=env)
    assert "status page" in listed.output and "active" in listed.output and key not in listed.output
    assert runner.invoke(cli, ["api-key", "revoke", key_id], env=env).exit_code == 0
    again = runner.invoke(cli, ["api-key", "revoke", key_id], env=env)
    assert again.exit_code == 1 and f"no active key {key_id}" in again.output
    assert "revoked" in runner.invoke(cli, ["api-key", "list"], env=env).output
    blank = runner.invoke(cli, ["api-key", "create", " "], env=env)
    assert blank.exit_code == 2


def test_serve_refuses_production_without_a_secret(runner: CliRunner, database_url: str) -> None:
    result = runner.invoke(
        cli, ["serve"], env={"DATABASE_URL": database_url, "API_AUTH": "required"}
    )
    assert result.exit_code == 1 and "SECRET_KEY" in result.output


def test_serve_answers_four_requests_at_once_unless_told(
    runner: CliRunner, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More threads than that only share the process's one core for computing (the
    GIL): during an import, answers computed anew waited twice as long with eight
    (bench/api_during_import.py)."""
    threads: list[int] = []
    monkeypatch.setattr(
        waitress, "serve", lambda app, **options: threads.append(options["threads"])
    )
    for args in ([], ["--threads", "8"]):
        served = runner.invoke(cli, ["serve", *args], env={"DATABASE_URL": database_url})
        assert served.exit_code == 0, served.output
    assert threads == [4, 8]


def test_serve_answers_over_loopback_with_waitress(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "themepark_tracker", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        answer = None
        for _ in range(100):
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/api/parks", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200
        assert answer.headers["Server"] == "themepark-tracker"
        assert answer.json()["data"] == []
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/api" in output


def test_the_apis_numbers_are_the_engines_for_the_same_period(api_engine: Engine) -> None:
    """From the polls straight through the engine, against the API's answer built from
    daily statistics and running totals."""
    client = app(api_engine).test_client()
    body = client.get(f"/api/parks/downtime?from={DAYS[0]}&to={DAYS[1]}").get_json()
    rides_body = client.get(
        f"/api/rides/downtime?from={DAYS[0]}&to={DAYS[1]}&limit=1000"
    ).get_json()
    shown_rides = {r["ride_id"]: r["figures"] for r in rides_body["data"]}
    rules = settings().state_rules()
    day_rules = settings().day_rules()
    checked = 0
    for shown in body["data"]:
        park_id = shown["park_id"]
        zone = ZoneInfo(shown["timezone"])
        with api_engine.connect() as conn:
            tiers = queries.tiers_and_live(conn, park_id, rules).tiers
            parts, per_ride = [], {}
            day = DAYS[0]
            while day <= DAYS[1]:
                start, end = day_bounds(day, zone, day_rules)
                park_day = compute_park_day(
                    day,
                    queries.polls_between(conn, park_id, start, end),
                    now=NOW,
                    rules=day_rules,
                    counted=tiers,
                    next_poll_at=queries.first_poll_at_or_after(conn, park_id, end),
                )
                for ride_id, ride_day in park_day.rides.items():
                    part = ride_totals(ride_day, tiers.get(ride_id))
                    parts.append(part)
                    per_ride[ride_id] = per_ride[ride_id] + part if ride_id in per_ride else part
                day += timedelta(days=1)
        expected = total(parts)
        figures = shown["figures"]
        assert figures["downtime_hours"] == round(expected.downtime_hours, 2)
        assert figures["weighted_downtime_hours"] == round(expected.weighted_downtime_hours, 2)
        assert figures["shame_score"] == expected.shame_score
        assert figures["uptime_pct"] == round(expected.uptime_pct or 0, 2)
        assert shown["rides_with_downtime"] == sum(
            1 for t in per_ride.values() if t.downtime_minutes > 0
        )
        for ride_id, totals in per_ride.items():
            assert shown_rides[ride_id]["downtime_hours"] == round(totals.downtime_hours, 2)
            assert shown_rides[ride_id]["uptime_pct"] == (
                None if totals.uptime_pct is None else round(totals.uptime_pct, 2)
            )
            checked += 1
    assert {p["park_id"] for p in body["data"]} == {TORONTO, ANAHEIM} and checked > 50


def test_etags_change_when_statistics_or_tiers_are_rewritten_without_a_poll(
    api_engine: Engine, engine: Engine
) -> None:
    """`import` stores polls before it refreshes their days, and `classify` changes tiers
    without a poll: either must show in the ETag, or caches would keep the old answer."""
    copy_rows(api_engine, engine)  # its own copy: the shared one is only read
    client = app(engine).test_client()
    url = f"/api/parks/downtime?from={DAYS[0]}&to={DAYS[1]}"
    first = client.get(url).headers["ETag"]
    rules = StatsRules(settings().state_rules(), settings().day_rules())
    with engine.begin() as conn:
        refresh_park_day(
            conn, TORONTO, ZoneInfo("America/Toronto"), DAYS[0], now=NOW, rules=rules, final=True
        )
    second = client.get(url).headers["ETag"]
    assert second != first
    with engine.begin() as conn:
        ride = conn.execute(
            select(
                rides.c.id,
                rides.c.tier,
                rides.c.category,
                rides.c.tier_source,
                rides.c.tier_confidence,
            )
            .where(rides.c.park_id == ANAHEIM)
            .limit(1)
        ).one()
        same = Decision(
            ride.tier, ride.category, ride.tier_confidence or 1.0, ride.tier_source or "rules"
        )
        save_classification(conn, [(ride.id, same)])
    assert client.get(url).headers["ETag"] not in (first, second)
