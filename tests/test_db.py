"""The engine set-up and the column types behave the same on both dialects."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, make_url, select, text
from sqlalchemy.exc import OperationalError, StatementError

from themepark_tracker.storage import db
from themepark_tracker.storage.db import make_engine, writing
from themepark_tracker.storage.tables import api_keys, parks, rides, status_changes
from themepark_tracker.storage.writes import upsert

NOW = datetime(2026, 7, 4, 15, 30, 12, 345678, tzinfo=UTC)


def _park(park_id: int = 6, name: str = "Disney Magic Kingdom") -> dict[str, object]:
    return {
        "id": park_id,
        "name": name,
        "operator": "Walt Disney Attractions",
        "operator_id": 2,
        "country": "United States",
        "continent": "North America",
        "latitude": 28.417663,
        "longitude": -81.581212,
        "timezone": "America/New_York",
        "first_seen_at": NOW,
        "last_seen_at": NOW,
        "updated_at": NOW,
    }


def test_datetimes_come_back_as_the_same_aware_utc_instant(engine: Engine) -> None:
    eastern = NOW.astimezone(timezone(timedelta(hours=-4)))
    with engine.begin() as conn:
        conn.execute(insert(parks), [{**_park(), "first_seen_at": eastern}])
        stored = conn.execute(select(parks.c.first_seen_at)).scalar_one()
    assert stored == NOW
    assert stored.tzinfo is UTC
    assert stored.microsecond == NOW.microsecond


def test_a_naive_datetime_is_refused(engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime"), engine.begin() as conn:
        conn.execute(insert(parks), [{**_park(), "first_seen_at": datetime(2026, 7, 4, 12)}])


def test_names_keep_every_character(engine: Engine) -> None:
    name = "Star Wars™: Rise of the Resistance® — “Ride” 'quoted' 🎢 "
    with engine.begin() as conn:
        conn.execute(insert(parks), [_park(name=name)])
        assert conn.execute(select(parks.c.name)).scalar_one() == name


def test_upsert_inserts_then_updates_without_duplicating(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert(conn, parks, [_park()], keys=["id"], update_columns=["name"])
        upsert(
            conn, parks, [_park(name="Magic Kingdom Park")], keys=["id"], update_columns=["name"]
        )
        rows = conn.execute(select(parks.c.id, parks.c.name)).all()
    assert rows == [(6, "Magic Kingdom Park")]


def test_upsert_of_nothing_writes_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert(conn, parks, [], keys=["id"], update_columns=["name"])
        assert conn.execute(select(parks.c.id)).all() == []


def test_autoincrement_ids_are_assigned(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(api_keys),
            [
                {"name": n, "key_prefix": n, "key_hash": n * 8, "created_at": NOW}
                for n in ("ab", "cd")
            ],
        )
        ids = conn.execute(select(api_keys.c.id).order_by(api_keys.c.name)).scalars().all()
    assert len(ids) == 2
    assert 0 < ids[0] < ids[1]


def test_a_failed_transaction_leaves_nothing_behind(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(insert(parks), [_park()])
        raise RuntimeError("interrupted")
    with engine.connect() as conn:
        assert conn.execute(select(parks.c.id)).all() == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    engine = make_engine(make_url(f"sqlite:///{tmp_path}/sub/dir/x.db"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    engine.dispose()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    from sqlalchemy.exc import IntegrityError

    from themepark_tracker.storage.tables import rides

    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            insert(rides),
            [
                {
                    "id": 1,
                    "park_id": 999,
                    "name": "Orphan",
                    "first_seen_at": NOW,
                    "last_seen_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database 'postgresql'"):
        make_engine(make_url("postgresql://localhost/x"))


@pytest.mark.backends("mysql")
def test_mysql_sessions_run_in_utc_with_utf8mb4_innodb_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT @@session.time_zone")).scalar() == "+00:00"
        assert conn.execute(text("SELECT @@character_set_client")).scalar() == "utf8mb4"
        rows = conn.execute(
            text(
                "SELECT table_name, engine, table_collation FROM information_schema.tables "
                "WHERE table_schema = DATABASE()"
            )
        ).all()
    assert rows
    for name, storage_engine, collation in rows:
        assert storage_engine == "InnoDB", name
        assert collation.startswith("utf8mb4"), name


@pytest.mark.backends("mysql")
def test_mysql_pool_is_configured_and_recycles_below_the_server_idle_timeout(
    engine: Engine,
) -> None:
    pool = engine.pool
    assert pool.size() == 10  # type: ignore[attr-defined]
    assert pool._max_overflow == 20  # type: ignore[attr-defined]
    assert pool._pre_ping is True
    with engine.connect() as conn:
        wait_timeout = conn.execute(text("SELECT @@wait_timeout")).scalar_one()
    assert pool._recycle == 3600 < int(wait_timeout)


def test_whole_second_times_come_back_aware_and_a_fraction_is_refused(engine: Engine) -> None:
    change = {
        "ride_id": 1,
        "park_id": 6,
        "to_state": "closed",
        "changed_at": NOW.replace(microsecond=0).astimezone(timezone(timedelta(hours=-4))),
    }
    with engine.begin() as conn:
        conn.execute(insert(parks), [_park()])
        conn.execute(
            insert(rides),
            [{"id": 1, "park_id": 6, "name": "Space Mountain", **_stamps()}],
        )
        conn.execute(insert(status_changes), [change])
        stored = conn.execute(select(status_changes.c.changed_at)).scalar_one()
    assert stored == NOW.replace(microsecond=0) and stored.tzinfo is UTC
    with pytest.raises(StatementError, match="fraction of a second"), engine.begin() as conn:
        conn.execute(insert(status_changes), [{**change, "changed_at": NOW}])


def _stamps() -> dict[str, datetime]:
    return {"first_seen_at": NOW, "last_seen_at": NOW, "updated_at": NOW}


def _sqlite(tmp_path: Path) -> Engine:
    engine = make_engine(make_url(f"sqlite:///{tmp_path / 'busy.db'}"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    return engine


def _increment(engine: Engine, pause: float = 0.0) -> None:
    """Read, think, write: the shape of every job's transaction."""
    with writing(engine) as conn:
        n = conn.execute(text("SELECT n FROM counter")).scalar_one()
        time.sleep(pause)
        conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})


