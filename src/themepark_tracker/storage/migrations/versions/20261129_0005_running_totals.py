"""Running totals on dense ride statistics; natural primary keys for the permanent tables.

`ride_daily_stats` becomes one row per counted ride on each of its park's days, keyed by
(park, day, ride), with running totals that turn any period's sums into two rows per
ride. `status_changes` is keyed by (ride, time). Both lose their surrogate ids and, on
SQLite, their rowids: they are the tables that grow for ever.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 05:40:00.000000
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

import themepark_tracker.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE_OPTIONS: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}
#: Tier weights as METRICS.md gave them when this migration was written.
WEIGHTS = {1: 3, 2: 2, 3: 1}
SUMS = (
    "uptime_minutes",
    "downtime_minutes",
    "weighted_downtime_minutes",
    "weighted_total_minutes",
    "wait_sum",
    "wait_samples",
    "downtime_events",
    "tracked_days",
)
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
    utc = themepark_tracker.storage.types.UTCDateTime
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
        sa.Column("window_start", utc(), nullable=True, comment="first open poll in session"),
        sa.Column("window_end", utc(), nullable=True, comment="last open poll in session"),
        sa.Column("is_final", sa.Boolean(), nullable=False, **final_default),
    ]


def _plain(row: Any) -> dict[str, Any]:
    """A reflected row as the table definitions give it: reflection knows neither
    `UTCDateTime` (times come back naive) nor `Double` (MySQL's come back as Decimal)."""
    values = {name: float(v) if isinstance(v, Decimal) else v for name, v in dict(row).items()}
    for name in ("window_start", "window_end"):
        if values[name] is not None:
            values[name] = values[name].replace(tzinfo=UTC)
    return values


def _drop_foreign_keys(table: str, columns: tuple[str, ...]) -> None:
    """MySQL names foreign keys per database: the old table's must go before the new one's
    are created. SQLite's names are per table."""
    if op.get_bind().dialect.name == "mysql":
        for column in columns:
            op.drop_constraint(f"fk_{table}_{column}", table, type_="foreignkey")


def _copy_status_changes(source: str) -> None:
    bind = op.get_bind()
    old = sa.Table(source, sa.MetaData(), autoload_with=bind)
    new = sa.Table("status_changes", sa.MetaData(), autoload_with=bind)
    names = ["ride_id", "changed_at", "park_id", "from_state", "to_state"]
    names.append("previous_duration_minutes")
    bind.execute(
        sa.insert(new).from_select(
            names, sa.select(*(old.c[name] for name in names)).order_by(old.c.changed_at)
        )
    )


def upgrade() -> None:
    _drop_foreign_keys("ride_daily_stats", ("park_id", "ride_id"))
    _drop_foreign_keys("status_changes", ("park_id", "ride_id"))
    op.rename_table("ride_daily_stats", "ride_daily_stats_0004")
    op.rename_table("status_changes", "status_changes_0004")
    new_days = op.create_table(
        "ride_daily_stats",
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("stat_date", sa.Date(), nullable=False, comment="the park's local day"),
        sa.Column("ride_id", sa.Integer(), nullable=False),
        *_daily_columns(running_totals=True),
        sa.Column("cum_uptime_minutes", sa.Double(), nullable=False),
        sa.Column("cum_downtime_minutes", sa.Double(), nullable=False),
        sa.Column("cum_weighted_downtime_minutes", sa.Double(), nullable=False),
        sa.Column("cum_weighted_total_minutes", sa.Double(), nullable=False),
        sa.Column("cum_wait_sum", sa.Double(), nullable=False),
        sa.Column("cum_wait_samples", sa.Integer(), nullable=False),
        sa.Column("cum_downtime_events", sa.Integer(), nullable=False),
        sa.Column("cum_tracked_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_ride_daily_stats_park_id")
        ),
        sa.ForeignKeyConstraint(
            ["ride_id"], ["rides.id"], name=op.f("fk_ride_daily_stats_ride_id")
        ),
        sa.PrimaryKeyConstraint(
            "park_id", "stat_date", "ride_id", name=op.f("pk_ride_daily_stats")
        ),
        sa.UniqueConstraint("ride_id", "stat_date", name="uq_ride_daily_stats_ride_id_stat_date"),
        sqlite_with_rowid=False,
        **TABLE_OPTIONS,
    )
    op.create_table(
        "status_changes",
        sa.Column("ride_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=8), nullable=False),
        sa.Column("to_state", sa.String(length=8), nullable=False),
        sa.Column(
            "previous_duration_minutes", sa.Double(), nullable=True, comment="null when unknown"
        ),
        sa.CheckConstraint(
            "from_state IN ('open', 'closed', 'unknown') "
            "AND to_state IN ('open', 'closed', 'unknown')",
            name=op.f("ck_status_changes_state_values"),
        ),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_status_changes_park_id")),
        sa.ForeignKeyConstraint(["ride_id"], ["rides.id"], name=op.f("fk_status_changes_ride_id")),
        sa.PrimaryKeyConstraint("ride_id", "changed_at", name=op.f("pk_status_changes")),
        sqlite_with_rowid=False,
        **TABLE_OPTIONS,
    )
    _copy_status_changes("status_changes_0004")
    bind = op.get_bind()
    old = sa.Table("ride_daily_stats_0004", sa.MetaData(), autoload_with=bind)
    batch: list[dict[str, Any]] = []
    for row in _dense_with_running_totals(bind, old):
        batch.append(row)
        if len(batch) >= 1000:
            bind.execute(sa.insert(new_days), batch)
            batch = []
    if batch:
        bind.execute(sa.insert(new_days), batch)
    op.drop_table("ride_daily_stats_0004")
    op.drop_table("status_changes_0004")


def _dense_with_running_totals(bind: sa.Connection, old: sa.Table) -> Iterator[dict[str, Any]]:
    """The old (eligible-only) rows, with a zero row wherever a ride seen earlier in its
    park had none, and the running totals of each ride through its park's days."""
    query = sa.select(*(old.c[name] for name in DAY_COLUMNS)).order_by(
        old.c.park_id, old.c.stat_date, old.c.ride_id
    )
    park_id = None
    running: dict[int, list[float]] = {}
    day_rows: list[dict[str, Any]] = []
    for row in bind.execute(query).mappings():
        if row["park_id"] != park_id:
            yield from _finish_day(day_rows, running)
            park_id, running, day_rows = row["park_id"], {}, []
        elif day_rows and row["stat_date"] != day_rows[0]["stat_date"]:
            yield from _finish_day(day_rows, running)
            day_rows = []
        day_rows.append({**_plain(row), "tracked": True})
    yield from _finish_day(day_rows, running)


def _finish_day(
    rows: list[dict[str, Any]], running: dict[int, list[float]]
) -> Iterator[dict[str, Any]]:
    if not rows:
        return
    first = rows[0]
    present = {row["ride_id"] for row in rows}
    for ride_id in sorted(set(running) - present):
        rows.append(
            {
                "park_id": first["park_id"],
                "stat_date": first["stat_date"],
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
                "is_final": first["is_final"],
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
        totals = [
            a + b for a, b in zip(running.get(row["ride_id"], [0.0] * len(SUMS)), own, strict=True)
        ]
        running[row["ride_id"]] = totals
        yield {**row, **{f"cum_{name}": value for name, value in zip(SUMS, totals, strict=True)}}


def downgrade() -> None:
    _drop_foreign_keys("ride_daily_stats", ("park_id", "ride_id"))
    _drop_foreign_keys("status_changes", ("park_id", "ride_id"))
    op.rename_table("ride_daily_stats", "ride_daily_stats_0005")
    op.rename_table("status_changes", "status_changes_0005")
    bigid = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    utc = themepark_tracker.storage.types.UTCDateTime
    old_days = op.create_table(
        "ride_daily_stats",
        sa.Column("id", bigid, autoincrement=True, nullable=False),
        sa.Column("ride_id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("stat_date", sa.Date(), nullable=False, comment="the park's local day"),
        *_daily_columns(running_totals=False),
        sa.Column("computed_at", utc(), nullable=False),
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
    op.create_table(
        "status_changes",
        sa.Column("id", bigid, autoincrement=True, nullable=False),
        sa.Column("ride_id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", utc(), nullable=False),
        sa.Column("from_state", sa.String(length=8), nullable=False),
        sa.Column("to_state", sa.String(length=8), nullable=False),
        sa.Column(
            "previous_duration_minutes", sa.Double(), nullable=True, comment="null when unknown"
        ),
        sa.CheckConstraint(
            "from_state IN ('open', 'closed', 'unknown') "
            "AND to_state IN ('open', 'closed', 'unknown')",
            name=op.f("ck_status_changes_state_values"),
        ),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_status_changes_park_id")),
        sa.ForeignKeyConstraint(["ride_id"], ["rides.id"], name=op.f("fk_status_changes_ride_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
        sa.UniqueConstraint("ride_id", "changed_at", name="uq_status_changes_ride_id_changed_at"),
        **TABLE_OPTIONS,
    )
    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_status_changes_park_id_changed_at", ["park_id", "changed_at"], unique=False
        )
    _copy_status_changes("status_changes_0005")
    bind = op.get_bind()
    new = sa.Table("ride_daily_stats_0005", sa.MetaData(), autoload_with=bind)
    computed_at = datetime.now(UTC)
    rows = [
        {**_plain(row), "computed_at": computed_at}
        for row in bind.execute(
            sa.select(*(new.c[name] for name in DAY_COLUMNS)).where(new.c.tracked)
        ).mappings()
    ]
    if rows:
        bind.execute(sa.insert(old_days), rows)
    op.drop_table("ride_daily_stats_0005")
    op.drop_table("status_changes_0005")
