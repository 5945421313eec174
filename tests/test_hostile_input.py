"""Hostile input from the feed and from archives: one bad record costs itself, nothing more.

Ids beyond the database's integers, lone surrogates, names longer than their column, JSON
nested ten thousand deep, waits of forty digits, timestamps near year 1: each is refused or
repaired at the edge and recorded as a data-quality issue (or a bad archive line), while
the rest of the poll, the batch, the import and the collection cycle go on. Properties
throw arbitrary JSON at the parsers and the archive reader, and hostile archives through
`import` on each database; plain tests pin every concrete case.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner
from feed_fixtures import (
    ScriptedSource,
    catalogue,
    clear,
    collector_settings,
    contents,
    feed_ride,
    no_ssm,
    rows,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from themepark_tracker.archive import (
    EARLIEST_FETCH,
    LATEST_FETCH,
    ArchiveWriter,
    ErrorRecord,
    ParksRecord,
    QueueTimesRecord,
    read_archive,
)
from themepark_tracker.classify import Decisions
from themepark_tracker.cli import EXIT_PARTIAL, cli
from themepark_tracker.config import Settings, load_settings
from themepark_tracker.engine.states import StateRules
from themepark_tracker.feed.model import FeedModel
from themepark_tracker.feed.server import (
    POISON_NAME_LENGTH,
    POISON_RIDE_BASE,
    Faults,
    Poison,
    poison_for,
    running_server,
)
from themepark_tracker.ingest import WAIT_RAW_LENGTH, PollInput, plan_poll
from themepark_tracker.jobs.collect import collect_cycle
from themepark_tracker.jobs.import_archive import import_archives
from themepark_tracker.sources.queue_times import (
    MAX_ID,
    NAME_LENGTH,
    RAW_LENGTH,
    SourceError,
    decode_json,
    parse_parks_catalogue,
    parse_queue_times,
    raw_text,
)
from themepark_tracker.storage.tables import (
    data_quality_issues,
    parks,
    polls,
    ride_snapshots,
    rides,
)

T0 = datetime(2026, 7, 4, 16, 0, tzinfo=UTC)  # noon in New York, a summer Saturday
TEN_MINUTES = timedelta(minutes=10)
LONE = "\ud800"
FORTY_DIGITS = 10**39


def nested(depth: int) -> list[Any]:
    """A list inside a list, `depth` levels (built without recursion)."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def deep_text(depth: int) -> str:
    return "[" * depth + "]" * depth


def storable(text: str | None, length: int) -> bool:
    """Fits a column of `length` characters on both databases."""
    if text is None:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return len(text) <= length


def import_settings() -> Settings:
    return load_settings(environ={}, ssm_reader=no_ssm)


def plan(document: Any) -> Any:
    return plan_poll(
        PollInput(6, T0, document),
        {},
        cycle_id="test",
        source="import",
        rules=StateRules(),
        ride_absence=timedelta(hours=24),
        decisions=Decisions(),
    )


# --- strategies ---------------------------------------------------------------------------

