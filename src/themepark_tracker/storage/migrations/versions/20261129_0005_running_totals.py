"""Running totals on dense ride statistics; compact keys and times for permanent tables.

`ride_daily_stats` becomes one row per counted ride on each of its park's days, keyed by
(park, day, ride), with running totals that turn any period's sums into two rows per
ride. `status_changes` is keyed by (ride, time) and `park_daily_stats` by (park, day).
The three lose their surrogate ids and, on SQLite, their rowids, and keep their times
to the second: they are the tables that grow for ever.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 05:40:00.000000
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

import themepark_tracker.storage.types
from themepark_tracker.storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE_OPTIONS: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}
#: Tier weights as docs/methodology.md gave them when this migration was written.
WEIGHTS = {1: 3, 2: 2, 3: 1}
SUMS: tuple[tuple[str, type[sa.Double[float]] | type[sa.Integer]], ...] = (
    ("uptime_minutes", sa.Double),
    ("downtime_minutes", sa.Double),
    ("weighted_downtime_minutes", sa.Double),
    ("weighted_total_minutes", sa.Double),
    ("wait_sum", sa.Double),
    ("wait_samples", sa.Integer),
    ("downtime_events", sa.Integer),
    ("tracked_days", sa.Integer),
)
PARK_DAY_COLUMNS = (
    "park_id",
    "stat_date",
    "operating_minutes",
    "rides_tracked",
    "rides_with_downtime",
    "uptime_minutes",
    "downtime_minutes",
    "weighted_downtime_minutes",
    "weighted_total_minutes",
    "avg_wait",
    "peak_wait",
    "wait_samples",
    "is_final",
    "computed_at",
)
#: Columns holding times: reflection reads SQLite's whole-second times as integers.
TIMES = ("changed_at", "window_start", "window_end", "computed_at")
DAY_COLUMNS = (
    "park_id",
    "stat_date",
    "ride_id",
    "tier",
    "uptime_minutes",
    "downtime_minutes",
    "downtime_events",
    "longest_downtime_minutes",
    "avg_wait",
    "peak_wait",
    "wait_samples",
    "window_start",
    "window_end",
    "is_final",
)


def _daily_columns(*, running_totals: bool) -> list[sa.Column[Any]]:
    """A ride day's own columns, as revision 0005 (`running_totals`) or 0004 has them."""
    time = themepark_tracker.storage.types.UTCSeconds if running_totals else UTCDateTime
    defaults: dict[str, Any] = {} if running_totals else {"server_default": "0"}
    final_default: dict[str, Any] = {} if running_totals else {"server_default": sa.text("0")}
    tracked: list[sa.Column[Any]] = [
        sa.Column("tracked", sa.Boolean(), nullable=False, comment="eligible: open in the session")
    ]
    return [
        sa.Column(
            "tier", sa.SmallInteger(), nullable=True, comment="tier used for this day's weights"
        ),
        *(tracked if running_totals else []),
        sa.Column("uptime_minutes", sa.Double(), nullable=False),
        sa.Column("downtime_minutes", sa.Double(), nullable=False),
        sa.Column("downtime_events", sa.Integer(), nullable=False),
        sa.Column("longest_downtime_minutes", sa.Double(), nullable=False),
        sa.Column("avg_wait", sa.Double(), nullable=True),
        sa.Column("peak_wait", sa.SmallInteger(), nullable=True),
        sa.Column("wait_samples", sa.Integer(), nullable=False, **defaults),
        sa.Column("window_start", time(), nullable=True, comment="first open poll in session"),
        sa.Column("window_end", time(), nullable=True, comment="last open poll in session"),
        sa.Column("is_final", sa.Boolean(), nullable=False, **final_default),
    ]


def _park_day_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("operating_minutes", sa.Double(), nullable=False),
        sa.Column("rides_tracked", sa.Integer(), nullable=False),
        sa.Column("rides_with_downtime", sa.Integer(), nullable=False),
        sa.Column("uptime_minutes", sa.Double(), nullable=False),
        sa.Column("downtime_minutes", sa.Double(), nullable=False),
        sa.Column(
            "weighted_downtime_minutes", sa.Double(), nullable=False, comment="sum of weight x down"
        ),
        sa.Column(
            "weighted_total_minutes",
            sa.Double(),
            nullable=False,
            comment="sum of weight x (up+down)",
        ),
        sa.Column("avg_wait", sa.Double(), nullable=True),
        sa.Column("peak_wait", sa.SmallInteger(), nullable=True),
        sa.Column("wait_samples", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_final", sa.Boolean(), server_default=sa.text("0"), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
    ]


