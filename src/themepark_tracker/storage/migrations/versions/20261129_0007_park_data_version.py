"""A data version per park, bumped when its statistics or its rides' tiers change, so
that cached answers (the API's memo and ETags) know to refresh.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "data_version",
                sa.Integer(),
                nullable=False,
                server_default="0",
                comment="bumped when the park's statistics or its rides' tiers change",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("parks", schema=None) as batch_op:
        batch_op.drop_column("data_version")
