"""`themepark-tracker demo` for real: a subprocess that builds its history, serves the
dashboard and collects from the local feed, then stops cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from api_fixtures import free_port, interruptible
from sqlalchemy import Engine, func, select

from themepark_tracker import demo
from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.config import Settings
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.sources.queue_times import read_json_file
from themepark_tracker.storage.tables import polls

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}


def _run_demo(data_dir: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "themepark_tracker",
            "demo",
            "--days",
            "3",
            "--port",
            str(port),
            "--collect-every",
            "1",
        ],
        # Canada's two parks: the whole demo, with days of history that build in seconds.
        env={**ENV, "DATA_DIR": str(data_dir), "PARK_COUNTRIES": "Canada"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=interruptible,
        text=True,
    )


def _wait_for(url: str, seconds: float = 120) -> requests.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _stop(demo: subprocess.Popen[str], how: int = signal.SIGINT) -> str:
    demo.send_signal(how)
    output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, output
    return output


def _history_done(base: str, seconds: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        health: dict[str, Any] = requests.get(f"{base}/api/health", timeout=5).json()
        if health["history"]["state"] != "building" or time.monotonic() > deadline:
            return health
        time.sleep(0.5)


@pytest.mark.heavy
def test_the_demo_serves_at_once_builds_history_behind_and_keeps_collecting(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    demo = _run_demo(tmp_path, port)
    try:
        page = _wait_for(f"{base}/")
        assert page.status_code == 200 and "Hall of Shame" in page.text
        building = requests.get(f"{base}/api/health", timeout=5).json()["history"]
        assert building["state"] == "building", "served before the day of history is in"
        assert 0 <= building["percent"] < 100 and building["days"] == 3
        first = _history_done(base)
        assert first["history"]["state"] == "done" and first["history"]["percent"] == 100
        deadline = time.monotonic() + 30
        while "collection" not in first["checks"] or not first["checks"]["collection"][
            "detail"
        ].endswith("parks answered"):
            assert time.monotonic() < deadline, first
            time.sleep(0.5)
            first = requests.get(f"{base}/api/health", timeout=5).json()
        time.sleep(2.5)
        later = requests.get(f"{base}/api/health", timeout=5).json()
        assert later["checks"]["collection"]["at"] > first["checks"]["collection"]["at"]
        assert later["status"] == "healthy"
        # The last 7 days hold the day of history whatever the hour: "today" has no
        # operating yet in the hours between the parks' 04:00 and their opening.
        ranked = requests.get(f"{base}/api/parks/downtime?period=last_7_days", timeout=30).json()
        assert any(p["figures"]["shame_score"] is not None for p in ranked["data"])
    finally:
        output = _stop(demo)
    assert "history: building 432 cycles" in output and "history: 432 cycles" in output
    assert f"dashboard:  http://127.0.0.1:{port}/" in output
    assert output.rstrip().endswith("demo stopped")

    again = _run_demo(tmp_path, port)
    try:
        assert _wait_for(f"{base}/api/health").status_code == 200
    finally:
        output = _stop(again, signal.SIGTERM)
    assert "history: building 1 cycles" in output or "history: already up to date" in output


def test_history_is_built_step_by_step_and_reports_its_progress(engine: Engine) -> None:
    settings = Settings()
    model = FeedModel(read_json_file(SAMPLE_PARKS_FILE))
    now = datetime(2026, 7, 4, 3, 0, tzinfo=UTC)
    planned = demo.prepare(engine, settings, now, days=1)
    assert planned is not None and planned.cycles == 144 and len(planned.parks) == 21
    assert set(planned.parks) < set(model.parks), "only the parks in scope"
    build = demo.HistoryBuild(now - timedelta(hours=3), now, planned.parks[:2])
    assert build.status().state == "building" and build.status().percent == 0
    seen: list[tuple[float, datetime]] = []
    build.imported = lambda until, record=build.imported: (  # type: ignore[method-assign]
        seen.append((build.status().percent, until)),
        record(until),
    )[-1]
    stop = threading.Event()
    assert demo.fill_history(engine, settings, model, build, stop, step=timedelta(hours=1))
    status = build.status()
    assert status.state == "done" and status.percent == 100 and status.imported_until == now
    assert seen == [
        (33.3, now - timedelta(hours=2)),
        (66.7, now - timedelta(hours=1)),
        (99.0, now),
    ], "each hour shows once imported; 100 % only once tiers and final days are in"
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(polls)).scalar_one()
    assert stored == 18 * 2
    assert demo.prepare(engine, settings, now, days=1) is None, "nothing left to build"

    later = demo.prepare(engine, settings, now + timedelta(hours=1), days=1)
    assert later is not None and later.cycles == 6
    stop.set()
    assert not demo.fill_history(engine, settings, model, later, stop)
    assert later.status().state == "building" and later.status().imported_until is None
