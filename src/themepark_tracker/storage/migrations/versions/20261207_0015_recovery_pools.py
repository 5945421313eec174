"""Recovery pools prepared by `aggregate` (`recovery_pools`): the Kaplan–Meier curve of
each pool (a ride's own outages, a park's park-wide outages, a park's rides of a tier,
every park's rides of a tier) over a window of park days. Empty at first: until `aggregate` prepares
a pool, a request computes it from the outages, as before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.mysql import LONGBLOB

from themepark_tracker.storage.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recovery_pools",
        sa.Column("park_id", sa.Integer(), nullable=False, comment="0: every park"),
        sa.Column(
            "pool", sa.String(9), nullable=False, comment="ride, park_wide, park_tier or tier"
        ),
        sa.Column(
            "tier", sa.Integer(), nullable=False, comment="0: a ride's own, or park-wide outages"
        ),
        sa.Column("ride_id", sa.Integer(), nullable=False, comment="0: not a ride's own"),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("ended", sa.Integer(), nullable=False),
        sa.Column("censored", sa.Integer(), nullable=False),
        sa.Column(
            "curve",
            sa.LargeBinary().with_variant(LONGBLOB(), "mysql"),
            nullable=False,
            comment="times, levels (float64) and outages longer (int32), little-endian",
        ),
        sa.Column("prepared_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "park_id",
            "pool",
            "tier",
            "ride_id",
            "first_day",
            "last_day",
            name=op.f("pk_recovery_pools"),
        ),
        sqlite_with_rowid=False,
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )


def downgrade() -> None:
    op.drop_table("recovery_pools")
