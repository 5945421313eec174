"""Alembic environment for both dialects.

Commands of the package pass their open connection in `config.attributes`; a developer
running the `alembic` command line (alembic.ini at the repository root) gets an engine
built from the normal settings instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from themepark_tracker.storage.tables import metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_from_settings() -> None:
    from themepark_tracker.config import load_settings
    from themepark_tracker.storage.db import make_engine, writing

    engine = make_engine(load_settings().database_url_object())
    with writing(engine) as connection:
        run(connection)
    engine.dispose()


shared_connection = context.config.attributes.get("connection")
if shared_connection is not None:
    run(shared_connection)
else:
    run_from_settings()
