"""`themepark-tracker feed …`: archives, truth and the server, as a user runs them."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from api_fixtures import interruptible
from click.testing import CliRunner

from themepark_tracker.archive import ParksRecord, QueueTimesRecord, read_archive
from themepark_tracker.catalogue import SAMPLE_PARKS_FILE
from themepark_tracker.cli import cli
from themepark_tracker.feed.model import FeedConfig, FeedModel, QuirkRates
from themepark_tracker.feed.server import Faults, poison_body, poison_for
from themepark_tracker.feed.wiki import WikiFeed

DOCUMENT = json.loads(SAMPLE_PARKS_FILE.read_text(encoding="utf-8"))
START = datetime(2026, 7, 4, 14, tzinfo=UTC)


def archive(runner: CliRunner, path: Path, *extra: str) -> str:
    result = runner.invoke(
        cli,
        [
            "feed",
            "archive",
            "--from",
            "2026-07-04T14:00:00Z",
            "--to",
            "2026-07-04T16:00:00Z",
            "--park",
            "6",
            "--park",
            "50",
            "-o",
            str(path),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_an_archive_holds_what_a_collector_would_have_fetched(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "day.jsonl"
    output = archive(runner, path)
    assert f"{path}: 25 records, 12 cycles from 2026-07-04T14:00:00Z" in output
    lines = list(read_archive(path))
    assert all(line.error is None for line in lines)
    records = [line.record for line in lines]
    assert isinstance(records[0], ParksRecord)
    assert records[0].payload == DOCUMENT
    polls = [r for r in records if isinstance(r, QueueTimesRecord)]
    assert [(r.park_id, r.fetched_at) for r in polls[:2]] == [
        (6, START + timedelta(seconds=1)),
        (50, START + timedelta(seconds=1)),
    ]
    assert polls[-1].fetched_at == START + timedelta(minutes=110, seconds=1)
    model = FeedModel(DOCUMENT)
    for record in polls:
        assert record.payload == model.queue_times(record.park_id, record.fetched_at)


def test_the_same_arguments_write_the_same_bytes(runner: CliRunner, tmp_path: Path) -> None:
    archive(runner, tmp_path / "a.jsonl", "--seed", "9")
    archive(runner, tmp_path / "b.jsonl", "--seed", "9")
    archive(runner, tmp_path / "c.jsonl", "--seed", "10")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()


def test_a_gz_name_writes_gzip_and_a_second_run_appends(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl.gz"
    archive(runner, path)
    archive(runner, path)
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        assert sum(1 for _ in stream) == 50


def test_quirk_rates_reach_the_model(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "extra.jsonl"
    archive(runner, path, "--quirk", "extra_fields=1", "--quirk", "disappear=0")
    payloads = [
        line.record.payload
        for line in read_archive(path)
        if isinstance(line.record, QueueTimesRecord)
    ]
    assert all("crowd_level" in payload for payload in payloads)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--quirk", "gremlins=0.5"], "unknown quirk 'gremlins'"),
        (["--quirk", "storm=2"], "a rate is between 0 and 1"),
        (["--quirk", "storm=often"], "the rate is not a number"),
        (["--interval", "0m"], "not a positive duration"),
        (["--park", "4242"], "no park with id 4242"),
    ],
)
def test_bad_archive_options_are_refused(
    runner: CliRunner, tmp_path: Path, options: list[str], message: str
) -> None:
    result = runner.invoke(
        cli,
        [
            "feed",
            "archive",
            "--from",
            "2026-07-04",
            "--to",
            "2026-07-05",
            "-o",
            str(tmp_path / "x.jsonl"),
            *options,
        ],
    )
    assert result.exit_code != 0
    assert message in result.output


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-07-04T10:00:00", "2026-07-05", "has no timezone: add Z for UTC"),
        ("yesterday", "2026-07-05", "is not an ISO 8601 time"),
        ("2026-07-05", "2026-07-04", "--to must be after --from"),
    ],
)
def test_bad_times_are_refused(
    runner: CliRunner, tmp_path: Path, start: str, end: str, message: str
) -> None:
    result = runner.invoke(cli, ["feed", "truth", "--park", "6", "--from", start, "--to", end])
    assert result.exit_code == 2
    assert message in result.output


def test_truth_is_json_for_the_park_and_range(runner: CliRunner) -> None:
    result = runner.invoke(
        cli,
        [
            "feed",
            "truth",
            "--park",
            "16",
            "--from",
            "2026-07-04T12:00:00+00:00",
            "--to",
            "2026-07-05T12:00:00Z",
        ],
    )
    assert result.exit_code == 0, result.output
    truth = json.loads(result.output)
    start, end = datetime(2026, 7, 4, 12, tzinfo=UTC), datetime(2026, 7, 5, 12, tzinfo=UTC)
    model = FeedModel(DOCUMENT)
    expected = model.truth(16, start, end)
    assert {k: v for k, v in truth.items() if k != "themeparks_wiki"} | {
        "days": [{k: v for k, v in d.items() if k != "published"} for d in truth["days"]],
        "rides": [
            {k: v for k, v in r.items() if k not in ("refurbishment_days", "status_down")}
            for r in truth["rides"]
        ],
    } == expected
    assert truth["timezone"] == "America/Los_Angeles"
    # The second source's side: what its feed answers at any instant, as intervals.
    wiki = WikiFeed(model)
    assert truth["themeparks_wiki"]["id"] == wiki.park_ids[16]
    assert all("published" in day for day in truth["days"])
    park = model.parks[16]
    down = [(ride, a, b) for ride in truth["rides"] for a, b in ride["status_down"]]
    assert down or truth["themeparks_wiki"]["never_down"]
    for ride, a, b in down:
        sim = next(r for r in park.rides if r.id == ride["id"])
        for moment in (a, b):
            at = datetime.fromisoformat(moment.replace("Z", "+00:00"))
            day = model.schedule_day(16, at)
            plan = model.day_plan(16, day)
            inside = wiki.status(park, plan, sim, day, int(at.timestamp()))
            before = wiki.status(park, plan, sim, day, int(at.timestamp()) - 1)
            assert (inside, before) != ("DOWN", "DOWN") or moment == b
            assert (before if moment == b else inside) == "DOWN"


def test_truth_of_an_unknown_park_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["feed", "truth", "--park", "1", "--from", "2026-07-04", "--to", "2026-07-05"]
    )
    assert result.exit_code == 2
    assert "no park 1 in the catalogue" in result.output


@contextmanager
def serving(*extra: str) -> Iterator[str]:
    """`feed serve` in a process of its own, its clock standing at SERVED; yields its URL,
    then stops it with Ctrl-C and checks that it said so."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "themepark_tracker",
            "feed",
            "serve",
            "--port",
            "0",
            "--start",
            "2026-07-04T18:00:00Z",
            "--speed",
            "0",
            "--seed",
            "5",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=interruptible,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+);", banner)
        assert match, banner
        yield match.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "stopped" in stdout


