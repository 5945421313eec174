"""The statistics as open data: each park day's ride and park rows and the outages, as
the tracker stores them, for `export` and `/api/export/...`. Rows come from one cursor a
page at a time, so a year of a hundred parks streams in constant memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Select, select

from themepark_tracker.engine.scores import Totals
from themepark_tracker.storage.tables import (
    park_daily_stats,
    parks,
    ride_daily_stats,
    ride_outages,
    rides,
)

#: The longest span one export covers.
MAX_DAYS = 366
PAGE = 5000


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str


_r, _p, _o, _k, _d = (
    ride_daily_stats.c,
    park_daily_stats.c,
    ride_outages.c,
    parks.c,
    rides.c,
)

TABLES: dict[str, tuple[Column, ...]] = {
    "rides": (
        Column("date", "the park's local day (it starts at 04:00 local time)"),
        Column("park_id", "Queue-Times park id"),
        Column("park_name", "park name"),
        Column("ride_id", "Queue-Times ride id"),
        Column("ride_name", "ride name"),
        Column("tier", "tier used for the day's weights (1 headliner to 3; empty: unclassified)"),
        Column("tracked", "true when the ride was eligible that day"),
        Column("uptime_minutes", "minutes open inside the ride's counted span"),
        Column("downtime_minutes", "minutes closed inside the ride's counted span"),
        Column("downtime_events", "outages, the one going on included"),
        Column("longest_downtime_minutes", "longest run of closed polls"),
        Column("avg_wait", "mean posted wait while open, minutes"),
        Column("peak_wait", "highest posted wait while open, minutes"),
        Column("disagreements", "polls of the session where the two sources disagreed"),
        Column("final", "true once the day can no longer change"),
    ),
    "parks": (
        Column("date", "the park's local day"),
        Column("park_id", "Queue-Times park id"),
        Column("park_name", "park name"),
        Column("operator", "the park's operator (its Queue-Times group)"),
        Column("timezone", "the park's IANA timezone"),
        Column("scheduled", "true when the session was the park's published hours"),
        Column("operating_minutes", "minutes of the operating session"),
        Column("rides_tracked", "eligible rides"),
        Column("rides_with_downtime", "eligible rides with downtime"),
        Column("uptime_minutes", "sum over its rides"),
        Column("downtime_minutes", "sum over its rides"),
        Column("weighted_downtime_minutes", "sum of tier weight x downtime"),
        Column("weighted_total_minutes", "sum of tier weight x (uptime + downtime)"),
        Column("shame_score", "10 x weighted downtime / weighted total, 0 to 10"),
        Column("avg_wait", "mean posted wait, minutes"),
        Column("peak_wait", "highest posted wait, minutes"),
        Column("final", "true once the day can no longer change"),
    ),
    "outages": (
        Column("date", "the park's local day"),
        Column("park_id", "Queue-Times park id"),
        Column("ride_id", "Queue-Times ride id"),
        Column("ride_name", "ride name"),
        Column("started_at", "its first closed poll, UTC"),
        Column("ended_at", "the poll that found the ride open again, UTC (empty: going on)"),
        Column("minutes", "minutes its closed polls cover"),
        Column("park_wide", "true when most rides open that day were closed at its start"),
        Column("down_to_close", "true when reported DOWN to the session's end (censored)"),
    ),
}


def rows(conn: Connection, table: str, first: date, last: date) -> Iterator[dict[str, Any]]:
    """The rows of `table` (`rides`, `parks` or `outages`) of the local days `first` to
    `last`, by day then park (then ride), with the columns of `TABLES`."""
    if table == "rides":
        yield from _paged(conn, _rides(first, last), _ride_row)
    elif table == "parks":
        yield from _paged(conn, _parks(first, last), _park_row)
    elif table == "outages":
        yield from _paged(conn, _outages(first, last), _outage_row)
    else:
        raise ValueError(f"no export of {table!r}: rides, parks or outages")


def _paged(conn: Connection, query: Select[Any], make: Any) -> Iterator[dict[str, Any]]:
    """Fetched `PAGE` rows at a time from one cursor (server-side on MySQL)."""
    for row in conn.execution_options(yield_per=PAGE).execute(query):
        yield make(row)


def _rides(first: date, last: date) -> Select[Any]:
    return (
        select(
            _r.stat_date,
            _r.park_id,
            _k.name.label("park_name"),
            _r.ride_id,
            _d.name.label("ride_name"),
            _r.tier,
            _r.tracked,
            _r.uptime_minutes,
            _r.downtime_minutes,
            _r.downtime_events,
            _r.longest_downtime_minutes,
            _r.avg_wait,
            _r.peak_wait,
            _r.disagreements,
            _r.is_final,
        )  # fmt: skip
        .join_from(ride_daily_stats, parks, _k.id == _r.park_id)
        .join(rides, _d.id == _r.ride_id)
        .where(_r.stat_date.between(first, last))
        .order_by(_r.stat_date, _r.park_id, _r.ride_id)
    )


def _ride_row(row: Any) -> dict[str, Any]:
    return {
        "date": row.stat_date,
        "park_id": row.park_id,
        "park_name": row.park_name,
        "ride_id": row.ride_id,
        "ride_name": row.ride_name,
        "tier": row.tier,
        "tracked": bool(row.tracked),
        "uptime_minutes": round(row.uptime_minutes, 3),
        "downtime_minutes": round(row.downtime_minutes, 3),
        "downtime_events": row.downtime_events,
        "longest_downtime_minutes": round(row.longest_downtime_minutes, 3),
        "avg_wait": None if row.avg_wait is None else round(row.avg_wait, 2),
        "peak_wait": row.peak_wait,
        "disagreements": row.disagreements,
        "final": bool(row.is_final),
    }


def _parks(first: date, last: date) -> Select[Any]:
    return (
        select(
            _p.stat_date,
            _p.park_id,
            _k.name,
            _k.operator,
            _k.timezone,
            _p.scheduled,
            _p.operating_minutes,
            _p.rides_tracked,
            _p.rides_with_downtime,
            _p.uptime_minutes,
            _p.downtime_minutes,
            _p.weighted_downtime_minutes,
            _p.weighted_total_minutes,
            _p.avg_wait,
            _p.peak_wait,
            _p.is_final,
        )  # fmt: skip
        .join_from(park_daily_stats, parks, _k.id == _p.park_id)
        .where(_p.stat_date.between(first, last))
        .order_by(_p.stat_date, _p.park_id)
    )


def _park_row(row: Any) -> dict[str, Any]:
    totals = Totals(
        row.uptime_minutes,
        row.downtime_minutes,
        row.weighted_downtime_minutes,
        row.weighted_total_minutes,
    )
    return {
        "date": row.stat_date,
        "park_id": row.park_id,
        "park_name": row.name,
        "operator": row.operator,
        "timezone": row.timezone,
        "scheduled": bool(row.scheduled),
        "operating_minutes": round(row.operating_minutes, 3),
        "rides_tracked": row.rides_tracked,
        "rides_with_downtime": row.rides_with_downtime,
        "uptime_minutes": round(row.uptime_minutes, 3),
        "downtime_minutes": round(row.downtime_minutes, 3),
        "weighted_downtime_minutes": round(row.weighted_downtime_minutes, 3),
        "weighted_total_minutes": round(row.weighted_total_minutes, 3),
        "shame_score": totals.shame_score,
        "avg_wait": None if row.avg_wait is None else round(row.avg_wait, 2),
        "peak_wait": row.peak_wait,
        "final": bool(row.is_final),
    }


def _outages(first: date, last: date) -> Select[Any]:
    return (
        select(
            _o.park_date,
            _d.park_id,
            _o.ride_id,
            _d.name,
            _o.started_at,
            _o.ended_at,
            _o.minutes,
            _o.park_wide,
            _o.censored,
        )  # fmt: skip
        .join_from(ride_outages, rides, _d.id == _o.ride_id)
        .where(_o.park_date.between(first, last))
        .order_by(_o.park_date, _d.park_id, _o.ride_id, _o.started_at)
    )


def _outage_row(row: Any) -> dict[str, Any]:
    return {
        "date": row.park_date,
        "park_id": row.park_id,
        "ride_id": row.ride_id,
        "ride_name": row.name,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "minutes": round(row.minutes, 3),
        "park_wide": bool(row.park_wide),
        "down_to_close": bool(row.censored),
    }


def csv_chunks(
    names: list[str], rows: Iterable[dict[str, Any]], every: int = 1000
) -> Iterator[str]:
    """The rows as CSV (ISO dates and UTC times, true/false, empty for none), a chunk of
    `every` rows at a time: a file's contents, or a streamed answer's."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for count, row in enumerate(rows, 1):
        writer.writerow({key: _cell(value) for key, value in row.items()})
        if count % every == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
