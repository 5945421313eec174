"""ThemeParks.wiki live answers as ride statuses (`wiki_live`) and published hours
(`wiki_schedules`).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from themepark_tracker.storage.types import UTCSeconds

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}


def upgrade() -> None:
    op.create_table(
        "wiki_live",
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("fetched_at", UTCSeconds(), nullable=False),
        sa.Column("statuses", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_wiki_live_park_id")),
        sa.PrimaryKeyConstraint("park_id", "fetched_at", name=op.f("pk_wiki_live")),
        sqlite_with_rowid=False,
        **MYSQL,
    )
    op.create_table(
        "wiki_schedules",
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("park_date", sa.Date(), nullable=False, comment="the park's local day"),
        sa.Column("kind", sa.String(16), nullable=False, comment="OPERATING, TICKETED_EVENT, ..."),
        sa.Column("opens_at", UTCSeconds(), nullable=False),
        sa.Column("closes_at", UTCSeconds(), nullable=False),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("fetched_at", UTCSeconds(), nullable=False),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_wiki_schedules_park_id")),
        sa.PrimaryKeyConstraint(
            "park_id", "park_date", "kind", "opens_at", name=op.f("pk_wiki_schedules")
        ),
        sqlite_with_rowid=False,
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("wiki_schedules")
    op.drop_table("wiki_live")
