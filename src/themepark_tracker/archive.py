"""Archives of fetches (Queue-Times, and ThemeParks.wiki for the parks paired with it):
JSON Lines, gzip when the file name ends in `.gz`.

One format for the feed generator, the collector and the importer, so that a capture of
the real API and a simulated day replay the same way. Each line is one fetch:

    {"kind":"parks","fetched_at":"2025-07-04T16:00:00Z","payload":<parks.json body>}
    {"kind":"queue_times","park_id":16,"fetched_at":"...","payload":<queue_times.json body>}
    {"kind":"tpw_live","park_id":16,"fetched_at":"...","payload":<its ThemeParks.wiki live>}
    {"kind":"tpw_schedule","park_id":16,"fetched_at":"...","payload":<its schedule>}
    {"kind":"error","park_id":16,"fetched_at":"...","error":"HTTP 500"}

An error line has `"park_id": null` when the catalogue itself could not be fetched.
Reading never stops at a bad line: each line comes back with its number and either its
record or what is wrong with it, so that one torn write costs one line, not a day. A line
is bad, too, when what it holds could not be stored: a park id beyond the database's
integers, a time outside 2000-2099, JSON nested deeper than any payload.

In a `.gz` archive every record is a gzip member of its own. A crash therefore loses at
most the line being written, the file stays readable by any gzip tool, and appending to
an archive is just writing more members.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import reprlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ClassVar

from themepark_tracker.sources.queue_times import MAX_ID, MAX_JSON_DEPTH, nested_deeper_than

_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_GZIP_LEVEL = 6
EARLIEST_FETCH = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_FETCH = datetime(2100, 1, 1, tzinfo=UTC)
"""A fetch is from [EARLIEST_FETCH, LATEST_FETCH): anything else is a corrupt record, and
would make park days that no clock ever reaches (or, near year 1, overflow on the way)."""
_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxstring, _BRIEF.maxother, _BRIEF.maxlong = 3, 60, 60, 60


class ArchiveError(ValueError):
    """A line of an archive is not a record."""


def format_fetched_at(moment: datetime) -> str:
    """`2025-07-04T16:00:00Z`: UTC to the second; a naive time is refused, not guessed."""
    return _to_utc(moment).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def parse_fetched_at(text: str) -> datetime:
    """An aware UTC datetime from `2025-07-04T16:00:00Z`, `...T16:00:00.25+00:00` and the like.

    Any explicit offset is converted to UTC; a time without one is refused, because the
    instant it names is unknown.
    """
    if not isinstance(text, str):
        raise ArchiveError(f"expected a timestamp string, got {type(text).__name__}")
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise ArchiveError(f"{_brief(text)} is not an ISO 8601 timestamp like 2025-07-04T16:00:00Z")
    if match[2] is None:
        raise ArchiveError(f"{text!r} has no timezone; expected UTC with a trailing Z")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ArchiveError(f"{text!r} is not a valid timestamp: {exc}") from None
    try:
        return _to_utc(moment)
    except ValueError as exc:
        raise ArchiveError(str(exc)) from None


def _to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"fetched_at must be timezone-aware (UTC), got naive {moment}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"fetched_at {moment} cannot be expressed in UTC") from None


def _fetch_time(moment: datetime) -> datetime:
    """`moment` in UTC, refused outside [EARLIEST_FETCH, LATEST_FETCH)."""
    utc = _to_utc(moment)
    if not EARLIEST_FETCH <= utc < LATEST_FETCH:
        raise ValueError(
            f"fetched_at {format_fetched_at(utc)} is outside "
            f"{EARLIEST_FETCH.year}-{LATEST_FETCH.year - 1}"
        )
    return utc


def _check_park_id(value: object, *, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise ValueError(f"park_id must be a positive integer up to {MAX_ID}, got {_brief(value)}")
    return value


def _brief(value: object) -> str:
    """A value for a message: short whatever it is (a line may hold megabytes)."""
    try:
        return _BRIEF.repr(value)
    except ValueError:  # only an integer beyond the digit limit of int-to-text
        return "an integer too long to show"


@dataclass(frozen=True)
class ParksRecord:
    """A fetched `parks.json`; `payload` is decoded JSON, or raw JSON bytes when writing."""

    fetched_at: datetime
    payload: Any
    kind: ClassVar[str] = "parks"

    def __post_init__(self) -> None:
        object.__setattr__(self, "fetched_at", _fetch_time(self.fetched_at))


@dataclass(frozen=True)
class _ParkAnswer:
    """A fetched answer about one park; `payload` as in ParksRecord."""

    park_id: int
    fetched_at: datetime
    payload: Any
    kind: ClassVar[str]

    def __post_init__(self) -> None:
        _check_park_id(self.park_id)
        object.__setattr__(self, "fetched_at", _fetch_time(self.fetched_at))


@dataclass(frozen=True)
class QueueTimesRecord(_ParkAnswer):
    """A fetched `parks/{park_id}/queue_times.json`."""

    kind: ClassVar[str] = "queue_times"


@dataclass(frozen=True)
class WikiLiveRecord(_ParkAnswer):
    """A fetched ThemeParks.wiki `/entity/{id}/live` of a park (`park_id`: Queue-Times')."""

    kind: ClassVar[str] = "tpw_live"


@dataclass(frozen=True)
class WikiScheduleRecord(_ParkAnswer):
    """A fetched ThemeParks.wiki `/entity/{id}/schedule` of a park."""

    kind: ClassVar[str] = "tpw_schedule"


@dataclass(frozen=True)
class ErrorRecord:
    """A fetch that failed: kept so that a gap in the data can be told from a quiet park.

    `park_id` is None when the catalogue (`parks.json`) was the failed fetch.
    """

    park_id: int | None
    fetched_at: datetime
    error: str
    kind: ClassVar[str] = "error"

    def __post_init__(self) -> None:
        _check_park_id(self.park_id, nullable=True)
        object.__setattr__(self, "fetched_at", _fetch_time(self.fetched_at))
        if not isinstance(self.error, str):
            raise ValueError(f"error must be a string, got {type(self.error).__name__}")


ArchiveRecord = ParksRecord | QueueTimesRecord | WikiLiveRecord | WikiScheduleRecord | ErrorRecord
_PARK_RECORDS = {
    record.kind: record for record in (QueueTimesRecord, WikiLiveRecord, WikiScheduleRecord)
}


@dataclass(frozen=True)
class ArchiveLine:
    """One line as read: its place, and either its record or what is wrong with it."""

    path: Path
    line_number: int
    record: ArchiveRecord | None = None
    error: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line_number}: {self.error or self.record}"


