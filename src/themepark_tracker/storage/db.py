"""Engines for both dialects, each configured the one way this project relies on."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Tries at SQLite's write lock, each waiting up to the busy timeout.
SQLITE_LOCK_ATTEMPTS = 3
_WRITER = "themepark_tracker_writer"
#: Tries at a transaction that MariaDB rolled back to break a deadlock or a lock wait.
DEADLOCK_ATTEMPTS = 5
#: MariaDB's "deadlock found" and "lock wait timeout exceeded".
_DEADLOCK_CODES = frozenset({1213, 1205})
#: MariaDB/MySQL client errors that mean the server is out of reach, not that the
#: statement was wrong: cannot connect (2002 socket, 2003 TCP), server gone away (2006),
#: connection lost during a query (2013) or on a system error (2055).
CONNECTION_LOST_CODES = frozenset({2002, 2003, 2006, 2013, 2055})
#: SQLite's: the file or its directory is gone, or the disk failed.
SQLITE_LOST_MESSAGES = ("unable to open", "disk i/o")

T = TypeVar("T")


def make_engine(
    url: URL,
    *,
    pool_size: int = 10,
    max_overflow: int = 20,
    pool_recycle: int = 3600,
) -> Engine:
    """An engine for `url`: SQLite with WAL and foreign keys, MySQL pooled and in UTC.

    Transactions that read before they write are opened with `writing`.
    """
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.get_backend_name() == "mysql":
        return _mysql_engine(url, pool_size, max_overflow, pool_recycle)
    raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite or mysql")


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN until the first write and never
        # wraps DDL; switch it off and let SQLAlchemy emit BEGIN so that a transaction
        # (migrations included) is really atomic.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if not connection.get_execution_options().get(_WRITER):
            connection.exec_driver_sql("BEGIN")
            return
        for attempt in range(1, SQLITE_LOCK_ATTEMPTS + 1):
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if not is_busy(exc) or attempt == SQLITE_LOCK_ATTEMPTS:
                    raise
                log.warning("database busy, trying again", extra={"attempt": attempt})

    return engine


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that may write, committed at the end (rolled back on an error).

    On SQLite it takes the write lock before its first read (`BEGIN IMMEDIATE`, waiting
    up to the busy timeout, a bounded number of times): a deferred transaction that has
    read and then writes fails at once with "database is locked" whenever another writer
    committed in between, since its snapshot is stale and no timeout can help it. Readers
    (WAL) are never blocked by it. MySQL's row locks need nothing more than a plain
    transaction.
    """
    with engine.connect() as conn:
        conn.execution_options(**{_WRITER: True})
        with conn.begin():
            yield conn


def is_busy(exc: OperationalError) -> bool:
    """SQLite's "database is locked" (another writer) or "busy" (a stale snapshot)."""
    message = str(exc.orig).lower()
    return "locked" in message or "busy" in message


def connection_lost(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached, so that the same work may
    succeed once it is back (as opposed to a statement it refused)."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    args = getattr(exc.orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in CONNECTION_LOST_CODES:
        return True
    message = str(exc.orig).lower()
    return any(text in message for text in SQLITE_LOST_MESSAGES)


def is_deadlock(exc: BaseException) -> bool:
    """MariaDB rolled the transaction back to let another go on: running it again is safe."""
    if not isinstance(exc, OperationalError):
        return False
    args: tuple[Any, ...] = getattr(exc.orig, "args", ())
    return bool(args) and args[0] in _DEADLOCK_CODES


def transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """`work` in a `writing` transaction, run again from the start (a few times, after a
    short random wait) when the database rolled it back to break a deadlock: writers
    of different parks' days may meet in an index gap, and neither should fail for it."""
    retrying = Retrying(
        retry=retry_if_exception(is_deadlock),
        stop=stop_after_attempt(DEADLOCK_ATTEMPTS),
        wait=wait_random(0.01, 0.2),
        before_sleep=lambda state: log.warning(
            "deadlock, trying again", extra={"attempt": state.attempt_number}
        ),
        reraise=True,
    )
    for attempt in retrying:
        with attempt, writing(engine) as conn:
            return work(conn)
    raise AssertionError("unreachable: tenacity reraises the last error")


def _mysql_engine(url: URL, pool_size: int, max_overflow: int, pool_recycle: int) -> Engine:
    if "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=pool_recycle,
        pool_pre_ping=True,
        # A server that drops packets rather than refusing them must not hold a job past
        # its deadline at connect; queries themselves are short.
        connect_args={"init_command": "SET time_zone = '+00:00'", "connect_timeout": 10},
    )
