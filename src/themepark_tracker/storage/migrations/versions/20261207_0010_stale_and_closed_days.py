"""Park days whose statistics must be recomputed (`stale_park_days`, written in the same
transaction as the polls that make them so) and park days whose polls are deleted
(`closed_park_days`, never recomputed again).

Days that `cleanup` emptied before this revision are closed from its log.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import themepark_tracker.storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE_OPTIONS: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
    "sqlite_with_rowid": False,
}


def _day_table(name: str, column: str, comment: str) -> None:
    op.create_table(
        name,
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("park_date", sa.Date(), nullable=False, comment="the park's local day"),
        sa.Column(
            column,
            themepark_tracker.storage.types.UTCDateTime(),
            nullable=False,
            comment=comment,
        ),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f(f"fk_{name}_park_id")),
        sa.PrimaryKeyConstraint("park_id", "park_date", name=op.f(f"pk_{name}")),
        **TABLE_OPTIONS,
    )


def upgrade() -> None:
    _day_table("stale_park_days", "marked_at", "when a poll of it was stored")
    _day_table("closed_park_days", "closed_at", "when cleanup deleted its polls")
    op.execute(
        "INSERT INTO closed_park_days (park_id, park_date, closed_at) "
        "SELECT park_id, park_date, MAX(finished_at) FROM aggregation_log "
        "WHERE job = 'cleanup' AND status = 'success' AND finished_at IS NOT NULL "
        "GROUP BY park_id, park_date"
    )


def downgrade() -> None:
    op.drop_table("closed_park_days")
    op.drop_table("stale_park_days")