HUGE = st.sampled_from([0, -1, 2**31 - 1, 2**31, 2**63, -(2**63), 10**30, FORTY_DIGITS])
TEXT = st.text(st.characters() | st.characters(categories=["Cs"]), max_size=12) | st.sampled_from(
    [LONE, f"Space {LONE} Mountain", "x" * 5000, "  ", ""]
)
SCALARS = (
    st.none() | st.booleans() | st.integers() | HUGE | st.floats() | TEXT  # NaN and ∞ too
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
"""Any decoded JSON value that the encoder can write back (nothing nested too deep)."""
DEEP = nested(10_000)
STAMPS = (
    st.sampled_from(
        [
            "2026-07-04T15:58:00.000Z",
            "2026-07-04T11:58:00-04:00",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-05:00",
            "2026-07-04T15:58:00",
            "soon",
        ]
    )
    | JSON
)
RIDE_IDS = st.integers(1, 6) | HUGE | JSON
RIDE = st.fixed_dictionaries(
    {
        "id": RIDE_IDS,
        "name": TEXT | JSON,
        "is_open": st.booleans() | JSON,
        "wait_time": st.integers(0, 120) | HUGE | JSON | st.just(nested(200)),
        "last_updated": STAMPS,
    }
)
LAND = st.fixed_dictionaries(
    {"id": RIDE_IDS, "name": TEXT | JSON, "rides": st.lists(RIDE | JSON, max_size=3) | JSON}
)
PAYLOAD = (
    st.fixed_dictionaries(
        {"lands": st.lists(LAND | JSON, max_size=2), "rides": st.lists(RIDE | JSON, max_size=4)}
    )
    | JSON
)
"""Queue-Times-shaped documents with hostile values in every field, or any JSON at all."""


# --- parsing: anything in, SourceError or safe rows out -------------------------------------


@settings(max_examples=100, deadline=None)
@given(document=PAYLOAD | st.just({"rides": [{"id": 1, "name": "Deep", "wait_time": DEEP}]}))
def test_any_json_parses_into_storable_rows_or_is_refused_as_a_source_error(
    document: Any,
) -> None:
    try:
        parsed, problems = parse_queue_times(document)
    except SourceError:
        return
    for ride in parsed:
        assert 0 < ride.id <= MAX_ID
        assert ride.land_id is None or 0 < ride.land_id <= MAX_ID
        assert ride.name and storable(ride.name, NAME_LENGTH)
        assert storable(ride.land_name, NAME_LENGTH)
    found = [*problems, *(problem for ride in parsed for problem in ride.problems)]
    assert all(len(kind) <= 40 and storable(raw, RAW_LENGTH) for kind, raw in found)

    result = plan(document)
    assert all(storable(s["wait_time_raw"], 32) for s in result.snapshots)
    assert all(
        storable(i["raw_value"], RAW_LENGTH) and storable(i["detail"], 1000) for i in result.issues
    )
    assert all(storable(r["name"], 255) for r in result.new_rides)


PARK = st.fixed_dictionaries(
    {
        "id": RIDE_IDS,
        "name": TEXT | JSON,
        "country": st.just("United States") | TEXT,
        "continent": st.just("North America") | TEXT,
        "latitude": st.just(28.4) | HUGE | JSON,
        "longitude": st.just(-81.6) | HUGE | JSON,
        "timezone": st.just("America/New_York") | TEXT,
    }
)
GROUP = st.fixed_dictionaries(
    {
        "id": st.integers(1, 5) | HUGE,
        "name": st.just("Group") | TEXT,
        "parks": st.lists(PARK | JSON),
    }
)


@settings(max_examples=100, deadline=None)
@given(document=JSON | st.lists(GROUP | JSON, max_size=3))
def test_any_json_catalogue_is_read_or_refused_as_a_source_error(document: Any) -> None:
    try:
        found, problems = parse_parks_catalogue(document)
    except SourceError as exc:
        assert storable(str(exc), 5000)
        return
    for park in found:
        assert 0 < park.id <= MAX_ID and 0 < park.operator_id <= MAX_ID
        texts = (park.name, park.operator, park.country, park.continent, park.timezone)
        assert all(storable(text, 200) for text in texts)
    assert all(storable(str(problem), 5000) for problem in problems)


def test_a_catalogue_refuses_the_parks_it_could_not_store_and_keeps_the_others() -> None:
    good = {
        "id": 6,
        "name": "Magic Kingdom",
        "country": "United States",
        "continent": "North America",
        "latitude": 28.4,
        "longitude": -81.6,
        "timezone": "America/New_York",
    }
    hostile = [
        {**good, "id": 2**63},
        {**good, "id": 2**31},
        {**good, "id": 7, "name": f"Magic {LONE} Kingdom"},
        {**good, "id": 8, "name": "x" * 5000},
        {**good, "id": 9, "country": LONE},
        {**good, "id": 10, "latitude": 10**400},
    ]
    found, problems = parse_parks_catalogue(
        [{"id": 2, "name": "Walt Disney Attractions", "parks": [good, *hostile]}]
    )
    assert [park.id for park in found] == [6]
    assert len(problems) == len(hostile)
    assert [problem.park_id for problem in problems] == [None, None, 7, 8, 9, 10]
    assert "unable to parse raw data as a unicode string" in problems[2].message
    with pytest.raises(SourceError, match="company group #1: field 'id'"):
        parse_parks_catalogue([{"id": 2**40, "name": "X", "parks": [good]}])
    with pytest.raises(SourceError, match="company group #1: field 'name'"):
        parse_parks_catalogue([{"id": 2, "name": LONE, "parks": [good]}])


def test_the_bounds_are_those_of_the_columns() -> None:
    assert rides.c.id.type.python_type is int and MAX_ID == 2**31 - 1  # INT on MariaDB
    assert rides.c.name.type.length == rides.c.land_name.type.length == NAME_LENGTH
    assert data_quality_issues.c.raw_value.type.length == RAW_LENGTH
    assert ride_snapshots.c.wait_time_raw.type.length == WAIT_RAW_LENGTH


def test_raw_text_shows_any_value_within_the_column() -> None:
    assert raw_text(FORTY_DIGITS) == str(FORTY_DIGITS)
    assert raw_text(10**5000) == "<an integer too long to show>"
    assert raw_text([10**5000]) == "<a list holding an integer too long to show>"
    assert raw_text(DEEP) == "<a list nested too deeply to show>"
    assert raw_text(f"A{LONE}B") == '"A\\ud800B"'
    assert raw_text("x" * 5000) == '"' + "x" * (RAW_LENGTH - 1)
    assert raw_text([LONE] * 200) == ("[" + '"\\ud800", ' * 200)[:RAW_LENGTH]


def test_json_nested_ten_thousand_deep_is_no_document_and_a_deep_value_is_no_wait() -> None:
    with pytest.raises(SourceError, match="not JSON: nested too deeply"):
        decode_json(deep_text(10_000))
    with pytest.raises(SourceError, match="nested more than 256 levels deep"):
        decode_json(deep_text(300))
    assert decode_json('{"rides":[' + deep_text(200) + "]}") == {"rides": [nested(200)]}

    result = plan({"rides": [{**feed_ride(1, "Deep", T0), "wait_time": DEEP}]})
    assert [(i["ride_id"], i["issue_type"]) for i in result.issues] == [(1, "wait_not_a_number")]
    assert result.snapshots[0]["wait_time_raw"] == "<a list nested too deeply to show>"[:32]


@pytest.mark.parametrize(
    "stamp",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", "1900-01-01T00:00:00Z", "x" * 99],
)
def test_a_last_updated_out_of_range_is_invalid_not_a_crash(stamp: str) -> None:
    result = plan({"rides": [{**feed_ride(1, "Old", T0), "last_updated": stamp}]})
    assert [i["issue_type"] for i in result.issues] == ["last_updated_invalid"]
    assert result.snapshots[0]["last_updated"] is None


# --- the archive reader: any line is a record or a bad line ---------------------------------


def record_line(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields).encode()


HOSTILE_SLOTS = [T0 + k * TEN_MINUTES + timedelta(minutes=5) for k in range(4)]
"""Times of hostile records: between the valid polls, so that none can take a valid one's key."""


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


CERTAINLY_BAD = [
    record_line({"kind": "queue_times", "park_id": 2**63, "fetched_at": stamp(T0), "payload": {}}),
    record_line({"kind": "error", "park_id": 10**30, "fetched_at": stamp(T0), "error": "x"}),
    record_line({"kind": "queue_times", "park_id": 2**31, "fetched_at": stamp(T0), "payload": {}}),
    b'{"kind":"queue_times","park_id":6,"fetched_at":"2026-07-04T16:05:00Z","payload":'
    + deep_text(10_000).encode()
    + b"}",
    b'{"kind":"queue_times","park_id":6,"fetched_at":"2026-07-04T16:05:00Z","payload":'
    + deep_text(300).encode()
    + b"}",
    b'{"kind":"queue_times","park_id":6,"fetched_at":"2026-07-04T16:05:00Z","payload":'
    b'{"rides":[{"id":' + b"9" * 5000 + b"}]}}",
    record_line({"kind": "error", "park_id": 6, "fetched_at": "0001-01-01T00:00:00Z", "error": ""}),
    record_line({"kind": "error", "park_id": 6, "fetched_at": "9999-12-31T23:00:00Z", "error": ""}),
    b'{"kind":"error","park_id":6,"fetched_at":"2026-07-04T16:05:00Z","error":"\xed\xa0\x80"}',
    b'{"kind":' + json.dumps("k" * 100_000).encode() + b"}",
]
"""Lines that can only be bad: ids beyond 32 bits, JSON too deep or too long a number,
times outside 2000-2099, a surrogate in raw UTF-8, a huge unknown kind."""

RECORDS = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["queue_times", "error"]) | JSON,
        "park_id": st.sampled_from([6, 7, 2**31, 2**63, 10**30, 0, -1, None, "6"]) | JSON,
        "fetched_at": st.sampled_from([stamp(t) for t in HOSTILE_SLOTS]) | STAMPS,
        "payload": PAYLOAD,
        "error": TEXT | JSON,
    }
).filter(lambda fields: fields["kind"] != "parks")
"""Record-shaped lines with hostile values; never a catalogue, which may change the parks."""
GARBAGE = st.binary(max_size=40).filter(lambda line: b"\n" not in line)
"""Too short to be a record: bad unless blank."""
HOSTILE = (
    st.sampled_from(CERTAINLY_BAD).map(lambda line: (line, True))
    | RECORDS.map(lambda fields: (record_line(fields), False))
    | GARBAGE.map(lambda line: (line, bool(line.strip())))
)
"""A hostile line, and whether it can only be a bad line."""


