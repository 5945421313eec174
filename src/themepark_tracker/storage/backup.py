"""Backups a running tracker can take, and restores into an empty database.

SQLite: the online backup API, a consistent copy while collect keeps writing. MySQL:
`mysqldump --single-transaction`, a consistent InnoDB snapshot without locking the
tables; restored with the `mysql` client. The password goes to the clients through
MYSQL_PWD, never on a command line where `ps` would show it.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL


class BackupError(Exception):
    """A backup or restore that could not be made; nothing was overwritten."""


def _open(path: Path, mode: str) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "b")  # type: ignore[return-value]
    return path.open(mode + "b")


def _client(name: str) -> str:
    for candidate in (name, name.replace("mysql", "mariadb")):
        found = shutil.which(candidate)
        if found:
            return found
    raise BackupError(f"{name} is not installed (Debian: mariadb-client)")


def _mysql_arguments(url: URL) -> tuple[list[str], dict[str, str]]:
    arguments = [f"--host={url.host or '127.0.0.1'}", f"--port={url.port or 3306}"]
    if url.username:
        arguments.append(f"--user={url.username}")
    environ = dict(os.environ)
    if url.password:
        environ["MYSQL_PWD"] = str(url.password)
    return arguments, environ


def backup(engine: Engine, path: Path) -> None:
    """Write a consistent copy of the database to `path` (`.gz`: compressed)."""
    if path.exists():
        raise BackupError(f"{path} exists; choose a new file")
    if engine.dialect.name == "sqlite" and not Path(str(engine.url.database)).is_file():
        raise BackupError(f"there is no database at {engine.url.database}")
    if not inspect(engine).get_table_names():
        raise BackupError("the database has no tables: is DATABASE_URL (or ENV_FILE) right?")
    partial = path.with_name(f".partial-{path.name}")  # same suffix: same compression
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_backup(engine, partial)
        else:
            arguments, environ = _mysql_arguments(engine.url)
            with _open(partial, "w") as out:
                dump = subprocess.Popen(  # noqa: S603 - fixed program, our own arguments
                    [
                        _client("mysqldump"),
                        *arguments,
                        "--single-transaction",
                        "--quick",
                        "--routines",
                        "--default-character-set=utf8mb4",
                        str(engine.url.database),
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=environ,
                )
                assert dump.stdout is not None
                shutil.copyfileobj(dump.stdout, out)
                _, errors = dump.communicate()
            if dump.returncode:
                raise BackupError(f"mysqldump: {errors.decode().strip()}")
        partial.rename(path)
    finally:
        partial.unlink(missing_ok=True)


def _sqlite_backup(engine: Engine, target: Path) -> None:
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        if target.suffix == ".gz":
            plain = target.with_suffix("")
            copy = sqlite3.connect(plain)
            try:
                source.backup(copy)
            finally:
                copy.close()
            with plain.open("rb") as data, gzip.open(target, "wb") as out:
                shutil.copyfileobj(data, out)
            plain.unlink()
        else:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
    finally:
        raw.close()


def restore(engine: Engine, path: Path) -> None:
    """Load a backup into the database, which must have no tables."""
    if not path.is_file():
        raise BackupError(f"{path}: no such backup")
    tables = inspect(engine).get_table_names()
    if tables:
        raise BackupError(
            f"the database already has {len(tables)} tables; restore into an empty one"
        )
    if engine.dialect.name == "sqlite":
        with _open(path, "r") as data:
            content = data.read()
        staged = Path(str(engine.url.database) + ".restoring")
        staged.write_bytes(content)
        try:
            backup_db = sqlite3.connect(staged)
            raw = engine.raw_connection()
            try:
                target = raw.driver_connection
                assert isinstance(target, sqlite3.Connection)
                backup_db.backup(target)
            finally:
                raw.close()
                backup_db.close()
        finally:
            staged.unlink(missing_ok=True)
        engine.dispose()
        return
    arguments, environ = _mysql_arguments(engine.url)
    with _open(path, "r") as data:
        loaded = subprocess.run(  # noqa: S603 - fixed program, our own arguments
            [
                _client("mysql"),
                *arguments,
                "--default-character-set=utf8mb4",
                str(engine.url.database),
            ],
            stdin=data if path.suffix != ".gz" else None,
            input=data.read() if path.suffix == ".gz" else None,
            capture_output=True,
            env=environ,
            check=False,
        )
    if loaded.returncode:
        raise BackupError(f"mysql: {loaded.stderr.decode().strip()}")
