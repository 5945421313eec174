"""`sync-parks` end to end: real files, a real loopback HTTP server, both databases."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import Engine, select, text

from themepark_tracker.catalogue import SAMPLE_PARKS_FILE as SAMPLE_PARKS
from themepark_tracker.catalogue import Scope
from themepark_tracker.cli import EXIT_PARTIAL, cli
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.sources.queue_times import SourceError
from themepark_tracker.storage.tables import parks

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
NORTH_AMERICA = Scope(continent="North America")


def _sample() -> list[dict[str, Any]]:
    document: list[dict[str, Any]] = json.loads(SAMPLE_PARKS.read_text(encoding="utf-8"))
    return document


def _north_american(document: list[dict[str, Any]]) -> set[int]:
    return {p["id"] for g in document for p in g["parks"] if p["continent"] == "North America"}


def _rows(engine: Engine) -> dict[int, dict[str, Any]]:
    with engine.connect() as conn:
        return {row["id"]: dict(row) for row in conn.execute(select(parks)).mappings()}


def test_a_first_sync_adds_the_parks_in_scope(engine: Engine) -> None:
    report = sync_parks(engine, _sample(), source="sample", scope=NORTH_AMERICA, now=T0)
    rows = _rows(engine)
    assert set(rows) == _north_american(_sample())
    assert len(report.plan.added) == len(rows)
    assert report.out_of_scope == 2
    kingdom = rows[6]
    assert kingdom["operator"] == "Walt Disney Attractions"
    assert kingdom["is_active"]
    assert kingdom["first_seen_at"] == kingdom["last_seen_at"] == T0


def test_a_second_sync_of_the_same_catalogue_changes_nothing_but_last_seen(
    engine: Engine,
) -> None:
    sync_parks(engine, _sample(), source="sample", scope=NORTH_AMERICA, now=T0)
    before = _rows(engine)
    report = sync_parks(engine, _sample(), source="sample", scope=NORTH_AMERICA, now=T1)
    after = _rows(engine)
    assert report.plan.changes == 0
    assert len(report.plan.unchanged) == len(before)
    for park_id, row in after.items():
        assert row["last_seen_at"] == T1
        assert {**row, "last_seen_at": T0} == before[park_id]


def test_changed_vanished_and_returning_parks(engine: Engine) -> None:
    sync_parks(engine, _sample(), source="sample", scope=NORTH_AMERICA, now=T0)
    document = _sample()
    document[0]["parks"][0]["name"] = "Magic Kingdom Park"
    removed = document[1]["parks"].pop(0)
    report = sync_parks(engine, document, source="sample", scope=NORTH_AMERICA, now=T1)
    rows = _rows(engine)
    assert [p.id for p in report.plan.updated] == [6]
    assert rows[6]["name"] == "Magic Kingdom Park"
    assert rows[6]["updated_at"] == T1
    assert rows[6]["first_seen_at"] == T0
    assert report.plan.deactivated == [removed["id"]]
    assert not rows[removed["id"]]["is_active"]

    report = sync_parks(engine, _sample(), source="sample", scope=NORTH_AMERICA, now=T1)
    assert [p.id for p in report.plan.updated] == [6]
    assert [p.id for p in report.plan.reactivated] == [removed["id"]]
    assert _rows(engine)[removed["id"]]["is_active"]


def test_a_narrower_scope_deactivates_the_rest_and_deletes_nothing(engine: Engine) -> None:
    sync_parks(engine, _sample(), source="sample", scope=NORTH_AMERICA, now=T0)
    report = sync_parks(
        engine, _sample(), source="sample", scope=Scope(countries=("Canada",)), now=T1
    )
    rows = _rows(engine)
    assert set(rows) == _north_american(_sample())
    assert {pid for pid, row in rows.items() if row["is_active"]} == {57}
    assert len(report.plan.deactivated) == len(rows) - 1


def test_an_unreadable_park_is_skipped_but_not_deactivated(engine: Engine) -> None:
    sync_parks(engine, _sample(), source="sample", scope=NORTH_AMERICA, now=T0)
    document = _sample()
    document[0]["parks"][0]["timezone"] = "Florida/Orlando"
    document[2]["parks"][0]["latitude"] = None
    report = sync_parks(engine, document, source="sample", scope=NORTH_AMERICA, now=T1)
    rows = _rows(engine)
    assert len(report.problems) == 2
    assert report.plan.deactivated == []
    assert rows[6]["is_active"] and rows[6]["timezone"] == "America/New_York"


def test_problems_outside_the_scope_are_not_reported(engine: Engine) -> None:
    document = _sample()
    paris = next(p for p in document[0]["parks"] if p["country"] == "France")
    paris["timezone"] = "Europe/Atlantis"
    report = sync_parks(engine, document, source="sample", scope=NORTH_AMERICA, now=T0)
    assert report.problems == []


def test_a_catalogue_with_nothing_in_scope_is_refused(engine: Engine) -> None:
    sync_parks(engine, _sample(), source="sample", scope=NORTH_AMERICA, now=T0)
    with pytest.raises(SourceError, match="no park in scope \\(continent Antarctica\\)"):
        sync_parks(engine, _sample(), source="sample", scope=Scope("Antarctica"), now=T1)
    assert all(row["is_active"] for row in _rows(engine).values())


def _fail_on_insert_of_park(engine: Engine, park_id: int) -> None:
    """A trigger that makes the database itself refuse one row, half-way through a sync."""
    with engine.begin() as conn:
        if engine.dialect.name == "mysql":
            conn.execute(text("DROP TRIGGER IF EXISTS refuse_park"))
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_park BEFORE INSERT ON parks FOR EACH ROW "
                    f"BEGIN IF NEW.id = {park_id} THEN "
                    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END IF; END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_park BEFORE INSERT ON parks "
                    f"WHEN NEW.id = {park_id} BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )


def test_a_sync_that_fails_half_way_leaves_the_stored_catalogue_as_it_was(
    engine: Engine,
) -> None:
    document = _sample()
    first_group = document[:1]
    sync_parks(engine, first_group, source="sample", scope=NORTH_AMERICA, now=T0)
    before = _rows(engine)
    _fail_on_insert_of_park(engine, 34)
    try:
        with pytest.raises(Exception, match="refused"):
            sync_parks(engine, document, source="sample", scope=NORTH_AMERICA, now=T1)
        assert _rows(engine) == before
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER IF EXISTS refuse_park"))


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def served_catalogue() -> Iterator[tuple[str, dict[str, Any]]]:
    """A loopback HTTP server answering /parks.json with whatever the test puts in `state`."""
    state: dict[str, Any] = {"status": 200, "body": SAMPLE_PARKS.read_bytes(), "agents": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            state["agents"].append(self.headers.get("User-Agent"))
            if self.path != "/parks.json":
                self.send_error(404)
                return
            self.send_response(state["status"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state["body"])

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def test_cli_syncs_the_sample_file_and_prints_a_summary(
    runner: CliRunner, engine: Engine, database_url: str
) -> None:
    with time_machine.travel(T0, tick=False):
        result = runner.invoke(
            cli, ["sync-parks", "--file", str(SAMPLE_PARKS)], env={"DATABASE_URL": database_url}
        )
    assert result.exit_code == 0, result.output
    assert "21 parks in scope (continent North America)" in result.output
    assert "21 added" in result.output
    assert "Walt Disney Attractions: 6 active, 0 inactive" in result.output
    assert _rows(engine)[6]["first_seen_at"] == T0


@pytest.mark.parametrize(
    ("options", "active"),
    [
        (["--all"], 23),
        (["--continent", "Europe"], 1),
        (["--country", "Canada", "--country", "Mexico"], 2),
    ],
)
def test_cli_scope_options(
    runner: CliRunner, engine: Engine, database_url: str, options: list[str], active: int
) -> None:
    result = runner.invoke(
        cli,
        ["sync-parks", "--file", str(SAMPLE_PARKS), *options],
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    assert sum(row["is_active"] for row in _rows(engine).values()) == active


def test_cli_default_scope_comes_from_the_settings(
    runner: CliRunner, engine: Engine, database_url: str
) -> None:
    result = runner.invoke(
        cli,
        ["sync-parks", "--file", str(SAMPLE_PARKS)],
        env={"DATABASE_URL": database_url, "PARK_CONTINENT": "Asia"},
    )
    assert result.exit_code == 0, result.output
    assert set(_rows(engine)) == {274}


def test_cli_reads_the_catalogue_over_http(
    runner: CliRunner,
    engine: Engine,
    database_url: str,
    served_catalogue: tuple[str, dict[str, Any]],
) -> None:
    base_url, state = served_catalogue
    result = runner.invoke(
        cli,
        ["sync-parks"],
        env={"DATABASE_URL": database_url, "QUEUE_TIMES_BASE_URL": base_url},
    )
    assert result.exit_code == 0, result.output
    assert len(_rows(engine)) == 21
    assert state["agents"][0].startswith("themepark-tracker/")


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (503, b"busy", "/parks.json: HTTP 503"),
        (200, b"<html>maintenance</html>", "/parks.json: not valid JSON"),
        (200, b'{"parks": []}', "expected a list of company groups"),
    ],
)
def test_cli_reports_a_bad_response_in_one_line_and_keeps_what_was_stored(
    runner: CliRunner,
    engine: Engine,
    database_url: str,
    served_catalogue: tuple[str, dict[str, Any]],
    status: int,
    body: bytes,
    message: str,
) -> None:
    base_url, state = served_catalogue
    env = {"DATABASE_URL": database_url}
    runner.invoke(cli, ["sync-parks", "--url", f"{base_url}/parks.json"], env=env)
    before = _rows(engine)
    state["status"], state["body"] = status, body
    result = runner.invoke(cli, ["sync-parks", "--url", f"{base_url}/parks.json"], env=env)
    assert result.exit_code == 1
    assert message in result.output
    assert result.output.count("\n") == 1
    assert _rows(engine) == before


def test_cli_reports_an_unreachable_server(runner: CliRunner, database_url: str) -> None:
    result = runner.invoke(
        cli,
        ["sync-parks", "--url", "http://127.0.0.1:9/parks.json"],
        env={"DATABASE_URL": database_url, "HTTP_TIMEOUT_SECONDS": "2"},
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: http://127.0.0.1:9/parks.json: ConnectionError")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"id": 1, "name": "X", "parks": [', "not valid JSON: Expecting value at line 1"),
        ("{}", "expected a list of company groups, got dict"),
        (b"\xff\xfe", "not UTF-8 text"),
    ],
)
def test_cli_refuses_a_malformed_file_naming_it(
    runner: CliRunner, database_url: str, tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "parks.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    result = runner.invoke(
        cli, ["sync-parks", "--file", str(path)], env={"DATABASE_URL": database_url}
    )
    assert result.exit_code == 1
    assert message in result.output
    assert str(path) in result.output or "company groups" in message


def test_cli_names_a_missing_file(runner: CliRunner, database_url: str, tmp_path: Path) -> None:
    result = runner.invoke(
        cli,
        ["sync-parks", "--file", str(tmp_path / "nope.json")],
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 1
    assert f"{tmp_path / 'nope.json'}: cannot read: No such file or directory" in result.output


def test_cli_syncs_the_rest_and_exits_3_when_parks_are_skipped(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    document = _sample()
    document[0]["parks"][0]["timezone"] = "America/Disney_World"
    path = tmp_path / "parks.json"
    path.write_text(json.dumps(document))
    result = runner.invoke(
        cli, ["sync-parks", "--file", str(path)], env={"DATABASE_URL": database_url}
    )
    assert result.exit_code == EXIT_PARTIAL
    assert (
        "skipped: group 'Walt Disney Attractions', park #1 (id 6): field 'timezone': "
        "unknown timezone 'America/Disney_World'" in result.output
    )
    assert 6 not in _rows(engine)
    assert len(_rows(engine)) == 20


@pytest.mark.parametrize(
    "options",
    [
        ["--file", "x.json", "--url", "http://127.0.0.1/parks.json"],
        ["--all", "--country", "Canada"],
        ["--continent", "Europe", "--all"],
    ],
)
def test_cli_refuses_contradictory_options(
    runner: CliRunner, database_url: str, options: list[str]
) -> None:
    result = runner.invoke(cli, ["sync-parks", *options], env={"DATABASE_URL": database_url})
    assert result.exit_code == 2
    assert "give" in result.output