def _raw_payload(raw: bytes) -> bytes:
    """Raw JSON kept verbatim, once checked that it is JSON, fits on one line and nests
    no deeper than a reader accepts."""
    if b"\n" in raw or b"\r" in raw:
        raise ValueError("a raw payload must be one line of JSON; pass it decoded instead")
    try:
        decoded = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"a raw payload must be UTF-8: {exc.reason}") from None
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"a raw payload must be valid JSON: {exc}") from None
    if nested_deeper_than(decoded, raw):
        raise ValueError(f"a raw payload must nest at most {MAX_JSON_DEPTH} levels deep")
    return raw


def _json_line(value: Any) -> bytes:
    """Compact JSON of decoded data: whatever the decoder accepted (NaN, a lone surrogate,
    which UTF-8 cannot carry unescaped) encodes back."""
    try:
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(value, separators=(",", ":")).encode("ascii")
    except RecursionError:
        raise ValueError(f"a payload must nest at most {MAX_JSON_DEPTH} levels deep") from None


def encode_record(record: ArchiveRecord) -> bytes:
    """The archive line of a record, newline included.

    A payload given as bytes is embedded byte for byte, so the archive keeps exactly
    what the server sent (number formats, key order, escapes).
    """
    header: dict[str, Any] = {"kind": record.kind}
    if not isinstance(record, ParksRecord):
        header["park_id"] = record.park_id
    header["fetched_at"] = format_fetched_at(record.fetched_at)
    if isinstance(record, ErrorRecord):
        header["error"] = record.error
        return _json_line(header) + b"\n"
    payload = record.payload
    if isinstance(payload, bytes | bytearray | memoryview):
        body = _raw_payload(bytes(payload))
    else:
        body = _json_line(payload)
        if nested_deeper_than(payload, body):
            raise ValueError(f"a payload must nest at most {MAX_JSON_DEPTH} levels deep")
    return _json_line(header)[:-1] + b',"payload":' + body + b"}\n"