def write_lines(path: Path, lines: list[bytes]) -> Path:
    content = b"".join(line + b"\n" for line in lines)
    path.write_bytes(gzip.compress(content) if path.name.endswith(".gz") else content)
    return path


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(HOSTILE, max_size=6), name=st.sampled_from(["a.jsonl", "a.jsonl.gz"]))
def test_the_archive_reader_gives_every_line_a_record_or_an_error(
    tmp_path: Path, lines: list[tuple[bytes, bool]], name: str
) -> None:
    path = write_lines(tmp_path / f"{uuid.uuid4().hex}-{name}", [line for line, _ in lines])
    read = list(read_archive(path))
    assert len(read) == sum(1 for line, _ in lines if line.strip())
    for line in read:
        assert (line.record is None) != (line.error is None)
        assert storable(str(line) if line.error else None, 2000)
        record = line.record
        if isinstance(record, QueueTimesRecord | ErrorRecord) and record.park_id is not None:
            assert 0 < record.park_id <= MAX_ID
        if record is not None:
            assert EARLIEST_FETCH <= record.fetched_at < LATEST_FETCH


def test_each_certainly_bad_line_is_one_bad_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", CERTAINLY_BAD)
    read = list(read_archive(path))
    assert [(line.line_number, line.record) for line in read] == [
        (n, None) for n in range(1, len(CERTAINLY_BAD) + 1)
    ]
    errors = [str(line.error) for line in read]
    assert "park_id must be a positive integer up to 2147483647" in errors[0]
    assert "nested too deeply" in errors[3]
    assert "nested more than 256 levels deep" in errors[4]
    assert "Exceeds the limit" in errors[5]
    assert "outside 2000-2099" in errors[6] and "outside 2000-2099" in errors[7]
    assert "not UTF-8" in errors[8]
    assert len(errors[9]) < 200


