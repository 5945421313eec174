"""Migrations run up and down on both dialects and match the table definitions."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import URL

from themepark_tracker.storage import migrate
from themepark_tracker.storage.db import make_engine
from themepark_tracker.storage.tables import metadata

TABLES = {table.name for table in metadata.sorted_tables}


def test_it_creates_every_table_and_records_the_head(empty_db_url: URL) -> None:
    engine = make_engine(empty_db_url)
    before, after = migrate.upgrade(engine)
    assert before is None
    assert after == migrate.head_revision()
    assert TABLES | {"alembic_version"} == set(inspect(engine).get_table_names())
    engine.dispose()


def test_a_second_upgrade_is_a_no_op(empty_db_url: URL) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    before, after = migrate.upgrade(engine)
    assert before == after == migrate.head_revision()
    engine.dispose()


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(empty_db_url: URL) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    before, after = migrate.downgrade(engine, "base")
    assert (before, after) == (migrate.head_revision(), None)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_migrated_schema_matches_the_table_definitions(empty_db_url: URL) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []
    engine.dispose()
