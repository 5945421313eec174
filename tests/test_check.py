"""`themepark-tracker check`, the dead-man's switch, and the pings and CloudWatch metrics
around every job: against fresh, stale and empty databases, a local ping server (also
one that is down), and CloudWatch through moto."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
import time_machine
from api_fixtures import NOW
from click.testing import CliRunner
from moto import mock_aws
from sqlalchemy import Engine

from themepark_tracker import checks, spool
from themepark_tracker.cli import cli


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _check(runner: CliRunner, engine: Engine, *args: str, at=NOW, **env: str):  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False):
        return runner.invoke(cli, ["check", *args], env={"DATABASE_URL": _url(engine), **env})


def test_fresh_data_passes(runner: CliRunner, api_engine: Engine) -> None:
    result = _check(runner, api_engine)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "HEALTHY: 2 of 2 parks answered; aggregate ran; "
        "no park paired with ThemeParks.wiki (sources map); no archive pending"
    )


def test_stale_collection_fails_with_one_line(runner: CliRunner, api_engine: Engine) -> None:
    result = _check(runner, api_engine, at=NOW + timedelta(hours=2))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "DEGRADED: collection: last collection 123 min ago (limit 15 min)"
    ]
    assert (
        _check(runner, api_engine, "--max-age", "180", at=NOW + timedelta(hours=2)).exit_code == 0
    )


def test_fewer_parks_than_expected_fails(runner: CliRunner, api_engine: Engine) -> None:
    result = _check(runner, api_engine, "--min-parks", "3")
    assert result.exit_code == 1
    assert "only 2 of 3 parks answered" in result.output


def test_an_empty_database_fails_and_json_says_why(runner: CliRunner, engine: Engine) -> None:
    result = _check(runner, engine, "--json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["status"] == "unhealthy"
    assert body["checks"]["collection"] == {
        "status": "failed",
        "detail": "nothing collected yet",
        "at": None,
        "age_minutes": None,
    }


def test_an_unreachable_database_is_one_line(runner: CliRunner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/missing/dir/tracker.db"
    result = runner.invoke(cli, ["check"], env={"DATABASE_URL": url})
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "database" in result.output


def test_aggregation_behind_is_a_warning() -> None:
    facts = checks.Facts(NOW, 2, 2, NOW - timedelta(hours=1), overdue_days=3)
    limits = checks.Limits(timedelta(minutes=15), timedelta(hours=27))
    (_, aggregation, _) = checks.judge(facts, NOW, limits)
    assert aggregation.status == "warning"
    assert aggregation.detail == "3 park days older than three days are not final"
    late = checks.judge(checks.Facts(NOW, 2, 2, NOW - timedelta(hours=30), 0), NOW, limits)
    assert late[1].detail == "last aggregate 30 h ago (limit 27 h)"


@pytest.mark.parametrize(
    ("answered_at", "answered", "status", "detail"),
    [
        (None, 0, "warning", "no ThemeParks.wiki answer stored yet"),
        (NOW - timedelta(minutes=40), 3, "warning", "last ThemeParks.wiki answer 40 min ago"),
        (NOW - timedelta(minutes=5), 2, "warning", "only 2 of 3 paired parks answered"),
        (NOW - timedelta(minutes=5), 3, "ok", "3 of 3 paired parks answered"),
    ],
)
def test_the_second_source_is_judged_on_its_paired_parks(
    answered_at: datetime | None, answered: int, status: str, detail: str
) -> None:
    facts = checks.Facts(NOW, 5, 5, NOW, 0, 3, answered_at, answered)
    limits = checks.Limits(timedelta(minutes=15), timedelta(hours=27))
    second = checks.judge(facts, NOW, limits)[2]
    assert (second.name, second.status) == ("second_source", status)
    assert second.detail.startswith(detail)
    off = checks.judge(
        facts,
        NOW,
        checks.Limits(limits.stale_collection, limits.stale_aggregation, second_source=False),
    )
    assert off[2].detail == "ThemeParks.wiki turned off" and off[2].status == "ok"


def _pending(directory: Path, started: datetime) -> Path:
    """An archive of `collect` whose answers are not all stored (content not needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / spool.archive_name(started, "1a2b3c4d")
    path.touch()
    spool.mark_of(path).touch()
    return path


def test_an_archive_pending_for_two_cycles_is_a_problem(
    runner: CliRunner, api_engine: Engine, tmp_path: Path
) -> None:
    """The next cycle imports a pending archive first thing: one still there after two
    collection intervals (20 min) means the database keeps refusing it."""
    archive_dir = tmp_path / "archive"
    _pending(archive_dir, NOW - timedelta(minutes=15))
    fresh = _check(runner, api_engine, "--json", ARCHIVE_DIR=str(archive_dir))
    assert fresh.exit_code == 0, fresh.output
    assert json.loads(fresh.stdout)["checks"]["archive"] == {
        "status": "ok",
        "detail": "1 archive pending, the oldest from 15 min ago",
        "at": (NOW - timedelta(minutes=15)).isoformat(),
        "age_minutes": 15.0,
    }
    _pending(archive_dir, NOW - timedelta(minutes=25))
    stale = _check(runner, api_engine, ARCHIVE_DIR=str(archive_dir))
    assert stale.exit_code == 1
    assert stale.output.strip().splitlines() == [
        "DEGRADED: archive: 2 archives pending, the oldest from 25 min ago (limit 20 min): "
        "their answers are not in the database"
    ]
    for mark in archive_dir.glob("*.pending"):
        mark.unlink()  # stored: what is left is history, not a problem
    assert _check(runner, api_engine, ARCHIVE_DIR=str(archive_dir)).exit_code == 0


def test_an_archive_directory_that_cannot_be_written_is_a_problem(
    runner: CliRunner, api_engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    result = _check(runner, api_engine, ARCHIVE_DIR=str(tmp_path / "a-file" / "archive"))
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"DEGRADED: archive: {tmp_path / 'a-file' / 'archive'} cannot be created: "
        f"{tmp_path / 'a-file'} is not a directory"
    )
    assert spool.unwritable(tmp_path / "a-file") == f"{tmp_path / 'a-file'} is not a directory"
    assert spool.unwritable(tmp_path / "new" / "archive") is None, "collect creates it"


def test_the_archive_check_judges_only_what_it_is_given() -> None:
    interval = timedelta(minutes=10)
    assert checks.judge_archive(checks.ArchiveFacts(), NOW, interval) == checks.Check(
        "archive", "ok", "no archive pending"
    )
    broken = checks.ArchiveFacts((NOW,), problem="/data/archive is not writable: Read-only")
    assert checks.judge_archive(broken, NOW, interval).status == "warning"
    slow = checks.ArchiveFacts((NOW - timedelta(minutes=20), NOW - timedelta(minutes=30)))
    judged = checks.judge_archive(slow, NOW, timedelta(minutes=15))
    assert (judged.status, judged.at, judged.age_minutes) == ("ok", slow.pending[1], 30.0)


class _Pings(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        type(self).seen.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def ping_server() -> Iterator[str]:
    _Pings.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/uuid-1"
    server.shutdown()
    server.server_close()


def test_every_job_pings_start_then_success_or_fail(
    runner: CliRunner, api_engine: Engine, ping_server: str
) -> None:
    assert _check(runner, api_engine, PING_URL=ping_server).exit_code == 0
    assert (
        _check(runner, api_engine, at=NOW + timedelta(hours=2), PING_URL=ping_server).exit_code == 1
    )
    paths = [path for path, _ in _Pings.seen]
    assert paths == [
        "/uuid-1/check/start",
        "/uuid-1/check",
        "/uuid-1/check/start",
        "/uuid-1/check/fail",
    ]
    assert _Pings.seen[-1][1].startswith("DEGRADED: collection")
    _Pings.seen.clear()
    with time_machine.travel(NOW, tick=False):
        aggregated = runner.invoke(
            cli,
            ["aggregate"],
            env={
                "DATABASE_URL": _url(api_engine),
                "PING_URL": ping_server,
                "PING_PER_JOB": "false",
            },
        )
    assert aggregated.exit_code == 0, aggregated.output
    assert [path for path, _ in _Pings.seen] == ["/uuid-1/start", "/uuid-1"]


def test_a_ping_server_that_is_down_changes_nothing(
    runner: CliRunner, api_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/uuid-2"
    result = _check(runner, api_engine, PING_URL=closed, LOG_FORMAT="text")
    assert result.exit_code == 0
    assert "ping failed" in result.output + caplog.text
    assert "uuid-2" not in result.output + caplog.text, "the ping URL holds a secret"


def test_metrics_go_to_cloudwatch(runner: CliRunner, api_engine: Engine) -> None:
    with mock_aws():
        result = _check(
            runner,
            api_engine,
            CLOUDWATCH_NAMESPACE="ThemeParkTracker",
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's fake credentials
        )
        assert result.exit_code == 0, result.output
        metrics = boto3.client("cloudwatch", region_name="us-east-1").list_metrics(
            Namespace="ThemeParkTracker"
        )["Metrics"]
    names = {m["MetricName"] for m in metrics}
    assert {
        "Succeeded",
        "DurationSeconds",
        "CollectionAgeMinutes",
        "AggregationAgeMinutes",
    } <= names
    assert all(m["Dimensions"] == [{"Name": "Job", "Value": "check"}] for m in metrics)