# --- import: hostile archives on each database ---------------------------------------------


def valid_payload(at: datetime) -> dict[str, Any]:
    return {
        "lands": [{"id": 61, "name": "Tomorrowland", "rides": [feed_ride(1, "Space", at)]}],
        "rides": [feed_ride(2, "Dumbo", at, wait=5), feed_ride(3, "Teacups", at, is_open=False)],
    }


def valid_line(k: int) -> tuple[tuple[int, datetime], bytes]:
    at = T0 + k * TEN_MINUTES + timedelta(seconds=1)
    fields = {"kind": "queue_times", "park_id": 6, "fetched_at": stamp(at)}
    return (6, at), record_line({**fields, "payload": valid_payload(at)})


CATALOGUE_LINE = record_line({"kind": "parks", "fetched_at": stamp(T0), "payload": catalogue(6)})


def bad_line_numbers(report_lines: list[str], path: Path) -> list[int]:
    found = [re.match(rf"{re.escape(str(path))}:(\d+): ", line) for line in report_lines]
    assert all(found), report_lines
    return [int(match[1]) for match in found if match]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    hostile=st.lists(HOSTILE, min_size=1, max_size=4),
    valid=st.integers(1, 3),
    order=st.randoms(use_true_random=False),
)
def test_a_hostile_archive_stores_every_valid_poll_once_and_reports_its_bad_lines(
    engine: Engine,
    tmp_path: Path,
    hostile: list[tuple[bytes, bool]],
    valid: int,
    order: Any,
) -> None:
    clear(engine)
    good = [valid_line(k) for k in range(valid)]
    tagged = [(line, "valid") for _, line in good]
    tagged += [(line, "bad" if bad else "hostile") for line, bad in hostile]
    order.shuffle(tagged)
    path = write_lines(
        tmp_path / f"{uuid.uuid4().hex}.jsonl", [CATALOGUE_LINE, *(line for line, _ in tagged)]
    )
    numbered = list(enumerate(tagged, start=2))
    certain = {n for n, (_, tag) in numbered if tag == "bad"}
    hostile_numbers = {n for n, (_, tag) in numbered if tag != "valid"}

    report = import_archives(engine, [path], import_settings())

    assert certain <= set(bad_line_numbers(report.bad_lines, path)) <= hostile_numbers
    by_key = Counter((p["park_id"], p["polled_at"]) for p in rows(engine, polls))
    assert all(by_key[key] == 1 for key, _ in good)
    keys = {p["id"]: (p["park_id"], p["polled_at"]) for p in rows(engine, polls)}
    snapshots = Counter(keys[s["poll_id"]] for s in rows(engine, ride_snapshots))
    assert all(snapshots[key] == 3 for key, _ in good)
    before = contents(engine)

    again = import_archives(engine, [path], import_settings())

    assert again.stored == 0 and again.bad_lines == report.bad_lines
    assert contents(engine) == before