def decode_record(line: bytes) -> ArchiveRecord:
    """The record of one archive line; ArchiveError says what is wrong with it."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchiveError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ArchiveError("not valid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer beyond the digit limit of text-to-int
        raise ArchiveError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ArchiveError(f"expected a JSON object, got {type(data).__name__}")
    if nested_deeper_than(data, text, MAX_JSON_DEPTH + 1):
        raise ArchiveError(f"a value nested more than {MAX_JSON_DEPTH} levels deep")
    kind = _field(data, "kind")
    if kind not in ("parks", "error", *_PARK_RECORDS):
        raise ArchiveError(f"unknown kind {_brief(kind)}")
    try:
        fetched_at = parse_fetched_at(_field(data, "fetched_at"))
    except ArchiveError as exc:
        raise ArchiveError(f"field 'fetched_at': {exc}") from None
    try:
        if kind == "parks":
            return ParksRecord(fetched_at=fetched_at, payload=_field(data, "payload"))
        park_id = _field(data, "park_id")
        if kind in _PARK_RECORDS:
            return _PARK_RECORDS[kind](
                park_id=park_id, fetched_at=fetched_at, payload=_field(data, "payload")
            )
        return ErrorRecord(park_id=park_id, fetched_at=fetched_at, error=_field(data, "error"))
    except ArchiveError:
        raise
    except ValueError as exc:
        raise ArchiveError(str(exc)) from None


def _field(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise ArchiveError(f"missing field {name!r}")
    return data[name]


def _is_gzip(path: Path) -> bool:
    return path.name.endswith(".gz")


class ArchiveWriter:
    """Appends records to an archive, creating it if needed; flushed after every record.

    A plain archive cut by a crash in mid-line gets a newline before the next record, so
    the torn line stays one bad line instead of swallowing the next one. Not thread-safe.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._gzip = _is_gzip(self.path)
        self._file: IO[bytes] | None = open(self.path, "ab")
        if not self._gzip and self.path.stat().st_size > 0 and not _ends_with_newline(self.path):
            self._file.write(b"\n")
            self._file.flush()

    def write(self, record: ArchiveRecord) -> None:
        if self._file is None:
            raise ValueError(f"{self.path}: archive is closed")
        line = encode_record(record)
        if self._gzip:
            line = gzip.compress(line, compresslevel=_GZIP_LEVEL, mtime=0)
        self._file.write(line)
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as stream:
        stream.seek(-1, os.SEEK_END)
        return stream.read(1) == b"\n"


def read_archive(path: str | os.PathLike[str]) -> Iterator[ArchiveLine]:
    """Every line of an archive, in order, good or bad; blank lines are skipped.

    A `.gz` archive that is truncated or corrupt yields one error item where it breaks
    and ends there: nothing after the break can be decompressed. A file that cannot be
    opened at all raises OSError.
    """
    archive = Path(path)
    stream: io.BufferedIOBase = gzip.open(archive) if _is_gzip(archive) else open(archive, "rb")
    with stream:
        number = 0
        lines = iter(stream)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                yield ArchiveLine(
                    archive, number + 1, error=f"gzip stream truncated or corrupt: {exc}"
                )
                return
            number += 1
            if not line.strip():
                continue
            try:
                record = decode_record(line)
            except ArchiveError as exc:
                yield ArchiveLine(archive, number, error=str(exc))
                continue
            yield ArchiveLine(archive, number, record=record)


def count_lines(path: str | os.PathLike[str]) -> int:
    """Lines in an archive, for a progress bar: a cheap pass that decodes no JSON."""
    file = Path(path)
    opener = gzip.open if _is_gzip(file) else open
    count = 0
    try:
        with opener(file, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                count += block.count(b"\n")
    except (OSError, EOFError, zlib.error):
        pass
    return count
