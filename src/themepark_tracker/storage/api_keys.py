"""API keys: only a SHA-256 of each key is stored, with a short prefix to tell keys apart.

A key is 32 random bytes (URL-safe text). Its hash is enough to check it: a key has
enough entropy that a plain SHA-256 cannot be brute-forced, unlike a password.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, insert, or_, select, update
from sqlalchemy.exc import OperationalError

from themepark_tracker.storage.db import SQLITE_BUSY_TIMEOUT_MS, is_busy
from themepark_tracker.storage.tables import api_keys

PREFIX = "tpt_"
#: last_used_at is refreshed at most this often: a write per request would cost more
#: than the request.
TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    key_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(conn: Connection, name: str, now: datetime) -> tuple[str, ApiKey]:
    """A new key: the plain key is returned once and never stored."""
    if not name.strip():
        raise ValueError("a key needs a name")
    key = PREFIX + secrets.token_urlsafe(32)
    prefix = key[: len(PREFIX) + 6]
    result = conn.execute(
        insert(api_keys).values(
            name=name.strip(), key_prefix=prefix, key_hash=key_hash(key), created_at=now
        )
    )
    (key_id,) = result.inserted_primary_key or (None,)
    assert key_id is not None
    return key, ApiKey(int(key_id), name.strip(), prefix, now, None, None)


def list_keys(conn: Connection) -> list[ApiKey]:
    c = api_keys.c
    query = select(c.id, c.name, c.key_prefix, c.created_at, c.last_used_at, c.revoked_at).order_by(
        c.id
    )
    return [ApiKey(*row) for row in conn.execute(query)]


def revoke_key(conn: Connection, key_id: int, now: datetime) -> bool:
    """False when there is no such key, or it was revoked already."""
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class LiveKey:
    """A key that checked out, with what deciding whether to note its use needs."""

    id: int
    last_used_at: datetime | None

    def note_due(self, now: datetime) -> bool:
        return self.last_used_at is None or self.last_used_at <= now - TOUCH_EVERY


def check_key(conn: Connection, key: str) -> LiveKey | None:
    """The live key `key` is, else None: a read only, so that checking keys never waits
    for, or makes wait, the jobs that write."""
    c = api_keys.c
    found = conn.execute(
        select(c.id, c.last_used_at).where(c.key_hash == key_hash(key), c.revoked_at.is_(None))
    ).one_or_none()
    return None if found is None else LiveKey(int(found.id), found.last_used_at)


def note_use(engine: Engine, key: LiveKey, now: datetime) -> bool:
    """Note that `key` was used at `now`, when its note is due, without waiting for the
    database: True when noted. On SQLite a job holding the write lock (an import holds
    it for seconds at a time) makes it skip the note at once, and a later request makes
    it; the request it was for must not wait on it. MariaDB locks rows, and no job
    locks a key's."""
    if not key.note_due(now):
        return False
    c = api_keys.c
    with engine.connect() as conn, _without_waiting(conn):
        try:
            with conn.begin():
                noted = conn.execute(
                    update(api_keys).where(c.id == key.id, _note_due(now)).values(last_used_at=now)
                ).rowcount
        except OperationalError as exc:
            if not is_busy(exc):
                raise
            return False
    return noted == 1


def _note_due(now: datetime) -> ColumnElement[bool]:
    c = api_keys.c
    return or_(c.last_used_at.is_(None), c.last_used_at <= now - TOUCH_EVERY)


@contextmanager
def _without_waiting(conn: Connection) -> Iterator[None]:
    """SQLite: a busy database fails at once on this connection, until the block ends."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("PRAGMA busy_timeout=0")
    conn.commit()
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        conn.commit()
