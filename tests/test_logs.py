"""logs.py: JSON lines for jobs, readable text on request, both stamped in UTC."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from themepark_tracker.logs import configure_logging

INSTANT = datetime(2024, 7, 1, 12, 34, 56, 789000, tzinfo=UTC)


@pytest.fixture
def new_york_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A local timezone far from UTC, so a formatter using local time would show it."""
    monkeypatch.setenv("TZ", "EST+05EDT,M3.2.0,M11.1.0")  # POSIX rule: needs no tzdata
    time.tzset()
    assert time.localtime(INSTANT.timestamp()).tm_gmtoff == -4 * 3600
    yield
    monkeypatch.undo()
    time.tzset()


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# --- JSON -----------------------------------------------------------------------------------


def test_it_writes_one_json_object_per_line_with_the_standard_fields() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    logging.getLogger("themepark_tracker.jobs").info("cycle done")
    logging.getLogger("themepark_tracker.sources").warning("slow answer")
    records = json_lines(stream)
    assert len(records) == 2
    first, second = records
    assert {"time", "level", "logger", "message"} <= set(first)
    assert first["level"] == "INFO"
    assert first["logger"] == "themepark_tracker.jobs"
    assert first["message"] == "cycle done"
    assert second["level"] == "WARNING"
    assert second["logger"] == "themepark_tracker.sources"
    assert second["message"] == "slow answer"


def test_json_time_is_utc_iso_8601_with_an_explicit_offset(new_york_local_time: None) -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    with time_machine.travel(INSTANT, tick=False):
        logging.getLogger("x").info("stamped")
    (record,) = json_lines(stream)
    stamp = record["time"]
    assert isinstance(stamp, str)
    assert stamp.endswith("+00:00")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", stamp), stamp
    parsed = datetime.fromisoformat(stamp)
    assert parsed.utcoffset() == timedelta(0)
    assert parsed == INSTANT


def test_json_time_is_the_current_time() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    before = datetime.now(UTC)
    logging.getLogger("x").info("now")
    after = datetime.now(UTC)
    (record,) = json_lines(stream)
    assert isinstance(record["time"], str)
    stamped = datetime.fromisoformat(record["time"])
    assert before - timedelta(seconds=1) <= stamped <= after + timedelta(seconds=1)


def test_json_lines_carry_the_extra_fields_with_their_types() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    logging.getLogger("themepark_tracker.jobs").info(
        "cycle done",
        extra={"parks": 85, "duration_seconds": 142.5, "source": "queue-times", "ok": True},
    )
    (record,) = json_lines(stream)
    assert record["parks"] == 85
    assert record["duration_seconds"] == 142.5
    assert record["source"] == "queue-times"
    assert record["ok"] is True
    assert record["message"] == "cycle done"


def test_json_message_arguments_are_interpolated() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    logging.getLogger("x").info("synced %d parks from %s", 3, "file")
    (record,) = json_lines(stream)
    assert record["message"] == "synced 3 parks from file"


def test_json_stays_one_line_when_the_message_or_a_traceback_spans_lines() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    logger = logging.getLogger("x")
    logger.info("first line\nsecond line")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed", extra={"park_id": 6})
    records = json_lines(stream)
    assert len(records) == 2
    assert records[0]["message"] == "first line\nsecond line"
    assert records[1]["level"] == "ERROR"
    assert records[1]["park_id"] == 6
    assert "RuntimeError: boom" in json.dumps(records[1])


def test_json_drops_records_below_the_level() -> None:
    stream = io.StringIO()
    configure_logging("json", "WARNING", stream)
    logger = logging.getLogger("themepark_tracker.jobs")
    logger.debug("not shown")
    logger.info("not shown either")
    logger.warning("shown")
    assert [record["message"] for record in json_lines(stream)] == ["shown"]


# --- text -----------------------------------------------------------------------------------

