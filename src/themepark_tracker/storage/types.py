"""Column types shared by the table definitions and the migrations.

Migrations import these, so their behaviour must stay stable once released.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Autoincrement ids: BIGINT on MySQL, but SQLite only auto-increments INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in code, a naive UTC value in the database.

    Refusing naive datetimes on the way in keeps local times out of the database: a
    naive value is exactly the bug (a local clock, a lost offset) we must not store.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class UTCSeconds(TypeDecorator[datetime]):
    """An aware UTC time to the whole second, for the tables that grow for ever.

    Poll times are whole seconds, and so is everything derived from them. SQLite keeps an
    integer (4 bytes, where `UTCDateTime` writes 26 characters of text); MySQL keeps a
    DATETIME without fraction (5 bytes instead of 8). A fraction given is refused, not
    silently dropped.
    """

    impl = Integer
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=0))
        return dialect.type_descriptor(Integer())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware UTC time")
        if value.microsecond:
            raise ValueError(
                f"{value.isoformat()} has a fraction of a second; this column has none"
            )
        utc = value.astimezone(UTC)
        if dialect.name == "mysql":
            return utc.replace(tzinfo=None)
        return int(utc.timestamp())

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC)
        return datetime.fromtimestamp(int(value), UTC)