def _change_columns(*, compact: bool) -> list[sa.schema.SchemaItem]:
    """A status change as revision 0005 (`compact`) or 0004 has it. 0005 keeps the state
    it went to (only open/closed flips are recorded, so it came from the other) and the
    previous state's duration in whole seconds."""
    if compact:
        change: list[sa.schema.SchemaItem] = [
            sa.Column("ride_id", sa.Integer(), nullable=False),
            sa.Column("changed_at", themepark_tracker.storage.types.UTCSeconds(), nullable=False),
            sa.Column("park_id", sa.Integer(), nullable=False),
            sa.Column(
                "to_state",
                sa.String(length=8),
                nullable=False,
                comment="open or closed; it was the other",
            ),
            sa.Column(
                "previous_duration_seconds",
                sa.Integer(),
                nullable=True,
                comment="null when unknown",
            ),
            sa.CheckConstraint(
                "to_state IN ('open', 'closed')", name=op.f("ck_status_changes_state_values")
            ),
        ]
    else:
        change = [
            sa.Column("ride_id", sa.Integer(), nullable=False),
            sa.Column("park_id", sa.Integer(), nullable=False),
            sa.Column("changed_at", UTCDateTime(), nullable=False),
            sa.Column("from_state", sa.String(length=8), nullable=False),
            sa.Column("to_state", sa.String(length=8), nullable=False),
            sa.Column(
                "previous_duration_minutes",
                sa.Double(),
                nullable=True,
                comment="null when unknown",
            ),
            sa.CheckConstraint(
                "from_state IN ('open', 'closed', 'unknown') "
                "AND to_state IN ('open', 'closed', 'unknown')",
                name=op.f("ck_status_changes_state_values"),
            ),
        ]
    return [
        *change,
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_status_changes_park_id")),
        sa.ForeignKeyConstraint(["ride_id"], ["rides.id"], name=op.f("fk_status_changes_ride_id")),
    ]


def _compact_change(row: dict[str, Any]) -> dict[str, Any]:
    minutes = row["previous_duration_minutes"]
    return {
        "ride_id": row["ride_id"],
        "changed_at": row["changed_at"],
        "park_id": row["park_id"],
        "to_state": row["to_state"],
        "previous_duration_seconds": None if minutes is None else round(minutes * 60),
    }


def _full_change(row: dict[str, Any]) -> dict[str, Any]:
    seconds = row["previous_duration_seconds"]
    return {
        "ride_id": row["ride_id"],
        "changed_at": row["changed_at"],
        "park_id": row["park_id"],
        "from_state": "open" if row["to_state"] == "closed" else "closed",
        "to_state": row["to_state"],
        "previous_duration_minutes": None if seconds is None else seconds / 60,
    }


def _plain(row: Any) -> dict[str, Any]:
    """A reflected row as the table definitions give it: reflection knows neither the
    UTC time types (times come back naive) nor `Double` (MySQL's come back as Decimal)."""
    values = dict(row)
    for name, value in values.items():
        if isinstance(value, Decimal):
            values[name] = float(value)
        elif isinstance(value, datetime) and value.tzinfo is None:
            # Times kept to the second from 0005 on; older data may carry a fraction.
            values[name] = value.replace(tzinfo=UTC, microsecond=0)
        elif name in TIMES and isinstance(value, int):
            values[name] = datetime.fromtimestamp(value, UTC)
    return values


def _set_aside(table: str, suffix: str) -> sa.Table:
    """Rename a table out of the way; MySQL names foreign keys (and MySQL 8 checks) per
    database, so the old table's must go first. SQLite's names are per table."""
    bind = op.get_bind()
    if bind.dialect.name == "mysql":
        old = sa.Table(table, sa.MetaData(), autoload_with=bind)
        for constraint in old.foreign_key_constraints:
            op.drop_constraint(str(constraint.name), table, type_="foreignkey")
        for check in sa.inspect(bind).get_check_constraints(table):
            op.drop_constraint(op.f(str(check["name"])), table, type_="check")
    op.rename_table(table, f"{table}_{suffix}")
    return sa.Table(f"{table}_{suffix}", sa.MetaData(), autoload_with=bind)