def test_sqlite_writers_that_read_first_wait_for_each_other_and_lose_nothing(
    tmp_path: Path,
) -> None:
    engine = _sqlite(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        for done in [pool.submit(_increment, engine, 0.02) for _ in range(12)]:
            done.result()  # a deferred BEGIN fails here with "database is locked"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 12
    engine.dispose()


def test_sqlite_readers_are_not_blocked_by_a_writer(tmp_path: Path) -> None:
    engine = _sqlite(tmp_path)
    with writing(engine) as conn:
        conn.execute(text("UPDATE counter SET n = 5"))
        started = time.monotonic()
        with engine.connect() as reader:
            assert reader.execute(text("SELECT n FROM counter")).scalar_one() == 0
        assert time.monotonic() - started < 1.0
    engine.dispose()


def test_sqlite_writer_retries_a_busy_lock_a_bounded_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    engine = _sqlite(tmp_path)
    holder = threading.Thread(target=_increment, args=(engine, 0.25))
    holder.start()
    time.sleep(0.05)
    _increment(engine)  # waits 100 ms at most per try: the second or third try gets it
    holder.join()
    assert "database busy, trying again" in caplog.text
    holder = threading.Thread(target=_increment, args=(engine, 1.5))
    holder.start()
    time.sleep(0.05)
    with pytest.raises(OperationalError, match="locked"):
        _increment(engine)  # three tries of 100 ms, then the error
    holder.join()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 3
    engine.dispose()
