"""Logging set-up: JSON lines for jobs (CloudWatch Logs Insights), plain text to read."""

from __future__ import annotations

import logging
import sys
import time
from typing import IO

from pythonjsonlogger.json import JsonFormatter

#: Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class TextFormatter(logging.Formatter):
    """One line per record, UTC time first, `extra=` fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)sZ %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
        self.converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES}
        if extras:
            line += " " + " ".join(f"{key}={value}" for key, value in extras.items())
        return line


def configure_logging(
    fmt: str = "json", level: str = "INFO", stream: IO[str] | None = None
) -> None:
    """Send every logger's records to one stderr handler in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter: logging.Formatter
    if fmt == "json":
        formatter = JsonFormatter(
            "%(name)s %(levelname)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )
    else:
        formatter = TextFormatter()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every step at INFO; our commands report the outcome themselves.
    logging.getLogger("alembic").setLevel("DEBUG" if level == "DEBUG" else "WARNING")
