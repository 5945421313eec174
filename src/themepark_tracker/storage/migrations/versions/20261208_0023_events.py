"""The events subscribers are told of (`events`): outages started, ended and retracted,
refurbishments, parks opened and closed, with the corrections a late poll makes. Each
row is sent as it is; a change is a new row naming the one it corrects.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import themepark_tracker.storage.types

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("ride_id", sa.Integer(), nullable=True),
        sa.Column("park_date", sa.Date(), nullable=False, comment="the park's local day"),
        sa.Column("occurred_at", themepark_tracker.storage.types.UTCSeconds(), nullable=False),
        sa.Column("confirmed_at", themepark_tracker.storage.types.UTCSeconds(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False, comment="JSON"),
        sa.Column("corrects", sa.String(32), nullable=True, comment="the event it changes"),
        sa.Column("recorded_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_events_park_id")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sa.UniqueConstraint("id", name="uq_events_id"),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index("ix_events_park_id_seq", "events", ["park_id", "seq"])
    op.create_index("ix_events_ride_id_seq", "events", ["ride_id", "seq"])
    op.create_index("ix_events_park_id_park_date", "events", ["park_id", "park_date"])


def downgrade() -> None:
    op.drop_table("events")
