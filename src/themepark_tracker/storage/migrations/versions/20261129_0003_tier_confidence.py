"""How sure the classifier is of a ride's tier and category.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 04:07:05.080926
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rides", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tier_confidence", sa.Double(), nullable=True, comment="0 to 1")
        )


def downgrade() -> None:
    with op.batch_alter_table("rides", schema=None) as batch_op:
        batch_op.drop_column("tier_confidence")
