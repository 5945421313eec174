"""Schema migrations (Alembic) run from the package, on an engine of either dialect."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from themepark_tracker.storage.db import writing

SCRIPT_LOCATION = "themepark_tracker.storage:migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate to `revision`; returns the revisions before and after."""
    with writing(engine) as connection:
        before = current_revision(connection)
        command.upgrade(_config(connection), revision)
        return before, current_revision(connection)


def downgrade(engine: Engine, revision: str) -> tuple[str | None, str | None]:
    """Migrate down to `revision` ("base" drops everything); returns before and after."""
    with writing(engine) as connection:
        before = current_revision(connection)
        command.downgrade(_config(connection), revision)
        return before, current_revision(connection)