def _write(target: sa.Table, rows: Iterable[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 1000:
            op.get_bind().execute(sa.insert(target), batch)
            batch = []
    if batch:
        op.get_bind().execute(sa.insert(target), batch)


def _rows(source: sa.Table, columns: Iterable[str], *where: Any) -> Iterator[dict[str, Any]]:
    query = sa.select(*(source.c[name] for name in columns)).where(*where)
    for row in op.get_bind().execute(query).mappings():
        yield _plain(row)


def upgrade() -> None:
    old_days = _set_aside("ride_daily_stats", "0004")
    old_parks = _set_aside("park_daily_stats", "0004")
    old_changes = _set_aside("status_changes", "0004")
    new_days = op.create_table(
        "ride_daily_stats",
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("stat_date", sa.Date(), nullable=False, comment="the park's local day"),
        sa.Column("ride_id", sa.Integer(), nullable=False),
        *_daily_columns(running_totals=True),
        *(sa.Column(f"cum_{name}", kind(), nullable=False) for name, kind in SUMS),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_ride_daily_stats_park_id")
        ),
        sa.ForeignKeyConstraint(
            ["ride_id"], ["rides.id"], name=op.f("fk_ride_daily_stats_ride_id")
        ),
        sa.PrimaryKeyConstraint(
            "park_id", "stat_date", "ride_id", name=op.f("pk_ride_daily_stats")
        ),
        sqlite_with_rowid=False,
        **TABLE_OPTIONS,
    )
    op.create_index(
        "ix_ride_daily_stats_ride_id_stat_date",
        "ride_daily_stats",
        ["ride_id", "stat_date"],
        sqlite_where=sa.text("tracked = 1"),
    )
    new_parks = op.create_table(
        "park_daily_stats",
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("stat_date", sa.Date(), nullable=False, comment="the park's local day"),
        *_park_day_columns(),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_park_daily_stats_park_id")
        ),
        sa.PrimaryKeyConstraint("park_id", "stat_date", name=op.f("pk_park_daily_stats")),
        sqlite_with_rowid=False,
        **TABLE_OPTIONS,
    )
    new_changes = op.create_table(
        "status_changes",
        *_change_columns(compact=True),
        sa.PrimaryKeyConstraint("ride_id", "changed_at", name=op.f("pk_status_changes")),
        sqlite_with_rowid=False,
        **TABLE_OPTIONS,
    )
    _write(
        new_changes,
        (
            _compact_change(row)
            for row in _rows(old_changes, [c.name for c in old_changes.c if c.name != "id"])
            if row["to_state"] in ("open", "closed")
        ),
    )
    _write(new_parks, _rows(old_parks, PARK_DAY_COLUMNS))
    _write(new_days, _dense_with_running_totals(old_days, old_parks))
    for old in (old_days, old_parks, old_changes):
        op.drop_table(old.name)


def _dense_with_running_totals(old: sa.Table, old_parks: sa.Table) -> Iterator[dict[str, Any]]:
    """The old (eligible-only) rows, with a zero row wherever a ride seen earlier in its
    park had none, on every day the park has statistics (a closed day had a park row and
    no ride row), and the running totals of each ride through its park's days."""
    bind = op.get_bind()
    park_days = bind.execute(
        sa.select(old_parks.c.park_id, old_parks.c.stat_date, old_parks.c.is_final)
    ).all()
    rows = bind.execute(
        sa.select(*(old.c[name] for name in DAY_COLUMNS)).order_by(
            old.c.park_id, old.c.stat_date, old.c.ride_id
        )
    )
    by_day: dict[tuple[int, Any], list[dict[str, Any]]] = {}
    for row in rows.mappings():
        by_day.setdefault((row["park_id"], row["stat_date"]), []).append(
            {**_plain(row), "tracked": True}
        )
    final = {(park_id, day): bool(is_final) for park_id, day, is_final in park_days}
    park_id = None
    running: dict[int, list[float]] = {}
    for key in sorted(set(final) | set(by_day)):
        if key[0] != park_id:
            park_id, running = key[0], {}
        yield from _finish_day(key, final.get(key, True), by_day.pop(key, []), running)


