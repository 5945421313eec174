"""`export`: the statistics of a span of days as files anyone may reuse (CSV, or Parquet
with the `parquet` extra), with a README that says what each column is, which version of
the tracker and of its methodology made them, and whose data they are."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from themepark_tracker import __version__, web
from themepark_tracker.storage import export

FORMATS = ("csv", "parquet")


class ExportError(Exception):
    """Bad input or a missing library: said to the user, nothing written."""


def methodology_changed() -> str:
    """The date the methodology page says it last changed."""
    found = re.search(r"^Last changed: (\d{4}-\d{2}-\d{2})$", web.METHODOLOGY.read_text(), re.M)
    return found.group(1) if found else "unknown"


def export_days(
    engine: Engine, first: date, last: date, directory: Path, fmt: str, now: datetime
) -> list[Path]:
    """Write `rides`, `parks` and `outages` of the local days `first` to `last` and the
    README into `directory`; returns the files written."""
    if last < first:
        raise ExportError("--to must not be before --from")
    if (last - first).days >= export.MAX_DAYS:
        raise ExportError(f"at most {export.MAX_DAYS} days at once")
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: csv or parquet")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ExportError(
                "Parquet needs pyarrow: pip install 'themepark-tracker[parquet]'"
            ) from None
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    with engine.connect() as conn:
        for table, columns in export.TABLES.items():
            path = directory / f"{table}.{fmt}"
            names = [column.name for column in columns]
            found = export.rows(conn, table, first, last)
            (_write_csv if fmt == "csv" else _write_parquet)(path, names, found)
            written.append(path)
    readme = directory / "README.md"
    readme.write_text(_readme(first, last, fmt, now), encoding="utf-8")
    return [*written, readme]


def _write_csv(path: Path, names: list[str], rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.writelines(export.csv_chunks(names, rows))


def _write_parquet(path: Path, names: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """A page of rows at a time, in the schema of the first (all text when none)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    for batch in _batches(rows, export.PAGE):
        table = pa.Table.from_pylist(batch, schema=writer.schema if writer else None)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    if writer is None:
        pq.write_table(pa.table({name: pa.array([], pa.string()) for name in names}), path)
    else:
        writer.close()


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _readme(first: date, last: date, fmt: str, now: datetime) -> str:
    tables = "\n".join(
        f"\n## {table}.{fmt}\n\n| column | meaning |\n|---|---|\n"
        + "\n".join(f"| `{c.name}` | {c.meaning} |" for c in columns)
        for table, columns in export.TABLES.items()
    )
    return f"""# Theme park ride downtime, {first} to {last}

Exported {now:%Y-%m-%d %H:%M} UTC by themepark-tracker {__version__}, counting as its
methodology (docs/methodology.md) said on {methodology_changed()}. Dates are each park's own
local days, starting at 04:00 local time; times are UTC.

Data powered by Queue-Times.com (https://queue-times.com): their terms ask that any use
credits them with a link. Where parks are paired with ThemeParks.wiki
(https://themeparks.wiki), its published hours and ride statuses were counted too.
{tables}
"""
