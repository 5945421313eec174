"""Log lines: JSON objects for jobs, readable text on request, both in UTC."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from themepark_tracker.logs import configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    alembic_level = logging.getLogger("alembic").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(alembic_level)


def test_json_lines_carry_time_level_logger_message_and_extras() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    logging.getLogger("themepark_tracker.jobs").info(
        "cycle done", extra={"parks": 85, "duration_seconds": 142.5}
    )
    logging.getLogger("themepark_tracker.jobs").debug("not shown")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["message"] == "cycle done"
    assert record["level"] == "INFO"
    assert record["logger"] == "themepark_tracker.jobs"
    assert record["parks"] == 85 and record["duration_seconds"] == 142.5
    assert record["time"].endswith("+00:00")


def test_text_lines_start_with_a_utc_time_and_end_with_the_extras() -> None:
    stream = io.StringIO()
    configure_logging("text", "DEBUG", stream)
    logging.getLogger("x").warning("park skipped", extra={"park_id": 6})
    line = stream.getvalue().strip()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ WARNING x: park skipped park_id=6", line
    ), line


@pytest.mark.parametrize(
    ("level", "alembic"), [("INFO", logging.WARNING), ("DEBUG", logging.DEBUG)]
)
def test_alembic_narration_is_quiet_unless_debugging(level: str, alembic: int) -> None:
    configure_logging("json", level, io.StringIO())
    assert logging.getLogger("alembic").level == alembic


def test_configuring_twice_keeps_one_handler() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", io.StringIO())
    configure_logging("json", "INFO", stream)
    logging.getLogger("y").info("once")
    assert len(stream.getvalue().splitlines()) == 1
