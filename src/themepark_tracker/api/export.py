"""`/api/export/{rides|parks|outages}.csv`: the rows `export` writes, streamed as CSV for
the local dates `from` to `to` (at most 366). Keys and limits apply as to every `/api`
answer; the rows come from one cursor a page at a time, whatever the span."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, stream_with_context

from themepark_tracker.api.endpoints import parse, tracker
from themepark_tracker.api.params import ExportQuery
from themepark_tracker.storage import export

bp = Blueprint("export", __name__, url_prefix="/api/export")


@bp.get("/<any(rides, parks, outages):table>.csv")
def export_csv(table: str) -> Response:
    params: ExportQuery = parse(ExportQuery)
    engine = tracker().engine
    names = [column.name for column in export.TABLES[table]]

    def chunks() -> Iterator[str]:
        with engine.connect() as conn:
            yield from export.csv_chunks(names, export.rows(conn, table, params.from_, params.to))

    name = f"{table}-{params.from_}-{params.to}.csv"
    return Response(
        stream_with_context(chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