def _finish_day(
    key: tuple[int, Any],
    final: bool,
    rows: list[dict[str, Any]],
    running: dict[int, list[float]],
) -> Iterator[dict[str, Any]]:
    present = {row["ride_id"] for row in rows}
    for ride_id in sorted(set(running) - present):
        rows.append(
            {
                "park_id": key[0],
                "stat_date": key[1],
                "ride_id": ride_id,
                "tier": None,
                "tracked": False,
                "uptime_minutes": 0.0,
                "downtime_minutes": 0.0,
                "downtime_events": 0,
                "longest_downtime_minutes": 0.0,
                "avg_wait": None,
                "peak_wait": None,
                "wait_samples": 0,
                "window_start": None,
                "window_end": None,
                "is_final": final,
            }
        )
    for row in rows:
        up, down = row["uptime_minutes"], row["downtime_minutes"]
        weight = WEIGHTS.get(row["tier"], 2)
        own = (
            up,
            down,
            weight * down,
            weight * (up + down),
            (row["avg_wait"] or 0.0) * row["wait_samples"],
            row["wait_samples"],
            row["downtime_events"],
            1 if row["tracked"] else 0,
        )
        before = running.get(row["ride_id"], [0.0] * len(SUMS))
        totals = [a + b for a, b in zip(before, own, strict=True)]
        running[row["ride_id"]] = totals
        yield {
            **row,
            **{f"cum_{name}": value for (name, _), value in zip(SUMS, totals, strict=True)},
        }


def downgrade() -> None:
    new_days = _set_aside("ride_daily_stats", "0005")
    new_parks = _set_aside("park_daily_stats", "0005")
    new_changes = _set_aside("status_changes", "0005")
    bigid = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    old_days = op.create_table(
        "ride_daily_stats",
        sa.Column("id", bigid, autoincrement=True, nullable=False),
        sa.Column("ride_id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("stat_date", sa.Date(), nullable=False, comment="the park's local day"),
        *_daily_columns(running_totals=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_ride_daily_stats_park_id")
        ),
        sa.ForeignKeyConstraint(
            ["ride_id"], ["rides.id"], name=op.f("fk_ride_daily_stats_ride_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ride_daily_stats")),
        sa.UniqueConstraint("ride_id", "stat_date", name="uq_ride_daily_stats_ride_id_stat_date"),
        **TABLE_OPTIONS,
    )
    with op.batch_alter_table("ride_daily_stats", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ride_daily_stats_park_id_stat_date", ["park_id", "stat_date"], unique=False
        )
        batch_op.create_index("ix_ride_daily_stats_stat_date", ["stat_date"], unique=False)
    old_parks = op.create_table(
        "park_daily_stats",
        sa.Column("id", bigid, autoincrement=True, nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("stat_date", sa.Date(), nullable=False, comment="the park's local day"),
        *_park_day_columns(),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_park_daily_stats_park_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_park_daily_stats")),
        sa.UniqueConstraint("park_id", "stat_date", name="uq_park_daily_stats_park_id_stat_date"),
        **TABLE_OPTIONS,
    )
    with op.batch_alter_table("park_daily_stats", schema=None) as batch_op:
        batch_op.create_index("ix_park_daily_stats_stat_date", ["stat_date"], unique=False)
    old_changes = op.create_table(
        "status_changes",
        sa.Column("id", bigid, autoincrement=True, nullable=False),
        *_change_columns(compact=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
        sa.UniqueConstraint("ride_id", "changed_at", name="uq_status_changes_ride_id_changed_at"),
        **TABLE_OPTIONS,
    )
    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_status_changes_park_id_changed_at", ["park_id", "changed_at"], unique=False
        )
    _write(old_changes, (_full_change(row) for row in _rows(new_changes, new_changes.c.keys())))
    _write(old_parks, _rows(new_parks, PARK_DAY_COLUMNS))
    computed_at = datetime.now(UTC)
    _write(
        old_days,
        (
            {**row, "computed_at": computed_at}
            for row in _rows(new_days, DAY_COLUMNS, new_days.c.tracked)
        ),
    )
    for new in (new_days, new_parks, new_changes):
        op.drop_table(new.name)
