"""Noting a key's use: at most every `TOUCH_EVERY`, and never by waiting for a job that
writes (on SQLite an import holds the write lock for seconds at a time)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event

from themepark_tracker.storage.api_keys import (
    TOUCH_EVERY,
    LiveKey,
    check_key,
    create_key,
    list_keys,
    note_use,
)
from themepark_tracker.storage.db import SQLITE_BUSY_TIMEOUT_MS, writing
from themepark_tracker.storage.writes import lock_parks

T0 = datetime(2026, 7, 4, 12, tzinfo=UTC)


def _key(engine: Engine) -> str:
    with writing(engine) as conn:
        key, _ = create_key(conn, "test", T0)
    return key


def _found(engine: Engine, key: str) -> LiveKey:
    with engine.connect() as conn:
        found = check_key(conn, key)
    assert found is not None
    return found


def _last_used(engine: Engine, key_id: int) -> datetime | None:
    with engine.connect() as conn:
        return next(k.last_used_at for k in list_keys(conn) if k.id == key_id)


@contextmanager
def _job_writing(engine: Engine) -> Iterator[None]:
    """A job in the middle of a transaction, as an import is during each batch: it has
    locked its parks (and on SQLite holds the write lock)."""
    with writing(engine) as conn:
        lock_parks(conn, [1, 2], changing=True)
        yield


def test_a_note_never_waits_for_a_job_and_is_made_after_a_skipped_one(engine: Engine) -> None:
    found = _found(engine, _key(engine))
    with _job_writing(engine):
        started = time.monotonic()
        noted = note_use(engine, found, T0)
        assert time.monotonic() - started < 1.0
    assert _last_used(engine, found.id) == (T0 if noted else None)
    if not noted:  # SQLite: the job held the write lock
        assert note_use(engine, found, T0)
        assert _last_used(engine, found.id) == T0


@pytest.mark.backends("sqlite")
def test_on_sqlite_a_skipped_note_leaves_connections_waiting_for_the_lock_again(
    engine: Engine,
) -> None:
    found = _found(engine, _key(engine))
    with _job_writing(engine):
        assert not note_use(engine, found, T0)
    with engine.connect() as first, engine.connect() as second:
        for conn in (first, second):  # every pooled connection, whichever took the note
            timeout = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert timeout == SQLITE_BUSY_TIMEOUT_MS


def test_a_recent_note_costs_no_statement(engine: Engine) -> None:
    found = _found(engine, _key(engine))
    assert note_use(engine, found, T0)
    statements: list[object] = []

    def record(*args: object) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert not note_use(engine, LiveKey(found.id, T0), T0 + TOUCH_EVERY - timedelta(seconds=1))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements == []


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(gaps=st.lists(st.integers(0, 3 * int(TOUCH_EVERY.total_seconds())), max_size=8))
def test_the_last_use_is_kept_within_touch_every(engine: Engine, gaps: list[int]) -> None:
    """Requests at any times: each notes its time when the last note is older than
    `TOUCH_EVERY`, so the stored time trails the newest request by less than that."""
    key = _key(engine)
    now, expected = T0, None
    for gap in gaps:
        now += timedelta(seconds=gap)
        found = _found(engine, key)
        due = expected is None or expected <= now - TOUCH_EVERY
        assert note_use(engine, found, now) == due
        expected = now if due else expected
        assert _last_used(engine, found.id) == expected
        assert expected is not None and now - TOUCH_EVERY < expected <= now
