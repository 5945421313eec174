"""Each poll's ride states and waits as one text on its row, filled in from the snapshots.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 06:10:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: The format of `ride_states` when this migration was written (storage/ride_states.py).
LETTERS = {"open": "o", "closed": "c", "unknown": "u"}
WINDOW = 1000


def upgrade() -> None:
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "ride_states",
                sa.Text(),
                nullable=True,
                comment="every ride's state and wait, compact",
            )
        )
    bind = op.get_bind()
    meta = sa.MetaData()
    polls = sa.Table("polls", meta, autoload_with=bind)
    snapshots = sa.Table("ride_snapshots", meta, autoload_with=bind)
    update = (
        sa.update(polls)
        .where(polls.c.id == sa.bindparam("poll_id"))
        .values(ride_states=sa.bindparam("text"))
    )
    first, last = bind.execute(sa.select(sa.func.min(polls.c.id), sa.func.max(polls.c.id))).one()
    # A window of polls at a time: a year of snapshots does not fit in memory.
    for low in range(first or 0, (last or -1) + 1, WINDOW):
        rows = bind.execute(
            sa.select(
                snapshots.c.poll_id, snapshots.c.ride_id, snapshots.c.state, snapshots.c.wait_time
            )
            .where(snapshots.c.poll_id.between(low, low + WINDOW - 1))
            .order_by(snapshots.c.poll_id, snapshots.c.id)
        )
        texts: dict[int, list[str]] = {}
        for poll_id, ride_id, state, wait in rows:
            texts.setdefault(poll_id, []).append(
                f"{ride_id}{LETTERS[state]}{'' if wait is None else int(wait)}"
            )
        batch: list[dict[str, Any]] = [
            {"poll_id": poll_id, "text": ",".join(parts)} for poll_id, parts in texts.items()
        ]
        if batch:
            bind.execute(update, batch)
    bind.execute(
        sa.update(polls)
        .where(polls.c.outcome == "ok", polls.c.ride_states.is_(None))
        .values(ride_states="")
    )


def downgrade() -> None:
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_column("ride_states")