def hostile_poll(at: datetime) -> dict[str, Any]:
    """One poll with every hostile value of a ride record, beside two good rides."""
    return {
        "lands": [
            {"id": 2**40, "name": f"Tomorrow{LONE}land", "rides": [feed_ride(3, "Lost land", at)]},
            {"id": 7, "name": "L" * 5000, "rides": [feed_ride(4, "Long land", at)]},
        ],
        "rides": [
            feed_ride(1, "Fine", at),
            feed_ride(2, "Fine too", at, wait=5),
            feed_ride(10**30, "Huge", at),
            feed_ride(5, f"Broken {LONE} name", at),
            feed_ride(6, "N" * 5000, at),
            feed_ride(8, "Absurd", at, wait=FORTY_DIGITS),
            feed_ride(9, "Deep", at, wait=nested(200)),
            {**feed_ride(10, "Ancient", at), "last_updated": "0001-01-01T00:00:00+01:00"},
        ],
    }


def test_every_hostile_value_costs_only_itself_and_the_rest_of_the_poll_is_stored(
    engine: Engine, tmp_path: Path
) -> None:
    at = T0 + timedelta(seconds=1)
    path = tmp_path / "hostile.jsonl"
    with ArchiveWriter(path) as archive:
        archive.write(ParksRecord(T0, catalogue(6)))
        archive.write(QueueTimesRecord(6, at, hostile_poll(at)))
        archive.write(ErrorRecord(6, at + TEN_MINUTES, f"timeout: {LONE}" + "x" * 100_000))

    report = import_archives(engine, [path], import_settings())

    assert (report.stored, report.bad_lines) == (2, [])
    stored = {r["id"]: r for r in rows(engine, rides)}
    assert sorted(stored) == [1, 2, 3, 4, 5, 6, 8, 9, 10]
    assert (stored[3]["land_id"], stored[3]["land_name"]) == (None, "Tomorrow\ufffdland")
    assert (stored[4]["land_id"], stored[4]["land_name"]) == (7, "L" * NAME_LENGTH)
    assert stored[5]["name"] == "Broken \ufffd name"
    assert stored[6]["name"] == "N" * NAME_LENGTH
    snapshots = {s["ride_id"]: s for s in rows(engine, ride_snapshots)}
    assert (snapshots[8]["wait_time_raw"], snapshots[8]["wait_time"]) == ("1" + "0" * 31, None)
    assert snapshots[9]["wait_time_raw"] == "[" * 32
    assert snapshots[10]["last_updated"] is None
    issues = {(i["ride_id"], i["issue_type"]): i for i in rows(engine, data_quality_issues)}
    assert set(issues) == {
        (0, "ride_id_out_of_range"),
        (0, "land_id_invalid"),
        (0, "land_name_not_unicode"),
        (0, "land_name_too_long"),
        (5, "ride_name_not_unicode"),
        (6, "ride_name_too_long"),
        (8, "wait_too_long"),
        (9, "wait_not_a_number"),
        (10, "last_updated_invalid"),
    }
    assert issues[(5, "ride_name_not_unicode")]["raw_value"] == '"Broken \\ud800 name"'
    assert issues[(0, "ride_id_out_of_range")]["raw_value"].startswith(
        '{"id": 1000000000000000000000000000000, "name": "Huge"'
    )
    assert all(len(i["raw_value"]) <= RAW_LENGTH for i in issues.values())
    failed = next(p for p in rows(engine, polls) if p["outcome"] == "timeout")
    assert failed["error"] == "timeout: \ufffd" + "x" * 990
    before = contents(engine)

    again = import_archives(engine, [path], import_settings())

    assert (again.stored, again.duplicates) == (0, 2)
    assert contents(engine) == before


