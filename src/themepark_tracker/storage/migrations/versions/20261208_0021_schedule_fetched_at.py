"""When each paired park's schedule was last fetched (`wiki_parks.schedule_fetched_at`),
even when the answer published no day: a park with nothing published was asked again
every cycle, since only published days leave rows. Filled from the stored schedules.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import themepark_tracker.storage.types

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wiki_parks") as batch:
        batch.add_column(
            sa.Column(
                "schedule_fetched_at", themepark_tracker.storage.types.UTCSeconds(), nullable=True
            )
        )
    op.execute(
        sa.text(
            "UPDATE wiki_parks SET schedule_fetched_at = (SELECT MAX(s.fetched_at)"
            " FROM wiki_schedules s WHERE s.park_id = wiki_parks.park_id)"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("wiki_parks") as batch:
        batch.drop_column("schedule_fetched_at")
