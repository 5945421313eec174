"""Archives of fetches: what is written reads back, and a bad line costs only itself."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from themepark_tracker.archive import (
    ArchiveError,
    ArchiveLine,
    ArchiveRecord,
    ArchiveWriter,
    ErrorRecord,
    ParksRecord,
    QueueTimesRecord,
    format_fetched_at,
    parse_fetched_at,
    read_archive,
)

T0 = datetime(2025, 7, 4, 16, 0, 0, tzinfo=UTC)
PARKS = [{"id": 2, "name": "Walt Disney Attractions", "parks": [{"id": 6, "name": "Magic"}]}]
QUEUE = {"lands": [], "rides": [{"id": 1, "name": "Pokémon Dash", "wait_time": 5}]}
RECORDS: list[ArchiveRecord] = [
    ParksRecord(fetched_at=T0, payload=PARKS),
    QueueTimesRecord(park_id=16, fetched_at=T0 + timedelta(seconds=3), payload=QUEUE),
    ErrorRecord(park_id=16, fetched_at=T0 + timedelta(seconds=4), error="HTTP 500"),
    ErrorRecord(park_id=None, fetched_at=T0 + timedelta(seconds=5), error="ReadTimeout"),
]
GOOD_LINE = b'{"kind":"parks","fetched_at":"2025-07-04T16:00:00Z","payload":[]}'


def _write(path: Path, records: list[ArchiveRecord]) -> None:
    with ArchiveWriter(path) as writer:
        for record in records:
            writer.write(record)


def _records(path: Path) -> list[ArchiveRecord | None]:
    return [line.record for line in read_archive(path)]


def _decompressed(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()


@pytest.mark.parametrize("name", ["day.jsonl", "day.jsonl.gz"])
def test_every_kind_of_record_reads_back_as_written(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    _write(path, RECORDS)
    lines = list(read_archive(path))
    assert [line.record for line in lines] == RECORDS
    assert [line.line_number for line in lines] == [1, 2, 3, 4]
    assert all(line.path == path and line.error is None for line in lines)


def test_a_gz_archive_is_gzip_and_a_plain_one_is_text(tmp_path: Path) -> None:
    _write(tmp_path / "a.jsonl.gz", RECORDS)
    _write(tmp_path / "a.jsonl", RECORDS)
    assert (tmp_path / "a.jsonl.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (
        gzip.decompress((tmp_path / "a.jsonl.gz").read_bytes())
        == (tmp_path / "a.jsonl").read_bytes()
    )


def test_lines_are_compact_json_in_a_fixed_key_order(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    _write(path, RECORDS)
    assert path.read_bytes().splitlines()[1:3] == [
        b'{"kind":"queue_times","park_id":16,"fetched_at":"2025-07-04T16:00:03Z","payload":'
        + '{"lands":[],"rides":[{"id":1,"name":"Pokémon Dash","wait_time":5}]}}'.encode(),
        b'{"kind":"error","park_id":16,"fetched_at":"2025-07-04T16:00:04Z","error":"HTTP 500"}',
    ]


@pytest.mark.parametrize("name", ["day.jsonl", "day.jsonl.gz"])
def test_writing_to_an_existing_archive_appends(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    _write(path, RECORDS[:2])
    _write(path, RECORDS[2:])
    assert _records(path) == RECORDS
    assert len(_decompressed(path).splitlines()) == 4


def test_a_line_torn_by_a_crash_stays_one_bad_line_when_appending(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl"
    _write(path, RECORDS[:1])
    with open(path, "ab") as stream:
        stream.write(b'{"kind":"queue_times","park_id":16,"fetch')
    _write(path, RECORDS[1:2])
    lines = list(read_archive(path))
    assert [line.record for line in lines] == [RECORDS[0], None, RECORDS[1]]
    assert lines[1].line_number == 2 and "not valid JSON" in str(lines[1].error)


@pytest.mark.parametrize("name", ["day.jsonl", "day.jsonl.gz"])
def test_a_raw_payload_is_kept_byte_for_byte(tmp_path: Path, name: str) -> None:
    raw = b'{ "lands" : [], "rides":[{"id":1,"name":"Pok\\u00e9mon","wait_time":5.0}] }'
    path = tmp_path / name
    with ArchiveWriter(path) as writer:
        writer.write(QueueTimesRecord(park_id=16, fetched_at=T0, payload=raw))
    assert _decompressed(path) == (
        b'{"kind":"queue_times","park_id":16,"fetched_at":"2025-07-04T16:00:00Z","payload":'
        + raw
        + b"}\n"
    )
    (line,) = read_archive(path)
    assert isinstance(line.record, QueueTimesRecord)
    assert line.record.payload == {
        "lands": [],
        "rides": [{"id": 1, "name": "Pokémon", "wait_time": 5.0}],
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"rides": [', "valid JSON"),
        (b"<html>502</html>", "valid JSON"),
        (b'{"rides":\n[]}', "one line"),
        (b'{"name":"\xe9"}', "UTF-8"),
    ],
)
def test_a_raw_payload_that_would_break_the_archive_is_refused(
    tmp_path: Path, raw: bytes, message: str
) -> None:
    path = tmp_path / "day.jsonl"
    with ArchiveWriter(path) as writer, pytest.raises(ValueError, match=message):
        writer.write(ParksRecord(fetched_at=T0, payload=raw))
    assert path.read_bytes() == b""


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b'{"kind":"parks","fetched_at":"2025-07-04T16:00:00Z","payl', "not valid JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'{"kind":"weather","fetched_at":"2025-07-04T16:00:00Z"}', "unknown kind 'weather'"),
        (b'{"fetched_at":"2025-07-04T16:00:00Z","payload":[]}', "missing field 'kind'"),
        (b'{"kind":"parks","fetched_at":"2025-07-04T16:00:00Z"}', "missing field 'payload'"),
        (b'{"kind":"parks","payload":[]}', "missing field 'fetched_at'"),
        (
            b'{"kind":"queue_times","fetched_at":"2025-07-04T16:00:00Z","payload":{}}',
            "missing field 'park_id'",
        ),
        (
            b'{"kind":"error","park_id":16,"fetched_at":"2025-07-04T16:00:00Z"}',
            "missing field 'error'",
        ),
        (
            b'{"kind":"queue_times","park_id":"16","fetched_at":"2025-07-04T16:00:00Z",'
            b'"payload":{}}',
            "park_id must be a positive integer",
        ),
        (
            b'{"kind":"parks","fetched_at":"2025-07-04T16:00:00","payload":[]}',
            "'fetched_at': '2025-07-04T16:00:00' has no timezone",
        ),
        (
            b'{"kind":"parks","fetched_at":"yesterday","payload":[]}',
            "'fetched_at': 'yesterday' is not an ISO 8601 timestamp",
        ),
        (
            b'{"kind":"parks","fetched_at":"2025-02-30T16:00:00Z","payload":[]}',
            "is not a valid timestamp",
        ),
        (b'{"kind":"parks","fetched_at":1751644800,"payload":[]}', "expected a timestamp"),
        (b'{"kind":"error","park_id":16,"fetched_at":"2025-07-04T16:00:00Z","error":5}', "error"),
        (b'{"kind":"parks","fetched_at":"\xff","payload":[]}', "not UTF-8"),
        (
            b'{"kind":"error","park_id":9223372036854775808,"fetched_at":"2025-07-04T16:00:00Z",'
            b'"error":"x"}',
            "park_id must be a positive integer up to 2147483647",
        ),
        (
            b'{"kind":"parks","fetched_at":"0001-01-01T00:00:00Z","payload":[]}',
            "fetched_at 0001-01-01T00:00:00Z is outside 2000-2099",
        ),
        (b'{"kind":"parks","fetched_at":"2025-07-04T16:00:00Z","payload":' + b"[" * 300, "JSON"),
        (b'{"kind":"' + b"k" * 5000 + b'"}', "unknown kind 'kkk"),
    ],
)
@pytest.mark.parametrize("name", ["day.jsonl", "day.jsonl.gz"])
def test_a_bad_line_is_reported_with_its_number_and_the_rest_is_read(
    tmp_path: Path, name: str, bad: bytes, message: str
) -> None:
    path = tmp_path / name
    content = b"\n".join([GOOD_LINE, bad, GOOD_LINE]) + b"\n"
    path.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    lines = list(read_archive(path))
    assert [line.line_number for line in lines] == [1, 2, 3]
    assert lines[1].record is None
    assert message in str(lines[1].error)
    assert str(lines[1]).startswith(f"{path}:2: ")
    assert lines[0].record == lines[2].record == ParksRecord(fetched_at=T0, payload=[])


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl"
    path.write_bytes(GOOD_LINE + b"\n\n  \n" + GOOD_LINE)
    assert [line.line_number for line in read_archive(path)] == [1, 4]


def test_unknown_fields_are_ignored_so_a_newer_writer_stays_readable(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl"
    path.write_bytes(GOOD_LINE[:-1] + b',"status":200}\n')
    assert _records(path) == [ParksRecord(fetched_at=T0, payload=[])]


@pytest.mark.parametrize("cut", [1, 5, 30])
def test_a_gz_archive_cut_short_reads_up_to_the_cut_then_reports_it_once(
    tmp_path: Path, cut: int
) -> None:
    path = tmp_path / "day.jsonl.gz"
    _write(path, RECORDS)
    path.write_bytes(path.read_bytes()[:-cut])
    *good, last = read_archive(path)
    # A cut inside the 8-byte gzip trailer leaves the last line whole: it is kept.
    assert [line.record for line in good] == RECORDS[: 4 if cut < 8 else 3]
    assert last.record is None and last.line_number == len(good) + 1
    assert "gzip stream truncated or corrupt" in str(last.error)


def test_a_single_gzip_stream_cut_in_the_middle_keeps_the_lines_before_the_cut(
    tmp_path: Path,
) -> None:
    path = tmp_path / "day.jsonl.gz"
    lines_in = [GOOD_LINE.replace(b"[]", f"[{i}]".encode()) for i in range(2000)]
    compressed = gzip.compress(b"\n".join(lines_in) + b"\n")
    path.write_bytes(compressed[: len(compressed) // 2])
    lines = list(read_archive(path))
    assert 0 < len(lines) - 1 < 2000
    assert all(line.record is not None for line in lines[:-1])
    assert lines[-1].error is not None and lines[-1].line_number == len(lines)


def test_a_file_named_gz_that_is_not_gzip_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl.gz"
    path.write_bytes(GOOD_LINE + b"\n")
    assert [(line.line_number, line.record) for line in read_archive(path)] == [(1, None)]


def test_a_naive_fetched_at_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl"
    with ArchiveWriter(path) as writer, pytest.raises(ValueError, match="timezone-aware"):
        writer.write(QueueTimesRecord(park_id=16, fetched_at=datetime(2025, 7, 4), payload={}))
    assert path.read_bytes() == b""
    with pytest.raises(ValueError, match="timezone-aware"):
        format_fetched_at(datetime(2025, 7, 4, 16))


def test_fetched_at_is_written_in_utc_to_the_second() -> None:
    eastern = timezone(timedelta(hours=-4))
    moment = datetime(2025, 7, 4, 12, 0, 0, 750_000, tzinfo=eastern)
    assert format_fetched_at(moment) == "2025-07-04T16:00:00Z"
    assert QueueTimesRecord(park_id=1, fetched_at=moment, payload={}).fetched_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-07-04T16:00:00Z", T0),
        ("2025-07-04T16:00:00+00:00", T0),
        ("2025-07-04T16:00:00.250Z", T0.replace(microsecond=250_000)),
        ("2025-07-04T18:00:00+02:00", T0),
    ],
)
def test_fetched_at_reads_utc_with_fractions_and_offsets(text: str, expected: datetime) -> None:
    parsed = parse_fetched_at(text)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["2025-07-04T16:00:00", "2025-07-04", "20250704T160000Z", "2025-07-04 16:00:00Z", ""]
)
def test_fetched_at_without_a_timezone_or_in_another_shape_is_refused(text: str) -> None:
    with pytest.raises(ArchiveError):
        parse_fetched_at(text)


@pytest.mark.parametrize("name", ["day.jsonl", "day.jsonl.gz"])
def test_whatever_the_decoder_accepted_is_written_and_reads_back(tmp_path: Path, name: str) -> None:
    """A decoded payload may hold what UTF-8 cannot carry unescaped, or NaN: it is written
    all the same (a collector archives what it stored), and reads back as it was."""
    payload = {"rides": [{"id": 1, "name": "A\ud800B", "wait_time": float("inf")}]}
    record = QueueTimesRecord(park_id=16, fetched_at=T0, payload=payload)
    error = ErrorRecord(park_id=16, fetched_at=T0, error="timeout: \udfff")
    _write(tmp_path / name, [record, error])
    assert _records(tmp_path / name) == [record, error]


def test_what_a_reader_would_refuse_is_not_written(tmp_path: Path) -> None:
    deep: list[object] = []
    for _ in range(300):
        deep = [deep]
    with pytest.raises(ValueError, match="park_id must be a positive integer up to"):
        QueueTimesRecord(park_id=2**31, fetched_at=T0, payload={})
    with pytest.raises(ValueError, match="outside 2000-2099"):
        ErrorRecord(park_id=16, fetched_at=datetime(1999, 12, 31, 23, tzinfo=UTC), error="x")
    path = tmp_path / "day.jsonl"
    with ArchiveWriter(path) as writer:
        for payload in ({"rides": deep}, b'{"rides":' + b"[" * 300 + b"]" * 300 + b"}"):
            with pytest.raises(ValueError, match="nest at most 256 levels deep"):
                writer.write(QueueTimesRecord(park_id=16, fetched_at=T0, payload=payload))
    assert path.read_bytes() == b""


def test_a_closed_writer_refuses_to_write(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path / "day.jsonl")
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write(RECORDS[0])


def test_a_line_prints_as_its_place_and_content(tmp_path: Path) -> None:
    line = ArchiveLine(tmp_path / "a.jsonl", 7, error="unknown kind 'x'")
    assert str(line) == f"{tmp_path / 'a.jsonl'}:7: unknown kind 'x'"
