"""The command line as a user meets it: init-db, errors, help."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import inspect
from sqlalchemy.engine import URL

from themepark_tracker import __version__
from themepark_tracker.catalogue import SAMPLE_PARKS_FILE as SAMPLE_PARKS
from themepark_tracker.cli import cli
from themepark_tracker.storage import migrate
from themepark_tracker.storage.db import make_engine


def test_init_db_twice_migrates_once_then_does_nothing(
    runner: CliRunner, empty_db_url: URL
) -> None:
    env = {"DATABASE_URL": empty_db_url.render_as_string(hide_password=False)}
    first = runner.invoke(cli, ["init-db"], env=env)
    assert first.exit_code == 0, first.output
    assert f"schema migrated from revision none to {migrate.head_revision()}" in first.output
    engine = make_engine(empty_db_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    second = runner.invoke(cli, ["init-db"], env=env)
    assert second.exit_code == 0, second.output
    assert f"schema already at revision {migrate.head_revision()}; nothing to do" in second.output
    engine = make_engine(empty_db_url)
    assert set(inspect(engine).get_table_names()) == tables
    engine.dispose()


def test_init_db_uses_the_embedded_sqlite_database_by_default(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["init-db"], env={"DATA_DIR": str(tmp_path / "state")})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "state" / "tracker.db").is_file()


def test_a_database_that_is_down_is_one_line_with_the_password_hidden(
    runner: CliRunner,
) -> None:
    url = "mysql+mysqldb://tracker:s3cret-pw@127.0.0.1:9/tracker"
    result = runner.invoke(cli, ["init-db"], env={"DATABASE_URL": url})
    assert result.exit_code == 1
    assert result.output.startswith("Error: database mysql+mysqldb://tracker:***@127.0.0.1:9/")
    assert "Can't connect" in result.output
    assert result.output.count("\n") == 1
    assert "s3cret-pw" not in result.output


def test_an_unusable_sqlite_location_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = runner.invoke(
        cli, ["init-db"], env={"DATABASE_URL": f"sqlite:///{blocker}/sub/tracker.db"}
    )
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: database sqlite:///{blocker}/sub/tracker.db:")
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://localhost/x", "unsupported database 'postgresql'"),
        ("not a url", "setting DATABASE_URL=******** (from env): not a SQLAlchemy"),
    ],
)
def test_an_unsupported_database_url_is_refused(runner: CliRunner, url: str, message: str) -> None:
    result = runner.invoke(cli, ["init-db"], env={"DATABASE_URL": url})
    assert result.exit_code == 1
    assert message in result.output
    assert result.output.count("\n") == 1


def test_help_works_even_with_a_broken_configuration(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["sync-parks", "--help"], env={"DB_POOL_SIZE": "many"})
    assert result.exit_code == 0
    assert "Example: themepark-tracker sync-parks" in result.output


def _leaf_commands(group: click.Group) -> Iterator[click.Command]:
    for command in group.commands.values():
        if isinstance(command, click.Group):
            yield from _leaf_commands(command)
        else:
            yield command


def test_every_command_documents_an_example() -> None:
    for command in _leaf_commands(cli):
        assert "Example: themepark-tracker" in (command.help or ""), command.name


def test_the_package_runs_as_a_module_and_reports_its_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "themepark_tracker", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"themepark-tracker, version {__version__}"


@pytest.mark.parametrize(
    ("option", "pattern"),
    [
        (
            "text",
            r"(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO [\w.]+sync_parks: park catalogue synced ",
        ),
        ("json", r'(?m)^\{"logger": "themepark_tracker\.jobs\.sync_parks", "level": "INFO"'),
    ],
)
def test_the_log_format_option_overrides_the_setting(
    runner: CliRunner, database_url: str, option: str, pattern: str
) -> None:
    other = "json" if option == "text" else "text"
    result = runner.invoke(
        cli,
        ["--log-format", option, "sync-parks", "--file", str(SAMPLE_PARKS)],
        env={"DATABASE_URL": database_url, "LOG_FORMAT": other},
    )
    assert result.exit_code == 0, result.output
    assert re.search(pattern, result.stderr)
