"""Importing archives of the simulated feed: what is stored, idempotence, bad lines, order.

Archives come from `record_archive` (what a collector polling the feed would have written)
or are written by hand with `ArchiveWriter`; the states of the imported polls are held
against the feed's own readings, as the collector's are.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from feed_fixtures import (
    SAMPLE,
    catalogue,
    clear,
    contents,
    epoch,
    feed_ride,
    metrics_state,
    no_ssm,
    rows,
    sample_park_ids,
    snapshots_by_poll,
)
from sqlalchemy import Engine

from themepark_tracker.archive import (
    ArchiveWriter,
    ErrorRecord,
    ParksRecord,
    QueueTimesRecord,
    read_archive,
)
from themepark_tracker.cli import EXIT_PARTIAL, cli
from themepark_tracker.config import Settings, load_settings
from themepark_tracker.feed.model import FeedConfig, FeedModel, QuirkRates
from themepark_tracker.feed.recording import record_archive
from themepark_tracker.jobs.import_archive import ImportStopped, import_archives
from themepark_tracker.storage.tables import (
    data_quality_issues,
    parks,
    polls,
    ride_snapshots,
    rides,
    status_changes,
)

T0 = datetime(2026, 7, 4, 16, 0, tzinfo=UTC)  # noon in New York, a summer Saturday
TEN_MINUTES = timedelta(minutes=10)
PARK_IDS = (6, 16, 50)


@cache
def sample_model() -> FeedModel:
    """The whole shipped catalogue: its parks.json is what the archives carry."""
    return FeedModel(SAMPLE)


@cache
def stormy_model() -> FeedModel:
    """Two parks with an afternoon storm every day: rides close and reopen for sure."""
    return FeedModel(catalogue(6, 16), FeedConfig(quirks=QuirkRates(storm=1.0)))


def settings() -> Settings:
    return load_settings(environ={}, ssm_reader=no_ssm)


def record(
    path: Path,
    hours: float = 3,
    start: datetime = T0,
    model: FeedModel | None = None,
    park_ids: tuple[int, ...] = PARK_IDS,
) -> int:
    return record_archive(
        model or sample_model(), path, start, start + timedelta(hours=hours), TEN_MINUTES, park_ids
    )


def poll_keys(engine: Engine) -> list[tuple[int, datetime]]:
    return sorted((p["park_id"], p["polled_at"]) for p in rows(engine, polls))


# --- what an import stores ---------------------------------------------------------------


def test_an_archive_of_the_feed_imports_its_catalogue_polls_and_snapshots(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "afternoon.jsonl"
    written = record(path)
    assert written == 1 + 18 * len(PARK_IDS)

    report = import_archives(engine, [path], settings())

    assert (report.records, report.stored, report.catalogues) == (written, 18 * 3, 1)
    assert (report.duplicates, report.unknown_park, report.bad_lines) == (0, 0, [])
    stored_parks = rows(engine, parks)
    assert {p["id"] for p in stored_parks} == sample_park_ids("North America")
    assert all(p["last_seen_at"] == T0 and p["is_active"] for p in stored_parks)

    fetched = [T0 + k * TEN_MINUTES + timedelta(seconds=1) for k in range(18)]
    assert poll_keys(engine) == sorted((p, at) for p in PARK_IDS for at in fetched)
    assert all(
        (p["source"], p["cycle_id"], p["outcome"]) == ("import", report.import_id, "ok")
        for p in rows(engine, polls)
    )
    model = sample_model()
    for (park_id, at), snapshots in snapshots_by_poll(engine).items():
        readings = model.readings(park_id, at)
        assert {ride_id: s["state"] for ride_id, s in snapshots.items()} == {
            r.ride.id: metrics_state(r, at) for r in readings
        }
        assert all(snapshots[r.ride.id]["last_updated"] == epoch(r.last_updated) for r in readings)


def test_importing_the_same_archive_twice_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "afternoon.jsonl.gz"
    record(path)
    first = import_archives(engine, [path], settings())
    before = contents(engine)
    assert len(before["ride_snapshots"]) > 1000 and before["status_changes"]

    again = import_archives(engine, [path], settings())

    assert (again.stored, again.duplicates, again.catalogues) == (0, first.stored, 1)
    assert contents(engine) == before


@pytest.mark.parametrize("name", ["afternoon.jsonl", "afternoon.jsonl.gz"])
def test_the_import_command_imports_once_and_then_finds_everything_stored(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    record(path, hours=1)
    env = {"DATABASE_URL": database_url}

    first = runner.invoke(cli, ["import", str(path)], env=env)
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(
        "19 records: 18 polls stored, 0 already stored, 0 for unknown parks, 1 catalogues, "
        "0 bad lines"
    )
    counts = {table: len(rows_) for table, rows_ in contents(engine).items()}

    again = runner.invoke(cli, ["import", str(path)], env=env)
    assert again.exit_code == 0, again.output
    assert "0 polls stored, 18 already stored" in again.stdout
    assert {table: len(rows_) for table, rows_ in contents(engine).items()} == counts
    assert counts["polls"] == 18


def test_a_plain_and_a_gzip_copy_of_one_archive_import_as_one(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    plain, packed = tmp_path / "day.jsonl", tmp_path / "day.jsonl.gz"
    record(plain, hours=1)
    record(packed, hours=1)
    env = {"DATABASE_URL": database_url}
    result = runner.invoke(cli, ["import", str(packed), str(plain)], env=env)
    assert result.exit_code == 0, result.output
    assert "18 polls stored, 18 already stored" in result.stdout
    assert len(rows(engine, polls)) == 18


# --- bad lines ----------------------------------------------------------------------------

BAD_LINES = [
    b"this is not json at all",
    b'{"kind":"weather","park_id":6,"fetched_at":"2026-07-04T16:05:00Z","payload":{}}',
    b'{"kind":"queue_times","park_id":6,"fetched_at":"2026-07-04T16:05:00","payload":{}}',
    b'{"kind":"queue_times","park_id":6,"fetched_at":"yesterday","payload":{}}',
]


def archive_with_bad_lines(tmp_path: Path) -> tuple[Path, list[int], list[tuple[int, datetime]]]:
    """A recorded hour with four bad lines after its fourth line and one at the end.

    Returns the file, the numbers of its bad lines and the polls after the first bad line.
    """
    source = tmp_path / "good.jsonl"
    record(source, hours=1)
    good = source.read_bytes().splitlines()
    lines = [*good[:4], *BAD_LINES, *good[4:], b"{truncated"]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    bad = [5, 6, 7, 8, len(lines)]
    after = [
        (line.record.park_id, line.record.fetched_at)
        for line in read_archive(path)
        if isinstance(line.record, QueueTimesRecord) and line.line_number > 5
    ]
    return path, bad, after


def test_bad_lines_are_reported_with_file_and_line_and_the_rest_is_imported(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    path, bad, after = archive_with_bad_lines(tmp_path)
    result = runner.invoke(cli, ["import", str(path)], env={"DATABASE_URL": database_url})

    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "18 polls stored" in result.stdout and "5 bad lines" in result.stdout
    reported = [line for line in result.stderr.splitlines() if line.startswith("bad line: ")]
    assert [line.split(": ")[1] for line in reported] == [f"{path}:{n}" for n in bad]
    assert "not valid JSON" in reported[0]
    assert "unknown kind 'weather'" in reported[1]
    assert "has no timezone" in reported[2]
    assert "'yesterday' is not an ISO 8601 timestamp" in reported[3]
    assert set(after) <= set(poll_keys(engine))


def test_with_strict_the_first_bad_line_stops_the_import(
    runner: CliRunner, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    path, bad, after = archive_with_bad_lines(tmp_path)
    result = runner.invoke(
        cli, ["import", "--strict", str(path)], env={"DATABASE_URL": database_url}
    )

    assert result.exit_code == 1, result.output
    assert f"stopped at a bad line: {path}:{bad[0]}: not valid JSON" in result.stderr
    assert not set(after) & set(poll_keys(engine))
    with pytest.raises(ImportStopped, match=f"{path}:{bad[0]}"):
        import_archives(engine, [path], settings(), strict=True)


# --- failed fetches and unknown parks ----------------------------------------------------


def test_an_error_record_becomes_a_poll_with_the_outcome_its_prefix_names(
    engine: Engine, tmp_path: Path
) -> None:
    errors = [
        ("timeout: ReadTimeout", "timeout"),
        ("connection_error: ConnectionError: refused", "connection_error"),
        ("invalid_payload: not JSON: Expecting value", "invalid_payload"),
        ("http_error: HTTP 500", "http_error"),
        ("HTTP 503", "http_error"),
        ("ok: but not really", "http_error"),
    ]
    path = tmp_path / "errors.jsonl"
    with ArchiveWriter(path) as archive:
        archive.write(ParksRecord(T0, catalogue(6)))
        for k, (error, _) in enumerate(errors, start=1):
            archive.write(ErrorRecord(6, T0 + k * TEN_MINUTES, error))
        archive.write(ErrorRecord(None, T0 + timedelta(hours=2), "catalogue: HTTP 500"))

    report = import_archives(engine, [path], settings())

    assert (report.stored, report.failed_fetches, report.bad_lines) == (6, 7, [])
    stored = [
        (p["polled_at"], p["outcome"], p["error"], p["is_active"])
        for p in rows(engine, polls, "polled_at")
    ]
    assert stored == [
        (T0 + k * TEN_MINUTES, outcome, error, False)
        for k, (error, outcome) in enumerate(errors, start=1)
    ]
    assert rows(engine, ride_snapshots) == []


def test_records_of_parks_outside_the_catalogue_are_counted_not_fatal(
    engine: Engine, tmp_path: Path
) -> None:
    at = T0 + timedelta(seconds=1)
    payload = {"lands": [], "rides": [feed_ride(1, "Big Coaster", at), feed_ride(2, "Flume", at)]}
    path = tmp_path / "strangers.jsonl"
    with ArchiveWriter(path) as archive:
        archive.write(ParksRecord(T0, catalogue(6, 4)))  # 4 is in Europe: out of scope
        archive.write(QueueTimesRecord(999, at, payload))
        archive.write(QueueTimesRecord(4, at, payload))
        archive.write(ErrorRecord(999, at, "timeout: ReadTimeout"))
        archive.write(QueueTimesRecord(6, at, payload))

    report = import_archives(engine, [path], settings())

    assert (report.stored, report.unknown_park, report.bad_lines) == (1, 3, [])
    assert poll_keys(engine) == [(6, at)]
    assert {p["id"] for p in rows(engine, parks)} == {6}
    assert rows(engine, polls)[0]["is_active"] is True


def test_an_archive_without_a_catalogue_into_an_empty_database_stores_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    source, path = tmp_path / "with.jsonl", tmp_path / "without.jsonl"
    record(source, hours=0.5)
    path.write_bytes(b"".join(source.read_bytes().splitlines(keepends=True)[1:]))
    report = import_archives(engine, [path], settings())
    assert (report.stored, report.unknown_park, report.catalogues) == (0, 9, 0)
    assert rows(engine, polls) == []


def test_invalid_values_in_an_archive_become_data_quality_issues(
    engine: Engine, tmp_path: Path
) -> None:
    at = T0 + timedelta(seconds=1)
    payload = {
        "lands": [],
        "rides": [feed_ride(1, "Big Coaster", at, wait=999), feed_ride(2, "Flume", at, wait="45")],
    }
    path = tmp_path / "odd.jsonl"
    with ArchiveWriter(path) as archive:
        archive.write(ParksRecord(T0, catalogue(6)))
        archive.write(QueueTimesRecord(6, at, payload))
    import_archives(engine, [path], settings())
    assert sorted((i["ride_id"], i["issue_type"]) for i in rows(engine, data_quality_issues)) == [
        (1, "wait_too_long"),
        (2, "wait_not_a_number"),
    ]
    waits = {s["ride_id"]: s["wait_time"] for s in rows(engine, ride_snapshots)}
    assert waits == {1: None, 2: None}


# --- order ---------------------------------------------------------------------------------


def flips(engine: Engine) -> list[tuple[Any, ...]]:
    return [
        (
            c["ride_id"],
            c["changed_at"],
            c["to_state"],
            c["previous_duration_seconds"],
        )
        for c in rows(engine, status_changes, "changed_at", "ride_id")
    ]


def test_files_given_out_of_order_are_imported_in_time_order(
    engine: Engine, tmp_path: Path
) -> None:
    model = stormy_model()
    whole, early, late = tmp_path / "whole.jsonl", tmp_path / "b.jsonl", tmp_path / "a.jsonl"
    record(whole, hours=6, model=model, park_ids=(6, 16))
    record(early, hours=3, model=model, park_ids=(6, 16))
    record(late, hours=3, start=T0 + timedelta(hours=3), model=model, park_ids=(6, 16))

    import_archives(engine, [whole], settings())
    expected = flips(engine)
    snapshots = contents(engine)["ride_snapshots"]
    assert {f[2] for f in expected} == {"open", "closed"}

    clear(engine)
    report = import_archives(engine, [late, early], settings())

    assert (report.stored, report.duplicates, report.catalogues) == (72, 0, 2)
    assert flips(engine) == expected
    assert len(contents(engine)["ride_snapshots"]) == len(snapshots)
    current = sorted((r["id"], r["current_state"], r["state_since"]) for r in rows(engine, rides))
    clear(engine)
    import_archives(engine, [whole], settings())
    assert sorted((r["id"], r["current_state"], r["state_since"]) for r in rows(engine, rides)) == (
        current
    )


def test_importing_an_older_archive_does_not_undo_a_newer_catalogue(
    engine: Engine, tmp_path: Path
) -> None:
    """A back-fill of last month's archive (from before Epic Universe was listed) must not
    switch off a park that today's catalogue lists: the poll rules already refuse to let an
    older poll override newer ride state, and the catalogue deserves the same. A park only
    the older catalogue lists is kept, with its history, but not tracked."""
    today, last_month = tmp_path / "today.jsonl", tmp_path / "last-month.jsonl"
    record(today, hours=0.5, model=FeedModel(catalogue(5, 6, 334)), park_ids=(5, 6, 334))
    record(
        last_month,
        hours=0.5,
        start=T0 - timedelta(days=30),
        model=FeedModel(catalogue(5, 6, 7)),
        park_ids=(5, 6, 7),
    )
    import_archives(engine, [today], settings())
    assert all(p["is_active"] for p in rows(engine, parks))
    synced = {p["id"]: p for p in rows(engine, parks)}

    report = import_archives(engine, [last_month], settings())

    assert report.stored == 9  # the history itself is welcome
    after = {p["id"]: p for p in rows(engine, parks)}
    assert {i: p["is_active"] for i, p in after.items()} == {5: True, 6: True, 7: False, 334: True}

    def listed(row: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in row.items() if k != "data_version"}  # statistics moved

    assert all(listed(after[i]) == listed(synced[i]) for i in synced)
    assert len([p for p in rows(engine, polls) if p["park_id"] == 7]) == 3
