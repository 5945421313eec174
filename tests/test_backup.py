"""`backup` and `restore` round trips on both databases: restored into an empty database,
the API answers exactly as it did from the original."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from api_fixtures import NOW, settings
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from themepark_tracker.api import create_app
from themepark_tracker.cli import cli
from themepark_tracker.storage.db import make_engine

URLS = [
    "/api/parks",
    "/api/parks/downtime?from=2026-07-01&to=2026-07-03",
    "/api/rides/downtime?period=last_7_days&limit=1000",
    "/api/parks/57?from=2026-07-01&to=2026-07-04",
    "/api/trends?period=yesterday",
    "/api/live/summary",
    "/api/rides/waittimes",
]


def _answers(engine: Engine) -> list[Any]:
    client = create_app(settings(), engine, clock=lambda: NOW).test_client()
    found = []
    for url in URLS:
        body = client.get(url).get_json()
        body["meta"].pop("generated_at")
        found.append(body)
    return found


@pytest.mark.parametrize("suffix", [".bak", ".gz"])
def test_a_restored_backup_answers_like_the_original(
    runner: CliRunner, api_engine: Engine, empty_db_url: URL, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"tracker{suffix}"
    source = api_engine.url.render_as_string(hide_password=False)
    made = runner.invoke(cli, ["backup", str(path)], env={"DATABASE_URL": source})
    assert made.exit_code == 0, made.output
    again = runner.invoke(cli, ["backup", str(path)], env={"DATABASE_URL": source})
    assert again.exit_code == 1 and "exists" in again.output
    target = empty_db_url.render_as_string(hide_password=False)
    restored = runner.invoke(cli, ["restore", str(path)], env={"DATABASE_URL": target})
    assert restored.exit_code == 0, restored.output
    engine = make_engine(empty_db_url)
    try:
        assert _answers(engine) == _answers(api_engine)
    finally:
        engine.dispose()
    twice = runner.invoke(cli, ["restore", str(path)], env={"DATABASE_URL": target})
    assert twice.exit_code == 1 and "restore into an empty one" in twice.output


def test_a_backup_of_nothing_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(
        cli, ["backup", str(tmp_path / "b.gz")], env={"DATABASE_URL": f"sqlite:///{tmp_path}/no.db"}
    )
    assert missing.exit_code == 1 and "there is no database" in missing.output
    assert not (tmp_path / "no.db").exists()
    (tmp_path / "empty.db").touch()
    empty = runner.invoke(
        cli,
        ["backup", str(tmp_path / "b.gz")],
        env={"DATABASE_URL": f"sqlite:///{tmp_path}/empty.db"},
    )
    assert empty.exit_code == 1 and "has no tables" in empty.output
    assert not (tmp_path / "b.gz").exists()
