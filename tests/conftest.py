"""Fixtures shared by the whole suite.

Database tests run once per backend: SQLite always, MariaDB/MySQL whenever
TEST_MYSQL_URL names a server (`make test` sets it when MariaDB answers). With
REQUIRE_MYSQL=1 (CI) a missing or unreachable server fails the run instead of
silently leaving the MySQL half of the suite out.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, delete, make_url, text
from sqlalchemy.engine import URL

from themepark_tracker.config import ENV_FILE_VARIABLE, SETTING_NAMES
from themepark_tracker.storage import migrate
from themepark_tracker.storage.db import make_engine
from themepark_tracker.storage.tables import metadata

MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "")
REQUIRE_MYSQL = os.environ.get("REQUIRE_MYSQL", "") not in ("", "0")
BACKENDS = ["sqlite", "mysql"] if MYSQL_URL else ["sqlite"]


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_MYSQL and not MYSQL_URL:
        raise pytest.UsageError(
            "REQUIRE_MYSQL=1 but TEST_MYSQL_URL is not set: MariaDB did not answer"
        )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        wanted = [b for b in BACKENDS if marker is None or b in marker.args]
        metafunc.parametrize("backend", wanted, scope="session")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """For the parallel run: tests marked `backend_group(name)` go to one worker per
    backend (that worker builds their data once; the other backend's runs beside it),
    and tests marked `heavy` are handed out first, so that none of them starts last and
    runs alone while the other workers sit idle."""
    for item in items:
        group = item.get_closest_marker("backend_group")
        if group is not None:
            callspec = getattr(item, "callspec", None)
            backend = callspec.params.get("backend", "") if callspec is not None else ""
            item.add_marker(pytest.mark.xdist_group(f"{group.args[0]}-{backend}"))
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call" and outcome != "error":
                continue
            for backend in ("sqlite", "mysql"):
                if f"[{backend}" in report.nodeid or f"-{backend}]" in report.nodeid:
                    per = counts.setdefault(backend, {})
                    per[outcome] = per.get(outcome, 0) + 1
    for backend, per in sorted(counts.items()):
        parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(per.items()))
        terminalreporter.write_line(f"database tests on {backend}: {parts}")
    shots = Path(__file__).parents[1] / "build" / "screenshots"
    if shots.is_dir() and any(shots.iterdir()):
        terminalreporter.write_line(f"dashboard screenshots: {shots}")


@pytest.fixture(scope="session")
def mysql_server() -> Iterator[URL]:
    """A throwaway database on the MySQL server for this session, dropped at the end."""
    server = make_url(MYSQL_URL)
    name = f"tpt_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    except Exception as exc:  # any failure here means the MySQL half cannot run
        admin.dispose()
        pytest.fail(f"MySQL at {server.render_as_string()} unusable: {exc}", pytrace=False)
    yield server.set(database=name)
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[URL]:
    """A database with no tables at all, for migration tests."""
    if backend == "sqlite":
        yield make_url(f"sqlite:///{tmp_path / 'empty.db'}")
        return
    server: URL = request.getfixturevalue("mysql_server")
    name = f"{server.database}_e{uuid.uuid4().hex[:6]}"
    admin = create_engine(server)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    yield server.set(database=name)
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


@pytest.fixture(scope="session")
def _mysql_migrated(request: pytest.FixtureRequest, backend: str) -> Iterator[Engine | None]:
    if backend != "mysql":
        yield None
        return
    engine = make_engine(request.getfixturevalue("mysql_server"))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite file at the latest migration, made once per worker: each test
    starts from a copy (a millisecond) instead of running every migration again."""
    path = tmp_path_factory.mktemp("migrated") / "tracker.db"
    made = make_engine(make_url(f"sqlite:///{path}"))
    migrate.upgrade(made)
    made.dispose()  # the last connection closed: the WAL is folded into the file
    return path


@pytest.fixture
def engine(
    backend: str, tmp_path: Path, _mysql_migrated: Engine | None, _sqlite_migrated: Path
) -> Iterator[Engine]:
    """An engine on an empty, fully migrated database of the backend under test."""
    if _mysql_migrated is not None:
        with _mysql_migrated.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(delete(table))
        yield _mysql_migrated
        return
    shutil.copyfile(_sqlite_migrated, tmp_path / "tracker.db")
    sqlite_engine = make_engine(make_url(f"sqlite:///{tmp_path / 'tracker.db'}"))
    yield sqlite_engine
    sqlite_engine.dispose()


@pytest.fixture
def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's environment or .env: each starts from defaults."""
    for name in [*SETTING_NAMES, ENV_FILE_VARIABLE]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """Commands configure logging on the root logger; put back what was there (minus pytest's)."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    alembic = logging.getLogger("alembic")
    alembic_level = alembic.level
    yield
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler and handler not in before:
            root.removeHandler(handler)
            handler.close()
    for handler in before:
        if not type(handler).__module__.startswith("_pytest") and handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    alembic.setLevel(alembic_level)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


#: This run's name, the same in every xdist worker (they inherit the environment of the
#: process that starts them): it names what the workers build once and share.
RUN = os.environ.setdefault("TPT_TEST_RUN", uuid.uuid4().hex[:10])
SHARED = Path(tempfile.gettempdir()) / f"tpt-test-{RUN}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In the process that started the run (not a worker): drop what the workers shared."""
    if hasattr(session.config, "workerinput"):
        return
    shutil.rmtree(SHARED, ignore_errors=True)
    if MYSQL_URL:
        admin = create_engine(make_url(MYSQL_URL))
        with admin.begin() as conn:
            for label in SHARED_LABELS:
                conn.execute(text(f"DROP DATABASE IF EXISTS tpt_{label}_{RUN}"))
        admin.dispose()


#: The databases `shared_database` may build.
SHARED_LABELS = ("api", "filled", "outages")


@contextmanager
def _exclusive(name: str) -> Iterator[None]:
    """Held by one worker of the run at a time."""
    SHARED.mkdir(exist_ok=True)
    with (SHARED / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def shared_file(name: str, make: Callable[[Path], object]) -> Path:
    """A file made by `make` once per run, whichever worker asks first."""
    path = SHARED / name
    with _exclusive(name):
        if not path.exists():
            partial = SHARED / f"{name}.partial"
            make(partial)
            partial.rename(path)
    return path


def shared_database(backend: str, label: str, fill: Callable[[Engine, Path], None]) -> Engine:
    """A migrated database filled by `fill` once per run and backend, whichever worker
    asks first (the others wait for it), then shared read-only by every worker: a loaded
    database costs seconds to build, and each of the run's workers would build its own."""
    assert label in SHARED_LABELS
    if backend == "sqlite":
        url = make_url(f"sqlite:///{SHARED / f'{label}.db'}")
    else:
        url = make_url(MYSQL_URL).set(database=f"tpt_{label}_{RUN}")
    done = SHARED / f"{label}-{backend}.done"
    with _exclusive(f"{label}-{backend}"):
        if not done.exists():
            if backend == "mysql":
                admin = create_engine(make_url(MYSQL_URL))
                with admin.begin() as conn:
                    conn.execute(text(f"CREATE DATABASE {url.database} CHARACTER SET utf8mb4"))
                admin.dispose()
            engine = make_engine(url)
            migrate.upgrade(engine)
            workdir = SHARED / f"{label}-{backend}"
            workdir.mkdir()
            fill(engine, workdir)
            done.touch()
            return engine
    return make_engine(url)


def copy_rows(source: Engine, target: Engine) -> None:
    """Every row of every table from `source` into the empty, migrated `target`, copied
    inside the database (the same server, or an attached file): a loaded database made
    once, handed to each test as its own."""
    with target.connect() as conn:
        if target.dialect.name == "sqlite":
            conn.exec_driver_sql("ATTACH DATABASE ? AS loaded", (source.url.database,))
            conn.commit()
            schema = "loaded"
        else:
            schema = str(source.url.database)
        quote = target.dialect.identifier_preparer.quote
        for table in metadata.sorted_tables:
            name = quote(table.name)
            conn.exec_driver_sql(f"INSERT INTO {name} SELECT * FROM {quote(schema)}.{name}")
        conn.commit()
        if target.dialect.name == "sqlite":
            conn.exec_driver_sql("DETACH DATABASE loaded")
            conn.commit()


@pytest.fixture(scope="session")
def api_engine(backend: str) -> Iterator[Engine]:
    """A database loaded once with the API tests' simulated days (`api_fixtures.load_days`)
    and shared by the run's workers: tests read it, and one that must change it changes
    its own copy (`copy_rows` into `engine`); only API keys are added, which no other
    test of it reads."""
    from api_fixtures import load_days

    engine = shared_database(backend, "api", load_days)
    yield engine
    engine.dispose()


REDIS_URL = "redis://127.0.0.1:6379"
REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS", "") not in ("", "0")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the real Redis, removed afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if REQUIRE_REDIS:
            pytest.fail(f"REQUIRE_REDIS=1 but Redis at {REDIS_URL} does not answer")
        pytest.skip(f"Redis at {REDIS_URL} does not answer")
    prefix = f"tpt_test_{uuid.uuid4().hex[:8]}"
    yield prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()
