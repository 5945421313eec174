"""`themepark-tracker demo` for real: a subprocess that builds its history, serves the
dashboard and collects from the local feed, then stops cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from api_fixtures import free_port, interruptible

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}


def _run_demo(data_dir: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "themepark_tracker",
            "demo",
            "--days",
            "1",
            "--port",
            str(port),
            "--collect-every",
            "1",
        ],
        env={**ENV, "DATA_DIR": str(data_dir)},
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


def test_the_demo_builds_history_serves_the_dashboard_and_keeps_collecting(
    tmp_path: Path,
) -> None:
    port = free_port()
    demo = _run_demo(tmp_path, port)
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/")
        assert page.status_code == 200 and "Hall of Shame" in page.text
        first = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json()
        assert first["checks"]["collection"]["detail"].endswith("parks answered")
        time.sleep(2.5)
        later = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json()
        assert later["checks"]["collection"]["at"] > first["checks"]["collection"]["at"]
        assert later["status"] == "healthy"
        # The last 7 days hold the day of history whatever the hour: "today" has no
        # operating yet in the hours between the parks' 04:00 and their opening.
        ranked = requests.get(
            f"http://127.0.0.1:{port}/api/parks/downtime?period=last_7_days", timeout=30
        ).json()
        assert any(p["figures"]["shame_score"] is not None for p in ranked["data"])
    finally:
        output = _stop(demo)
    assert "history: 144 cycles" in output
    assert f"dashboard:  http://127.0.0.1:{port}/" in output
    assert output.rstrip().endswith("demo stopped")

    again = _run_demo(tmp_path, port)
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/api/health").status_code == 200
    finally:
        output = _stop(again, signal.SIGTERM)
    assert "history: 1 cycles" in output or "history: already up to date" in output
