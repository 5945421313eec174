"""What counting with published hours and statuses adds to a park day's rows: whether
the day was counted with its published hours (`park_daily_stats.scheduled`, and on its
session the run of active polls it would have had without them), each ride's
disagreements between the two sources inside the session, and whether an outage was
reported DOWN to the close (`ride_outages.censored`). Rows written before are days
counted without either: the defaults say so.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import themepark_tracker.storage.types

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("park_daily_stats") as batch:
        batch.add_column(
            sa.Column(
                "scheduled",
                sa.Boolean(),
                server_default=sa.text("0"),
                nullable=False,
                comment="counted with the published hours",
            )
        )
    with op.batch_alter_table("operating_sessions") as batch:
        batch.add_column(
            sa.Column("scheduled", sa.Boolean(), server_default=sa.text("0"), nullable=False)
        )
        for name in ("observed_started_at", "observed_ended_at"):
            batch.add_column(
                sa.Column(name, themepark_tracker.storage.types.UTCDateTime(), nullable=True)
            )
    with op.batch_alter_table("ride_daily_stats") as batch:
        batch.add_column(
            sa.Column(
                "disagreements",
                sa.SmallInteger(),
                server_default="0",
                nullable=False,
                comment="polls of the session where the sources disagreed",
            )
        )
    with op.batch_alter_table("ride_outages") as batch:
        batch.add_column(
            sa.Column(
                "censored",
                sa.Boolean(),
                server_default=sa.text("0"),
                nullable=False,
                comment="reported DOWN to the session's end",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("ride_outages") as batch:
        batch.drop_column("censored")
    with op.batch_alter_table("ride_daily_stats") as batch:
        batch.drop_column("disagreements")
    with op.batch_alter_table("operating_sessions") as batch:
        for name in ("observed_ended_at", "observed_started_at", "scheduled"):
            batch.drop_column(name)
    with op.batch_alter_table("park_daily_stats") as batch:
        batch.drop_column("scheduled")