TEXT_LINE = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (?P<level>[A-Z]+) (?P<logger>\S+): (?P<rest>.*)"
)


def test_text_line_starts_with_a_utc_timestamp_ending_in_z(new_york_local_time: None) -> None:
    stream = io.StringIO()
    configure_logging("text", "INFO", stream)
    with time_machine.travel(INSTANT, tick=False):
        logging.getLogger("themepark_tracker.jobs").info("cycle done")
    assert stream.getvalue() == "2024-07-01T12:34:56Z INFO themepark_tracker.jobs: cycle done\n"


def test_text_timestamp_is_the_current_utc_time() -> None:
    stream = io.StringIO()
    configure_logging("text", "INFO", stream)
    before = datetime.now(UTC).replace(microsecond=0)
    logging.getLogger("x").info("now")
    after = datetime.now(UTC)
    match = TEXT_LINE.fullmatch(stream.getvalue().rstrip("\n"))
    assert match, stream.getvalue()
    stamped = datetime.strptime(match["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= stamped <= after + timedelta(seconds=1)


def test_text_appends_the_extra_fields_as_key_value() -> None:
    stream = io.StringIO()
    configure_logging("text", "DEBUG", stream)
    logging.getLogger("themepark_tracker.sync").warning(
        "park skipped", extra={"park_id": 6, "reason": "unknown-timezone"}
    )
    match = TEXT_LINE.fullmatch(stream.getvalue().rstrip("\n"))
    assert match, stream.getvalue()
    assert match["level"] == "WARNING"
    assert match["logger"] == "themepark_tracker.sync"
    assert match["rest"] == "park skipped park_id=6 reason=unknown-timezone"


def test_text_without_extras_ends_with_the_message() -> None:
    stream = io.StringIO()
    configure_logging("text", "INFO", stream)
    logging.getLogger("x").error("plain %s", "message")
    line = stream.getvalue()
    assert line.endswith(" ERROR x: plain message\n")
    assert stream.getvalue().count("\n") == 1


def test_text_drops_records_below_the_level() -> None:
    stream = io.StringIO()
    configure_logging("text", "ERROR", stream)
    logging.getLogger("x").warning("not shown")
    logging.getLogger("x").error("shown")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(" ERROR x: shown")


# --- handlers and alembic -------------------------------------------------------------------


def test_configuring_again_replaces_the_handler_instead_of_adding_one() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("json", "INFO", first)
    configure_logging("text", "INFO", second)
    logging.getLogger("x").info("once")
    assert first.getvalue() == ""
    assert len(second.getvalue().splitlines()) == 1
    assert second.getvalue().endswith(" INFO x: once\n")


@pytest.mark.parametrize(
    ("level", "alembic_level"),
    [
        ("DEBUG", logging.DEBUG),
        ("INFO", logging.WARNING),
        ("WARNING", logging.WARNING),
        ("ERROR", logging.WARNING),
    ],
)
def test_the_alembic_logger_is_quieted_to_warning_unless_debugging(
    level: str, alembic_level: int
) -> None:
    configure_logging("json", level, io.StringIO())
    assert logging.getLogger("alembic").level == alembic_level
    assert logging.getLogger().level == logging.getLevelName(level)


def test_alembic_info_is_hidden_at_info_but_its_warnings_are_kept() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    logging.getLogger("alembic.runtime.migration").info("Running upgrade -> abc123")
    logging.getLogger("alembic.runtime.migration").warning("something odd")
    logging.getLogger("themepark_tracker").info("ours")
    assert [record["message"] for record in json_lines(stream)] == ["something odd", "ours"]


def test_alembic_info_is_shown_when_debugging() -> None:
    stream = io.StringIO()
    configure_logging("json", "DEBUG", stream)
    logging.getLogger("alembic.runtime.migration").info("Running upgrade -> abc123")
    (record,) = json_lines(stream)
    assert record["logger"] == "alembic.runtime.migration"
