"""The `themepark-tracker` command line: each command parses its options and calls one function.

Exit codes: 0 done; 1 failed, nothing changed; 2 usage error; 3 partly done (some
input was skipped, the rest was stored).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from themepark_tracker import __version__
from themepark_tracker.catalogue import Scope
from themepark_tracker.config import ConfigError, Settings, load_settings
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.logs import configure_logging
from themepark_tracker.sources.queue_times import SourceError, fetch_json, read_json_file
from themepark_tracker.storage import migrate, queries
from themepark_tracker.storage.db import make_engine

EXIT_PARTIAL = 3

F = TypeVar("F", bound=Callable[..., Any])


class Runtime:
    """Settings and engine, made on first use so that `--help` works with a broken config."""

    def __init__(self, log_format: str | None, log_level: str | None) -> None:
        self._log_format = log_format
        self._log_level = log_level
        self._settings: Settings | None = None
        self._engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except ConfigError as exc:
                raise click.ClickException(f"configuration: {exc}") from None
            configure_logging(
                self._log_format or self._settings.log_format,
                self._log_level or self._settings.log_level,
            )
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            settings = self.settings
            try:
                url = settings.database_url_object()
                self._engine = make_engine(
                    url,
                    pool_size=settings.db_pool_size,
                    max_overflow=settings.db_max_overflow,
                    pool_recycle=settings.db_pool_recycle_seconds,
                )
            except (ConfigError, ValueError, ImportError, OSError) as exc:
                raise click.ClickException(
                    f"database {settings.database_url_masked()}: {exc}"
                ) from None
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


@contextmanager
def _database_errors(runtime: Runtime) -> Iterator[None]:
    """A database that is down or refuses a statement becomes one line, not a traceback."""
    try:
        yield
    except DBAPIError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise click.ClickException(
            f"database {runtime.settings.database_url_masked()}: {detail}"
        ) from None


def _uses_database(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        runtime = click.get_current_context().find_object(Runtime)
        assert runtime is not None
        with _database_errors(runtime):
            return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _now() -> datetime:
    return datetime.now(UTC)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="themepark-tracker")
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    help="Log lines as JSON (jobs, default) or as text to read. Overrides LOG_FORMAT.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Overrides LOG_LEVEL.",
)
@click.pass_context
def cli(ctx: click.Context, log_format: str | None, log_level: str | None) -> None:
    """Theme Park Downtime Tracker: ride reliability from Queue-Times.com data.

    Settings come from the environment, a .env file and, with ENVIRONMENT=production,
    AWS SSM Parameter Store; `themepark-tracker config show` lists them.
    """
    runtime = Runtime(log_format, log_level.upper() if log_level else None)
    ctx.obj = runtime
    ctx.call_on_close(runtime.close)


@cli.command("init-db")
@click.pass_obj
@_uses_database
def init_db(runtime: Runtime) -> None:
    """Create or upgrade the database schema to the latest migration; safe to repeat.

    Example: themepark-tracker init-db
    """
    before, after = migrate.upgrade(runtime.engine)
    where = runtime.settings.database_url_masked()
    if before == after:
        click.echo(f"{where}: schema already at revision {after}; nothing to do")
    else:
        click.echo(f"{where}: schema migrated from revision {before or 'none'} to {after}")


@cli.command("sync-parks")
@click.option(
    "--file",
    "file_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read parks.json from this file.",
)
@click.option("--url", help="Read parks.json from this URL (default: QUEUE_TIMES_BASE_URL).")
@click.option("--all", "all_parks", is_flag=True, help="Track parks on every continent.")
@click.option("--continent", help="Track parks of this continent (default: PARK_CONTINENT).")
@click.option(
    "--country", "countries", multiple=True, help="Track parks of this country; repeatable."
)
@click.pass_obj
@_uses_database
def sync_parks_command(
    runtime: Runtime,
    file_path: Path | None,
    url: str | None,
    all_parks: bool,
    continent: str | None,
    countries: tuple[str, ...],
) -> None:
    """Load the park catalogue (Queue-Times parks.json) and upsert the parks in scope.

    Parks that leave the catalogue or the scope become inactive; nothing is deleted.
    A park that cannot be read (missing field, unknown timezone) is reported and
    skipped; the others are synced and the exit code is 3.

    Example: themepark-tracker sync-parks --file parks.json --country Canada
    """
    if file_path and url:
        raise click.UsageError("give --file or --url, not both")
    if sum([all_parks, continent is not None, bool(countries)]) > 1:
        raise click.UsageError("give one of --all, --continent or --country")
    settings = runtime.settings
    if countries:
        scope = Scope(countries=countries)
    elif all_parks:
        scope = Scope()
    else:
        scope = Scope(continent=continent or settings.park_continent)
    try:
        if file_path:
            source = str(file_path)
            document = read_json_file(file_path)
        else:
            source = url or f"{settings.queue_times_base_url}/parks.json"
            document = fetch_json(
                source, timeout=settings.http_timeout_seconds, user_agent=settings.user_agent
            )
        report = sync_parks(runtime.engine, document, source=source, scope=scope, now=_now())
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.summary())
    with runtime.engine.connect() as conn:
        counts = queries.park_counts_by_operator(conn)
    for row in counts:
        click.echo(f"  {row.operator}: {row.active} active, {row.inactive} inactive")
    for problem in report.problems:
        click.echo(f"skipped: {problem}", err=True)
    if report.problems:
        raise SystemExit(EXIT_PARTIAL)


@cli.group("config")
def config_group() -> None:
    """Inspect the settings."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
@click.pass_obj
def config_show(runtime: Runtime, as_json: bool) -> None:
    """Print every setting, its value and where it came from; secrets are masked.

    Example: themepark-tracker config show
    """
    rows = runtime.settings.describe()
    if as_json:
        click.echo(
            json.dumps({name: {"value": value, "source": source} for name, value, source in rows})
        )
        return
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        click.echo(f"{name:<{width}}  {value}  ({source})")


def main() -> None:
    cli(prog_name="themepark-tracker")