SERVED = datetime(2026, 7, 4, 18, tzinfo=UTC)


def test_the_server_command_serves_the_model_until_interrupted() -> None:
    with serving() as base_url:
        catalogue = requests.get(f"{base_url}/parks.json", timeout=5)
        assert catalogue.json() == DOCUMENT
        answer = requests.get(f"{base_url}/parks/6/queue_times.json", timeout=5)
        model = FeedModel(DOCUMENT, FeedConfig(seed=5, quirks=QuirkRates()))
        assert answer.content == model.queue_times_json(6, SERVED)
        assert requests.get(f"{base_url}/parks/1/queue_times.json", timeout=5).status_code == 404


def test_the_server_command_poisons_the_share_of_answers_it_is_asked_to() -> None:
    with serving("--poison-rate", "1") as base_url:
        answer = requests.get(f"{base_url}/parks/6/queue_times.json", timeout=5)
    model = FeedModel(DOCUMENT, FeedConfig(seed=5, quirks=QuirkRates()))
    kind = poison_for(Faults(seed=5, poison_rate=1.0), 6, SERVED)
    assert kind is not None
    body = model.queue_times_json(6, SERVED)
    assert body is not None and answer.content == poison_body(body, kind, 6, SERVED)


def test_the_server_refuses_a_public_address(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["feed", "serve", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 1
    assert "loopback only" in result.output


def test_the_server_refuses_a_poison_rate_outside_0_to_1(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["feed", "serve", "--port", "0", "--poison-rate", "1.5"])
    assert result.exit_code == 1
    assert "poison_rate must be between 0 and 1, got 1.5" in result.output
