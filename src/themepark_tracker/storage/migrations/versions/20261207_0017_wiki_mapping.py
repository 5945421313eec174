"""Which ThemeParks.wiki park and entity each park and ride is (`wiki_parks`,
`wiki_rides`), as `sources map` stores them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 23:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from themepark_tracker.storage.types import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}


def upgrade() -> None:
    op.create_table(
        "wiki_parks",
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("wiki_id", sa.String(64), nullable=False),
        sa.Column("wiki_name", sa.String(255), nullable=False),
        sa.Column("how", sa.String(10), nullable=False, comment="table or override"),
        sa.Column("mapped_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_wiki_parks_park_id")),
        sa.PrimaryKeyConstraint("park_id", name=op.f("pk_wiki_parks")),
        **MYSQL,
    )
    op.create_table(
        "wiki_rides",
        sa.Column("ride_id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("wiki_id", sa.String(64), nullable=False),
        sa.Column("wiki_name", sa.String(255), nullable=False),
        sa.Column("how", sa.String(10), nullable=False, comment="name or override"),
        sa.Column("mapped_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ride_id"], ["rides.id"], name=op.f("fk_wiki_rides_ride_id")),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_wiki_rides_park_id")),
        sa.PrimaryKeyConstraint("ride_id", name=op.f("pk_wiki_rides")),
        **MYSQL,
    )
    op.create_index("ix_wiki_rides_park_id", "wiki_rides", ["park_id"])


def downgrade() -> None:
    op.drop_table("wiki_rides")  # its index with it: MySQL keeps it for the foreign key
    op.drop_table("wiki_parks")