@pytest.mark.parametrize("batch", [1, 1000])
def test_a_ride_id_of_another_park_is_refused_and_both_parks_are_stored(
    engine: Engine, tmp_path: Path, batch: int
) -> None:
    """Park 16 lists ride 1, which is park 6's (stored earlier, or added by a poll of the
    same batch): the row cannot be shared, so park 16's poll keeps its other rides."""
    at = T0 + timedelta(seconds=1)
    path = tmp_path / "shared.jsonl"
    with ArchiveWriter(path) as archive:
        archive.write(ParksRecord(T0, catalogue(6, 16)))
        archive.write(QueueTimesRecord(6, at, {"rides": [feed_ride(1, "Space", at)]}))
        later = at + TEN_MINUTES
        payload = {"rides": [feed_ride(1, "Space", later), feed_ride(2, "Matterhorn", later)]}
        archive.write(QueueTimesRecord(16, later, payload))

    report = import_archives(engine, [path], import_settings(), batch=batch)

    assert (report.stored, report.bad_lines) == (2, [])
    assert {r["id"]: r["park_id"] for r in rows(engine, rides)} == {1: 6, 2: 16}
    issues = [
        (i["park_id"], i["ride_id"], i["issue_type"]) for i in rows(engine, data_quality_issues)
    ]
    assert issues == [(16, 1, "ride_of_another_park")]
    snapshots = Counter(s["ride_id"] for s in rows(engine, ride_snapshots))
    assert snapshots == {1: 1, 2: 1}


