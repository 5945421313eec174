"""Open data: the daily statistics and outages of a span of days as CSV or Parquet, with a
README naming the tracker's version, the methodology's date, the columns and the sources."""

from __future__ import annotations

import csv
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from api_fixtures import DAYS
from sqlalchemy import Engine, func, select

from themepark_tracker import __version__
from themepark_tracker.jobs.export import ExportError, export_days, methodology_changed
from themepark_tracker.storage.export import TABLES
from themepark_tracker.storage.tables import park_daily_stats, ride_daily_stats, ride_outages

NOW = datetime(2026, 7, 5, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def _count(engine: Engine, table: object, column: object) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(table).where(column.between(*DAYS))  # type: ignore[attr-defined, arg-type]
        return int(conn.execute(query).scalar_one())


def test_csv_files_hold_every_row_of_the_days_with_their_documented_columns(
    api_engine: Engine, tmp_path: Path
) -> None:
    written = export_days(api_engine, *DAYS, tmp_path, "csv", NOW)
    assert sorted(p.name for p in written) == ["README.md", "outages.csv", "parks.csv", "rides.csv"]
    expected = {
        "rides": _count(api_engine, ride_daily_stats, ride_daily_stats.c.stat_date),
        "parks": _count(api_engine, park_daily_stats, park_daily_stats.c.stat_date),
        "outages": _count(api_engine, ride_outages, ride_outages.c.park_date),
    }
    for table, columns in TABLES.items():
        with (tmp_path / f"{table}.csv").open(encoding="utf-8") as found:
            rows = list(csv.DictReader(found))
        assert list(rows[0]) == [column.name for column in columns]
        assert len(rows) == expected[table] > 0
        assert all(DAYS[0].isoformat() <= row["date"] <= DAYS[1].isoformat() for row in rows)
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert __version__ in readme and methodology_changed() in readme
    assert "Queue-Times.com (https://queue-times.com)" in readme
    assert all(f"`{c.name}`" in readme for columns in TABLES.values() for c in columns)


def test_parquet_holds_the_same_rows(api_engine: Engine, tmp_path: Path) -> None:
    export_days(api_engine, *DAYS, tmp_path / "csv", "csv", NOW)
    export_days(api_engine, *DAYS, tmp_path / "parquet", "parquet", NOW)
    for table in TABLES:
        parquet = pq.read_table(tmp_path / "parquet" / f"{table}.parquet")
        with (tmp_path / "csv" / f"{table}.csv").open(encoding="utf-8") as found:
            assert parquet.num_rows == len(list(csv.DictReader(found)))
        assert parquet.column_names == [c.name for c in TABLES[table]]
    empty = export_days(
        api_engine, date(2020, 1, 1), date(2020, 1, 2), tmp_path / "none", "parquet", NOW
    )
    assert pq.read_table(empty[0]).num_rows == 0


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (date(2026, 7, 3), date(2026, 7, 1), "--to must not be before --from"),
        (date(2025, 6, 30), date(2026, 7, 1), "at most 366 days"),
    ],
)
def test_bad_spans_are_refused_before_anything_is_written(
    api_engine: Engine, tmp_path: Path, first: date, last: date, message: str
) -> None:
    with pytest.raises(ExportError, match=message):
        export_days(api_engine, first, last, tmp_path / "out", "csv", NOW)
    assert not (tmp_path / "out").exists()


def test_the_methodology_says_when_it_last_changed() -> None:
    """The date the export names is the last commit that changed the page."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    changed = subprocess.run(
        ["git", "log", "-1", "--format=%cs", "--", "docs/methodology.md"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not changed:
        pytest.skip("the page is not committed yet")
    said = date.fromisoformat(methodology_changed())
    assert abs(said - date.fromisoformat(changed)) <= timedelta(days=1), (said, changed)


def test_the_api_streams_the_same_csv(api_engine: Engine, tmp_path: Path) -> None:
    from api_fixtures import app

    export_days(api_engine, *DAYS, tmp_path, "csv", NOW)
    client = app(api_engine).test_client()
    for table in TABLES:
        answer = client.get(f"/api/export/{table}.csv?from={DAYS[0]}&to={DAYS[1]}")
        assert answer.status_code == 200 and answer.mimetype == "text/csv"
        assert "attachment" in answer.headers["Content-Disposition"]
        assert answer.get_data(as_text=True) == (tmp_path / f"{table}.csv").read_text()
    too_long = client.get("/api/export/rides.csv?from=2025-01-01&to=2026-07-01")
    assert too_long.status_code == 400 and "366" in too_long.get_json()["error"]["message"]
    assert client.get("/api/export/rides.csv").status_code == 400
    assert client.get("/api/export/polls.csv?from=2026-07-01&to=2026-07-02").status_code == 404