def test_ids_beyond_32_bits_and_undecodable_payloads_are_bad_lines_and_the_import_goes_on(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    (first_key, first), (second_key, second) = valid_line(0), valid_line(1)
    lines = [CATALOGUE_LINE, first, *CERTAINLY_BAD[:6], second]
    path = write_lines(tmp_path / "mixed.jsonl", lines)
    env = {"DATABASE_URL": database_url}

    result = runner.invoke(cli, ["import", str(path)], env=env)

    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "2 polls stored" in result.stdout and "6 bad lines" in result.stdout
    reported = [line for line in result.stderr.splitlines() if line.startswith("bad line: ")]
    assert [line.split(": ")[1] for line in reported] == [f"{path}:{n}" for n in range(3, 9)]
    assert (
        "park_id must be a positive integer up to 2147483647, got 9223372036854775808"
        in (reported[0])
    )
    assert sorted((p["park_id"], p["polled_at"]) for p in rows(engine, polls)) == [
        first_key,
        second_key,
    ]

    again = runner.invoke(cli, ["import", str(path)], env=env)

    assert again.exit_code == EXIT_PARTIAL, again.output
    assert "0 polls stored, 2 already stored" in again.stdout
    assert len(rows(engine, polls)) == 2


# --- collect: a hostile answer costs its own ride, or its own poll ---------------------------


def test_an_answer_nested_ten_thousand_deep_is_one_invalid_poll_and_the_others_are_stored(
    engine: Engine, tmp_path: Path
) -> None:
    at = T0
    good = {"lands": [], "rides": [feed_ride(1, "Big Coaster", at), feed_ride(2, "Flume", at)]}
    deep = b'{"lands":[],"rides":[{"id":3,"wait_time":' + deep_text(10_000).encode() + b"}]}"
    source = ScriptedSource(catalogue(5, 6), {5: [(at, deep)], 6: [(at, good)]})
    archive_path = tmp_path / "cycle.jsonl"
    with running_server(source, lambda: at) as url, ArchiveWriter(archive_path) as archive:
        report = collect_cycle(engine, collector_settings(url), lambda: at, archive)

    assert report.outcomes == Counter(ok=1, invalid_payload=1)
    by_park = {p["park_id"]: p for p in rows(engine, polls)}
    assert by_park[5]["error"] == "invalid_payload: not JSON: nested too deeply"
    assert (by_park[6]["outcome"], by_park[6]["rides_total"]) == ("ok", 2)
    kinds = Counter(line.record.kind for line in read_archive(archive_path) if line.record)
    assert kinds == Counter(parks=1, queue_times=1, error=1)


POISONED_PARKS = (5, 6, 7, 17, 20)
"""With seed 3 at T0 these parks' answers carry all five kinds of poison between them."""


def test_a_collect_cycle_against_a_poisoned_feed_stores_every_park_and_exits_0(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    model = FeedModel(catalogue(*POISONED_PARKS))
    faults = Faults(seed=3, poison_rate=1.0)
    poison = {park_id: poison_for(faults, park_id, T0) for park_id in POISONED_PARKS}
    assert set(poison.values()) == set(Poison)
    archive_path = tmp_path / "poisoned.jsonl.gz"
    with (
        time_machine.travel(T0, tick=False),
        running_server(model, lambda: T0, faults) as url,
    ):
        env = {"DATABASE_URL": database_url, "QUEUE_TIMES_BASE_URL": url, "DATA_DIR": str(tmp_path)}
        result = runner.invoke(cli, ["collect", "--archive", str(archive_path)], env=env)

    assert result.exit_code == 0, result.output
    assert f"{len(POISONED_PARKS)} parks ({len(POISONED_PARKS)} ok)" in result.stdout
    keys = {p["id"]: p["park_id"] for p in rows(engine, polls)}
    assert sorted(keys.values()) == sorted(POISONED_PARKS)
    seen: dict[int, set[int]] = {park_id: set() for park_id in POISONED_PARKS}
    for snapshot in rows(engine, ride_snapshots):
        seen[keys[snapshot["poll_id"]]].add(snapshot["ride_id"])
    issues = {
        (i["park_id"], i["ride_id"], i["issue_type"]) for i in rows(engine, data_quality_issues)
    }
    names = {r["id"]: r["name"] for r in rows(engine, rides)}
    snapshots = {s["ride_id"]: s for s in rows(engine, ride_snapshots)}
    for park_id, kind in poison.items():
        normal = {reading.ride.id for reading in model.readings(park_id, T0)}
        poisoned = POISON_RIDE_BASE + park_id
        if kind is Poison.HUGE_ID:
            assert seen[park_id] == normal
            assert (park_id, 0, "ride_id_out_of_range") in issues
            continue
        assert seen[park_id] == normal | {poisoned}
        expected = {
            Poison.LONE_SURROGATE: "ride_name_not_unicode",
            Poison.LONG_NAME: "ride_name_too_long",
            Poison.DEEP_NESTING: "wait_not_a_number",
            Poison.ABSURD_WAIT: "wait_too_long",
        }[kind]
        assert (park_id, poisoned, expected) in issues
        if kind is Poison.LONE_SURROGATE:
            assert names[poisoned] == "Poisoned \ufffd name"
        if kind is Poison.LONG_NAME:
            assert names[poisoned] == ("Poisoned " + "x" * POISON_NAME_LENGTH)[:NAME_LENGTH]
        if kind is Poison.ABSURD_WAIT:
            assert snapshots[poisoned]["wait_time_raw"] == str(FORTY_DIGITS)[:32]
    assert {p["id"] for p in rows(engine, parks)} == set(POISONED_PARKS)

    replayed = import_archives(engine, [archive_path], import_settings())
    assert (replayed.stored, replayed.duplicates, replayed.bad_lines) == (
        0,
        len(POISONED_PARKS),
        [],
    )
