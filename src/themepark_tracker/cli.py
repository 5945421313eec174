"""The `themepark-tracker` command line: each command parses its options and calls one function.

Exit codes: 0 done; 1 failed, nothing changed; 2 usage error; 3 partly done (some
input was skipped or failed, or `collect` kept answers for a later cycle; the rest was
stored); 4 another collect is running.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from themepark_tracker import __version__, checks, deployment, monitoring, spool
from themepark_tracker.archive import ArchiveWriter, count_lines
from themepark_tracker.catalogue import SAMPLE_PARKS_FILE, Scope
from themepark_tracker.classify import ClassificationError, review_csv
from themepark_tracker.config import ConfigError, Settings, load_settings
from themepark_tracker.engine.periods import DEFAULT_PERIOD, PERIODS, dates_for
from themepark_tracker.engine.rankings import trend
from themepark_tracker.feed.model import FeedConfig, FeedModel, QuirkRates
from themepark_tracker.feed.recording import poll_instants, record_archive
from themepark_tracker.feed.server import Faults, FeedClock, make_server
from themepark_tracker.feed.wiki import WikiFeed
from themepark_tracker.jobs import export as export_job
from themepark_tracker.jobs.aggregate import aggregate, cleanup
from themepark_tracker.jobs.classify import classify_rides
from themepark_tracker.jobs.collect import AlreadyRunning, CollectError, collect_lock, run_collect
from themepark_tracker.jobs.import_archive import BATCH, ImportStopped, import_archives
from themepark_tracker.jobs.sync_parks import sync_parks
from themepark_tracker.jobs.wiki_map import map_sources
from themepark_tracker.logs import configure_logging
from themepark_tracker.sources.queue_times import SourceError, fetch_json, read_json_file
from themepark_tracker.storage import api_keys, backup, queries
from themepark_tracker.storage.db import make_engine, writing
from themepark_tracker.storage.health import facts as health_facts
from themepark_tracker.storage.statistics import park_sums, period_sums, scope
from themepark_tracker.wiki_mapping import MappingError
from themepark_tracker.wiki_mapping import review_csv as wiki_review_csv

EXIT_PARTIAL = 3
EXIT_LOCKED = 4

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


def _monitored(job: str) -> Callable[[F], F]:
    """Pings and metrics around a cron job (`monitoring.monitored`); the command reads
    its `JobOutcome` with `_outcome()` to add metrics or a message."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            context = click.get_current_context()
            runtime = context.find_object(Runtime)
            assert runtime is not None
            with monitoring.monitored(
                runtime.settings, job, ok_exit_codes=(EXIT_LOCKED,)
            ) as outcome:
                context.meta["outcome"] = outcome
                return command(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _outcome() -> monitoring.JobOutcome:
    found: monitoring.JobOutcome = click.get_current_context().meta["outcome"]
    return found


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
    from themepark_tracker.storage import migrate  # alembic: only this command needs it

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
    elif continent:
        scope = Scope(continent=continent)
    else:
        scope = settings.scope()
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


@cli.command("collect")
@click.option(
    "--archive",
    "archive_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also append every response and failure to this archive (.gz: gzip), besides "
    "the cycle's own in ARCHIVE_DIR.",
)
@click.pass_obj
@_monitored("collect")
@_uses_database
def collect_command(runtime: Runtime, archive_path: Path | None) -> None:
    """Run one collection cycle: every active park's queue times, stored as one poll each.

    Every answer is written to the cycle's own archive in ARCHIVE_DIR before it is
    stored. A dropped database connection is retried until COLLECT_DEADLINE_SECONDS;
    answers still not stored stay in the archive, marked pending, and the next cycle
    stores them before anything else. A database unreachable at the start: the parks of
    the last archived cycle are fetched and kept for the next. Archives older than
    ARCHIVE_RETENTION_DAYS are deleted, pending ones never.

    Meant for cron every COLLECTION_INTERVAL_MINUTES. Exits 0 when complete; 3 when
    partial: more than COLLECT_FAILURE_THRESHOLD of the parks failed, or answers wait in
    a pending archive for the database; 1 when nothing could be done (no catalogue, no
    active park, or the database unreachable with no archived cycle to name the parks);
    4 at once when another collect holds the lock.

    Example: themepark-tracker collect --archive /srv/copies/cycles.jsonl.gz
    """
    settings = runtime.settings
    try:
        with collect_lock(settings.collect_lock_path):
            archive = ArchiveWriter(archive_path) if archive_path else None
            try:
                report = run_collect(runtime.engine, settings, _now, archive)
            finally:
                if archive:
                    archive.close()
    except AlreadyRunning as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(EXIT_LOCKED) from None
    except (CollectError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.summary())
    _outcome().metrics.update(
        {
            "PollsStored": float(report.stored),
            "ParksFailed": float(report.failed),
            "AnswersNotStored": float(report.unstored),
            "ArchivesPending": float(report.pending_archives),
        }
    )
    _outcome().message = report.summary()
    code = report.exit_code(settings.collect_failure_threshold)
    if code:
        raise SystemExit(code)


@cli.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True)
)
@click.option("--strict", is_flag=True, help="Stop at the first bad line instead of skipping it.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=BATCH,
    show_default=True,
    help="Polls stored per transaction.",
)
@click.pass_obj
@_uses_database
def import_command(
    runtime: Runtime, files: tuple[Path, ...], strict: bool, batch_size: int
) -> None:
    """Import archives (plain or .gz) through the same validation and storage as collect.

    Importing the same archive twice changes nothing. A bad line is reported with its
    file and line number and skipped (exit 3), or stops the import with --strict (exit 1).

    Example: themepark-tracker import archive/2026-07-*.jsonl.gz
    """
    try:
        if sys.stderr.isatty():
            with click.progressbar(
                length=sum(count_lines(path) for path in files), label="importing", file=sys.stderr
            ) as bar:
                report = import_archives(
                    runtime.engine,
                    files,
                    runtime.settings,
                    strict=strict,
                    batch=batch_size,
                    progress=bar.update,
                )
        else:
            report = import_archives(
                runtime.engine, files, runtime.settings, strict=strict, batch=batch_size
            )
    except ImportStopped as exc:
        raise click.ClickException(f"stopped at a bad line: {exc}") from None
    except MappingError as exc:  # read when the archive holds ThemeParks.wiki answers
        raise click.ClickException(str(exc)) from None
    click.echo(report.summary())
    for day in report.late_days()[:20]:
        click.echo(f"late for a closed day (not stored): {day}", err=True)
    for where in report.bad_lines[:20]:
        click.echo(f"bad line: {where}", err=True)
    if report.bad_lines:
        raise SystemExit(EXIT_PARTIAL)


@cli.command("aggregate")
@click.pass_obj
@_monitored("aggregate")
@_uses_database
def aggregate_command(runtime: Runtime) -> None:
    """Finalise every completed park day that is not final yet; safe to run at any time.

    Exits 3 when some park day failed (logged in aggregation_log; the others are done).

    Example: themepark-tracker aggregate
    """
    report = aggregate(runtime.engine, runtime.settings, _now())
    click.echo(
        f"{report.days} park days finalised, {report.failures} failed, "
        f"{report.rows} rows, {report.pools} recovery pools prepared, "
        f"{report.duration_seconds:.1f} s"
    )
    _outcome().metrics.update(
        {"DaysFinalised": float(report.days), "DaysFailed": float(report.failures)}
    )
    if report.failures:
        raise SystemExit(EXIT_PARTIAL)


@cli.command("cleanup")
@click.pass_obj
@_monitored("cleanup")
@_uses_database
def cleanup_command(runtime: Runtime) -> None:
    """Delete raw polls of park days final for RETENTION_HOURS or longer; nothing else.

    Example: themepark-tracker cleanup
    """
    report = cleanup(runtime.engine, runtime.settings, _now())
    click.echo(f"{report.rows} polls deleted from {report.days} final park days")


@cli.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object for monitoring.")
@click.option(
    "--max-age",
    type=click.IntRange(1),
    help="Minutes the last collection may be old (default: STALE_COLLECTION_MINUTES).",
)
@click.option(
    "--min-parks",
    type=click.IntRange(0),
    help="Parks the last collection must reach (default: every active park).",
)
@click.pass_obj
@_monitored("check")
@_uses_database
def check_command(
    runtime: Runtime, as_json: bool, max_age: int | None, min_parks: int | None
) -> None:
    """The dead-man's switch: exit 1 with one line when collection is stale, fewer parks
    answered than expected, daily aggregation is behind, an archive of `collect` has been
    pending for two collection intervals, ARCHIVE_DIR cannot be written, or the paired
    parks' ThemeParks.wiki answers are stale; exit 0 when all is well.

    The same facts as /api/health. Meant for cron every 15 minutes, with PING_URL.

    Example: themepark-tracker check --max-age 15
    """
    settings, now = runtime.settings, _now()
    with runtime.engine.connect() as conn:
        found = health_facts(conn, timedelta(minutes=settings.collection_interval_minutes), now)
    limits = checks.Limits(
        timedelta(minutes=max_age or settings.stale_collection_minutes),
        timedelta(hours=settings.stale_aggregation_hours),
        min_parks,
        settings.themeparks_wiki_enabled,
    )
    results = checks.judge(found, now, limits)
    interval = timedelta(minutes=settings.collection_interval_minutes)
    results.append(checks.judge_archive(spool.facts(settings.archive_path), now, interval))
    status = checks.overall(results)
    problems = [f"{c.name}: {c.detail}" for c in results if c.status != "ok"]
    line = f"{status.upper()}: " + ("; ".join(problems) or "; ".join(c.detail for c in results))
    ages = {f"{c.name.capitalize()}AgeMinutes": c.age_minutes for c in results}
    _outcome().metrics.update({k: v for k, v in ages.items() if v is not None})
    _outcome().message = line
    if as_json:
        click.echo(
            json.dumps(
                {
                    "status": status,
                    "checked_at": now.isoformat(),
                    "checks": {
                        c.name: {
                            "status": c.status,
                            "detail": c.detail,
                            "at": None if c.at is None else c.at.isoformat(),
                            "age_minutes": c.age_minutes,
                        }
                        for c in results
                    },
                }
            )
        )
    else:
        click.echo(line, err=status != "healthy")
    if status != "healthy":
        raise SystemExit(1)


@cli.command("backup")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
@_monitored("backup")
@_uses_database
def backup_command(runtime: Runtime, path: Path) -> None:
    """Write a consistent copy of the database to PATH (.gz: compressed) while it runs:
    SQLite's online backup, or mysqldump --single-transaction.

    Example: themepark-tracker backup /var/backups/tracker/$(date +%F).sql.gz
    """
    try:
        backup.backup(runtime.engine, path)
    except (backup.BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup of {runtime.settings.database_url_masked()} written to {path}")


@cli.command("export")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--format", "fmt", type=click.Choice(export_job.FORMATS), default="csv")
@click.option("-o", "--output", type=click.Path(path_type=Path, file_okay=False), required=True)
@click.pass_obj
@_uses_database
def export_command(
    runtime: Runtime, first: datetime, last: datetime, fmt: str, output: Path
) -> None:
    """Write the daily ride and park statistics and the outages of the local dates FROM to
    TO (at most 366 days) into OUTPUT, with a README of their columns and sources.

    Example: themepark-tracker export --from 2026-07-01 --to 2026-07-31 -o july/
    """
    try:
        written = export_job.export_days(
            runtime.engine, first.date(), last.date(), output, fmt, _now()
        )
    except export_job.ExportError as exc:
        raise click.BadParameter(str(exc)) from None
    click.echo("\n".join(str(path) for path in written))


@cli.command("restore")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_obj
@_uses_database
def restore_command(runtime: Runtime, path: Path) -> None:
    """Load a backup made by `backup` into the configured database, which must be empty.

    Example: themepark-tracker restore /var/backups/tracker/2026-07-04.sql.gz
    """
    try:
        backup.restore(runtime.engine, path)
    except (backup.BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{path} restored into {runtime.settings.database_url_masked()}")


def _layout_options(command: F) -> F:
    """Where things live on the host; every path is made absolute."""
    options = [
        click.option("--app-dir", type=click.Path(path_type=Path), help="Default: here."),
        click.option("--venv", type=click.Path(path_type=Path), help="Default: this one."),
        click.option(
            "--log-dir", type=click.Path(path_type=Path), help="Default: <DATA_DIR>/logs."
        ),
        click.option(
            "--lock-dir", type=click.Path(path_type=Path), help="Default: <DATA_DIR>/locks."
        ),
        click.option(
            "--env-file",
            type=click.Path(path_type=Path),
            help="Settings file (ENV_FILE); default: <app dir>/.env when there is one.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _layout(runtime: Runtime, given: dict[str, Path | None], **more: Any) -> deployment.Layout:
    app_dir = (given.pop("app_dir") or Path.cwd()).absolute()
    data_dir = runtime.settings.data_dir
    data_dir = data_dir if data_dir.is_absolute() else app_dir / data_dir
    return deployment.Layout(
        app_dir=app_dir,
        venv=(given.pop("venv") or Path(sys.prefix)).absolute(),
        data_dir=data_dir,
        log_dir=(given.pop("log_dir") or data_dir / "logs").absolute(),
        lock_dir=(given.pop("lock_dir") or data_dir / "locks").absolute(),
        env_file=None if (env_file := given.pop("env_file")) is None else env_file.absolute(),
        **more,
    )


@cli.command("cron")
@click.option("--print", "action", flag_value="print", default=True, help="Print the lines.")
@click.option("--install", "action", flag_value="install", help="Put them in your crontab.")
@click.option(
    "--limits",
    type=click.Choice(["auto", "systemd", "nice", "none"]),
    default="auto",
    show_default=True,
    help="How collect is held to CPUQuota=25%, MemoryMax=512M, IOWeight=50 "
    "(auto: systemd where it runs, else nice/ionice).",
)
@click.option(
    "--user",
    help="Run every job as this account (install into root's crontab): the collector's "
    "systemd scope with --uid, the others through runuser.",
)
@click.option("--crontab", "crontab_program", default="crontab", show_default=True, hidden=True)
@_layout_options
@click.pass_obj
def cron_command(
    runtime: Runtime,
    /,
    action: str,
    limits: str,
    user: str | None,
    crontab_program: str,
    **paths: Path | None,
) -> None:
    """The crontab: collect every 10 minutes (under resource limits),
    aggregate hourly at :10, cleanup daily, check every 15 minutes; each under
    flock -n, output appended to its log. --install replaces only our own lines.

    Example: themepark-tracker cron --install --log-dir /var/log/themepark-tracker
    """
    if limits == "auto":
        limits = "systemd" if Path("/run/systemd/system").is_dir() and os.geteuid() == 0 else "nice"
    layout = _layout(runtime, dict(paths))
    block = deployment.crontab(layout, limits, user)
    if action == "print":
        click.echo(block, nl=False)
        return
    for directory in (layout.log_dir, layout.lock_dir):
        directory.mkdir(parents=True, exist_ok=True)
    current = subprocess.run(  # noqa: S603 - the crontab program, our own arguments
        [crontab_program, "-l"], capture_output=True, text=True, check=False
    )
    existing = current.stdout if current.returncode == 0 else ""
    installed = subprocess.run(  # noqa: S603
        [crontab_program, "-"],
        input=deployment.merge_crontab(existing, block),
        capture_output=True,
        text=True,
        check=False,
    )
    if installed.returncode:
        raise click.ClickException(f"crontab: {installed.stderr.strip()}")
    click.echo(f"crontab: {len(block.splitlines()) - 2} jobs installed (limits: {limits})")


@cli.group("deploy")
def deploy_group() -> None:
    """Files for a host: logrotate, the API's systemd unit, Apache, the dashboard."""


@deploy_group.command("files")
@click.option("-o", "--output", type=click.Path(path_type=Path, file_okay=False), required=True)
@click.option("--server-name", default="tracker.example.com", show_default=True)
@click.option("--user", default="tracker", show_default=True, help="The account jobs run as.")
@click.option(
    "--web-root", type=click.Path(path_type=Path), default=Path("/var/www/themepark-tracker")
)
@_layout_options
@click.pass_obj
def deploy_files(
    runtime: Runtime,
    /,
    output: Path,
    server_name: str,
    user: str,
    web_root: Path,
    **paths: Path | None,
) -> None:
    """Write logrotate.conf, themepark-tracker-api.service and apache-vhost.conf for this
    layout into OUTPUT.

    Example: themepark-tracker deploy files -o deploy/ --app-dir /opt/themepark-tracker
    """
    layout = _layout(runtime, dict(paths), server_name=server_name, user=user, web_root=web_root)
    where = output if output.is_absolute() else layout.app_dir / output
    layout = dataclasses.replace(layout, wsgi_file=where / "themepark-tracker.wsgi")
    for path in deployment.write_files(layout, output):
        click.echo(f"wrote {path}")


@deploy_group.command("web")
@click.argument("output", type=click.Path(path_type=Path, file_okay=False))
def deploy_web(output: Path) -> None:
    """Write the dashboard into OUTPUT as Apache's DocumentRoot: index.html and
    static/<hash>/.

    Example: themepark-tracker deploy web /var/www/themepark-tracker
    """
    click.echo(f"dashboard written to {deployment.write_web_root(output)}")


@cli.command("classify")
@click.option("--review", is_flag=True, help="Print low-confidence rides as an overrides CSV.")
@click.pass_obj
@_uses_database
def classify_command(runtime: Runtime, review: bool) -> None:
    """Decide every ride's tier and category (shows, meet-and-greets are not rides).

    Order: TIER_OVERRIDES_FILE, then CLASSIFICATION_CACHE_FILE, then keyword rules.
    The collector decides a ride it sees for the first time the same way; run this
    after editing the overrides.

    Example: themepark-tracker classify --review > review.csv. Fill in the tiers,
    delete the rows left undecided (a row is a decision, even with no tier) and copy
    the rest into TIER_OVERRIDES_FILE, under a header with the category column; a new
    file takes review.csv's header. Never redirect into the overrides file: the shell
    empties it before it is read.
    """
    settings = runtime.settings
    try:
        report = classify_rides(
            runtime.engine, settings.tier_overrides_path, settings.classification_cache_path
        )
    except (ClassificationError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if review:
        click.echo(review_csv(report.decisions), nl=False)
        return
    sources = ", ".join(f"{n} {source}" for source, n in sorted(report.sources.items()))
    click.echo(f"{report.rides} rides classified ({sources or 'none'}), {report.changed} changed")


@cli.group("sources")
def sources_group() -> None:
    """The second source, ThemeParks.wiki: which of its parks and rides ours are."""


@sources_group.command("map")
@click.option(
    "--review", is_flag=True, help="Print the pairs a person should check as an overrides CSV."
)
@click.pass_obj
@_uses_database
def sources_map_command(runtime: Runtime, review: bool) -> None:
    """Pair every tracked park and ride with its ThemeParks.wiki park and entity.

    Parks: the shipped table under THEMEPARKS_WIKI_MAP_FILE; 14 of its 49 rows are
    name matches nobody verified, used only once confirmed there. Rides: by
    normalised name within their park; a single-rider queue pairs with its ride.
    Changed pairs are logged and apply from now on: nothing collected before is
    rewritten. Exit 3 when a park could not be read (its stored pairs are kept).

    Example: themepark-tracker sources map --review > review.csv. Keep, change or
    empty themeparks_wiki_id (empty turns the source off for that park or ride), keep
    the rows you decided and copy them into THEMEPARKS_WIKI_MAP_FILE.
    """
    try:
        report = map_sources(runtime.engine, runtime.settings, _now())
    except MappingError as exc:
        raise click.ClickException(str(exc)) from None
    if review:
        click.echo(wiki_review_csv(report.unverified, report.rides, report.names), nl=False)
    else:
        click.echo(report.summary())
    for failure in report.failures:
        click.echo(f"not mapped: {failure}", err=True)
    if report.failures:
        raise SystemExit(EXIT_PARTIAL)


@cli.command("rankings")
@click.option(
    "--period",
    type=click.Choice(PERIODS),
    default=DEFAULT_PERIOD,
    show_default=True,
    help="Each park's own dates, in its own timezone.",
)
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First local date.")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last local date.")
@click.option("--rides", "by_ride", is_flag=True, help="Rank rides instead of parks.")
@click.option(
    "--filter",
    "operators",
    type=click.Choice(["all", "disney-universal"]),
    default="all",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.pass_obj
@_uses_database
def rankings_command(
    runtime: Runtime,
    period: str,
    first: datetime | None,
    last: datetime | None,
    by_ride: bool,
    operators: str,
    limit: int,
) -> None:
    """Print the Hall of Shame: parks (or rides) ranked over a period, worst first.

    Example: themepark-tracker rankings --period last_7_days --filter disney-universal
    """
    if (first is None) != (last is None):
        raise click.UsageError("give both --from and --to, or neither")
    if first is not None and last is not None and last < first:
        raise click.BadParameter("--to must not be before --from", param_hint="--to")
    span = None if first is None or last is None else (first.date(), last.date())
    dates_of = dates_for(_now(), runtime.settings.day_rules(), period, span)
    with runtime.engine.connect() as conn:
        asked = scope(conn, dates_of, disney_universal_only=operators == "disney-universal")
        if by_ride:
            for rank, ride in enumerate(period_sums(conn, asked, limit=limit), 1):
                uptime = _pct(ride.totals.uptime_pct)
                click.echo(
                    f"{rank:>3}. {ride.name} ({ride.park.name}), tier {ride.tier or '-'}: "
                    f"{ride.totals.downtime_hours:.1f} h down, uptime {uptime}, "
                    f"{ride.downtime_events} closures, trend {_pct(trend(ride))}"
                )
            return
        for rank, park in enumerate(park_sums(conn, asked)[:limit], 1):
            shame = park.totals.shame_score
            click.echo(
                f"{rank:>3}. {park.name}: shame {'-' if shame is None else f'{shame:.2f}'}, "
                f"{park.totals.downtime_hours:.1f} h down, uptime {_pct(park.totals.uptime_pct)}, "
                f"{park.rides_with_downtime}/{park.rides_tracked} rides with downtime, "
                f"{park.park.first} to {park.park.last}"
            )
    click.echo("Data: Queue-Times.com (https://queue-times.com)")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


def _web_server() -> tuple[Any, Any]:
    """waitress and the API, imported by the commands that serve: they take half a
    second to import, which every cron job (collect, every ten minutes) would pay."""
    import waitress

    from themepark_tracker.api import create_app

    return waitress, create_app


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Requests answered at once; the rest queue. Python computes on one core per "
    "process, so more threads only share it, and an answer computed anew (after a job's "
    "write) waits for all of them.",
)
@click.pass_obj
def serve_command(runtime: Runtime, host: str, port: int, threads: int) -> None:
    """Serve the API with waitress, a production WSGI server; Ctrl-C stops it.

    Example: themepark-tracker serve --host 127.0.0.1 --port 8000
    """
    waitress, create_app = _web_server()
    try:
        app = create_app(runtime.settings, runtime.engine)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"API on http://{host}:{port}/api (docs: http://{host}:{port}/api/docs)")
    waitress.serve(app, host=host, port=port, threads=threads, ident="themepark-tracker")


@cli.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--days", type=click.IntRange(1, 90), default=30, show_default=True, help="History to simulate."
)
@click.option(
    "--collect-every",
    type=click.IntRange(1, 3600),
    default=60,
    show_default=True,
    help="Seconds between collection cycles against the local feed.",
)
@click.pass_obj
@_uses_database
def demo_command(runtime: Runtime, host: str, port: int, days: int, collect_every: int) -> None:
    """Serve the dashboard at once, build weeks of simulated history behind it, then run
    the local feed and a collector against it.

    The first run fills the history in the background (the dashboard shows how far it
    has got); later runs reuse the database and only fill the time since their last
    poll. Ctrl-C stops everything.

    Example: themepark-tracker demo --port 8000
    """
    from themepark_tracker import demo  # with the web server: see `_web_server`

    waitress, create_app = _web_server()
    settings = runtime.settings
    model = FeedModel(read_json_file(SAMPLE_PARKS_FILE))
    build = demo.prepare(runtime.engine, settings, _now(), days)
    try:
        app = create_app(settings, runtime.engine, history=build.status if build else None)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if build is None:
        click.echo("history: already up to date")
    else:
        click.echo(
            f"history: building {build.cycles} cycles from {build.start:%Y-%m-%d %H:%M} UTC"
            " in the background (progress on the dashboard and in /api/health)"
        )
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    with demo.running_demo(
        runtime.engine,
        settings,
        model,
        _now,
        timedelta(seconds=collect_every),
        build,
        announce=click.echo,
    ) as feed_url:
        click.echo(f"local feed: {feed_url} (collected every {collect_every} s)")
        click.echo(f"dashboard:  http://{host}:{port}/   (Ctrl-C stops everything)")
        try:
            waitress.serve(app, host=host, port=port, threads=4, ident="themepark-tracker")
        except KeyboardInterrupt:
            pass
    click.echo("demo stopped")


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM (kill, systemd) stops the demo as Ctrl-C does."""
    raise KeyboardInterrupt


@cli.group("api-key")
def api_key_group() -> None:
    """Create, list and revoke the keys `/api` asks for when API_AUTH=required."""


@api_key_group.command("create")
@click.argument("name")
@click.pass_obj
@_uses_database
def api_key_create(runtime: Runtime, name: str) -> None:
    """Print a new key once: only its hash is stored.

    Example: themepark-tracker api-key create "status page"
    """
    try:
        with writing(runtime.engine) as conn:
            key, record = api_keys.create_key(conn, name, _now())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    click.echo(f"key {record.id} ({record.name}): {key}")
    click.echo("Keep it now: it cannot be shown again.", err=True)


@api_key_group.command("list")
@click.pass_obj
@_uses_database
def api_key_list(runtime: Runtime) -> None:
    """Every key: id, prefix, name, created, last used, revoked.

    Example: themepark-tracker api-key list
    """
    with runtime.engine.connect() as conn:
        keys = api_keys.list_keys(conn)
    for key in keys:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        click.echo(
            f"{key.id:>4}  {key.key_prefix}…  {key.name}  created {key.created_at:%Y-%m-%d %H:%M}"
            f"  last used {used}  {state}"
        )
    if not keys:
        click.echo("no keys; create one with: themepark-tracker api-key create NAME")


@api_key_group.command("revoke")
@click.argument("key_id", type=int)
@click.pass_obj
@_uses_database
def api_key_revoke(runtime: Runtime, key_id: int) -> None:
    """Revoke key KEY_ID (from `api-key list`) at once; it cannot be undone.

    Example: themepark-tracker api-key revoke 3
    """
    with writing(runtime.engine) as conn:
        if not api_keys.revoke_key(conn, key_id, _now()):
            raise click.ClickException(f"no active key {key_id}")
    click.echo(f"key {key_id} revoked")


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


# --- the local feed ---------------------------------------------------------------------


def _utc_time(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """`2026-07-04T16:00:00Z`, any ISO 8601 time with an offset, or a date (00:00 UTC)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time such as 2026-07-04T16:00:00Z"
        ) from None
    if moment.tzinfo is None:
        if len(value) != 10:
            raise click.BadParameter(f"{value!r} has no timezone: add Z for UTC")
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _duration(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    """A length of time such as `10m`, `90s` or `1h`."""
    match = re.fullmatch(r"([0-9]+)([smh])", value.strip())
    if not match or int(match.group(1)) == 0:
        raise click.BadParameter(f"{value!r} is not a positive duration such as 10m, 90s or 1h")
    return timedelta(seconds=int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)])


QUIRK_NAMES = [f.name for f in dataclasses.fields(QuirkRates) if isinstance(f.default, float)]


def _feed_model(catalogue: Path, seed: int, quirks: tuple[str, ...]) -> FeedModel:
    rates: dict[str, Any] = {}
    for item in quirks:
        name, _, rate = item.partition("=")
        if name not in QUIRK_NAMES:
            raise click.BadParameter(
                f"unknown quirk {name!r}; known: {', '.join(QUIRK_NAMES)}", param_hint="--quirk"
            )
        try:
            rates[name] = float(rate)
        except ValueError:
            raise click.BadParameter(
                f"{item!r}: the rate is not a number", param_hint="--quirk"
            ) from None
        if not 0 <= rates[name] <= 1:
            raise click.BadParameter(f"{item!r}: a rate is between 0 and 1", param_hint="--quirk")
    try:
        document = read_json_file(catalogue)
        quirk_rates = dataclasses.replace(QuirkRates(), **rates)
        return FeedModel(document, FeedConfig(seed=seed, quirks=quirk_rates))
    except (SourceError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _model_options(command: F) -> F:
    command = click.option(
        "--quirk",
        "quirks",
        multiple=True,
        metavar="NAME=RATE",
        help=f"Change how often a quirk of the real feed appears; repeatable. "
        f"Names: {', '.join(QUIRK_NAMES)}.",
    )(command)
    command = click.option("--seed", type=int, default=42, show_default=True, help="World seed.")(
        command
    )
    return click.option(
        "--catalogue",
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        default=SAMPLE_PARKS_FILE,
        help="parks.json of the simulated world (default: the shipped sample).",
    )(command)


@cli.group("feed")
def feed_group() -> None:
    """A local Queue-Times-compatible feed of simulated parks, for demos and tests."""


@feed_group.command("serve")
@_model_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback only.")
@click.option("--port", type=int, default=8765, show_default=True)
@click.option(
    "--start", callback=_utc_time, help="Simulated time when the server starts (default: now)."
)
@click.option(
    "--speed", type=float, default=1.0, show_default=True, help="Simulated seconds per real second."
)
@click.option("--latency-ms", type=float, default=0.0, help="Delay added to every answer.")
@click.option("--error-rate", type=float, default=0.0, help="Share of answers that are HTTP 500.")
@click.option("--timeout-rate", type=float, default=0.0, help="Share of requests never answered.")
@click.option(
    "--malformed-rate", type=float, default=0.0, help="Share of answers with broken JSON."
)
@click.option(
    "--rate-limit-rate",
    type=float,
    default=0.0,
    help="Share of answers that are 429 with Retry-After.",
)
@click.option(
    "--missing-park",
    "missing_parks",
    type=int,
    multiple=True,
    help="A park id that answers 404; repeatable.",
)
@click.option(
    "--poison-rate",
    type=float,
    default=0.0,
    help="Share of park answers with one hostile ride beside the normal ones (huge id, "
    "lone surrogate in the name, 5000-character name, deep nesting, 40-digit wait).",
)
def feed_serve(
    catalogue: Path,
    seed: int,
    quirks: tuple[str, ...],
    host: str,
    port: int,
    start: datetime | None,
    speed: float,
    latency_ms: float,
    error_rate: float,
    timeout_rate: float,
    malformed_rate: float,
    rate_limit_rate: float,
    missing_parks: tuple[int, ...],
    poison_rate: float,
) -> None:
    """Serve /parks.json and /parks/{id}/queue_times.json on loopback until Ctrl-C, and
    the same parks as ThemeParks.wiki under /v1 (destinations, children, live, schedule).

    Example: themepark-tracker feed serve --port 8765 --speed 60 --error-rate 0.05
    """
    model = _feed_model(catalogue, seed, quirks)
    try:
        faults = Faults(
            seed=seed,
            latency_ms=latency_ms,
            error_rate=error_rate,
            timeout_rate=timeout_rate,
            malformed_rate=malformed_rate,
            rate_limit_rate=rate_limit_rate,
            missing_parks=frozenset(missing_parks),
            poison_rate=poison_rate,
        )
        clock = FeedClock(start or _now(), speed)
        server = make_server(model, clock, faults, host=host, port=port, wiki=WikiFeed(model))
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Serving {len(model.parks)} simulated parks (seed {seed}) at {server.base_url}; "
        f"clock {clock.now():%Y-%m-%dT%H:%M:%SZ} x{speed:g}. Ctrl-C stops."
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()


@feed_group.command("archive")
@_model_options
@click.option("--from", "start", callback=_utc_time, required=True, help="First cycle (UTC).")
@click.option("--to", "end", callback=_utc_time, required=True, help="End, exclusive (UTC).")
@click.option("--interval", callback=_duration, default="10m", show_default=True)
@click.option("--park", "park_ids", type=int, multiple=True, help="Only this park; repeatable.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Archive file (JSON Lines; gzip when it ends in .gz); appended to if it exists.",
)
def feed_archive(
    catalogue: Path,
    seed: int,
    quirks: tuple[str, ...],
    start: datetime,
    end: datetime,
    interval: timedelta,
    park_ids: tuple[int, ...],
    output: Path,
) -> None:
    """Write what a collector polling the simulated feed every INTERVAL would have fetched.

    Example: themepark-tracker feed archive --from 2026-07-01 --to 2026-07-08 -o week.jsonl.gz
    """
    if end <= start:
        raise click.BadParameter("--to must be after --from", param_hint="--to")
    model = _feed_model(catalogue, seed, quirks)
    cycles = sum(1 for _ in poll_instants(start, end, interval))
    try:
        with click.progressbar(length=cycles, label="cycles", file=sys.stderr) as bar:
            written = record_archive(
                model, output, start, end, interval, park_ids or None, progress=bar.update
            )
    except (ValueError, OSError) as exc:
        raise click.ClickException(f"{output}: {exc}") from None
    click.echo(f"{output}: {written} records, {cycles} cycles from {start:%Y-%m-%dT%H:%M:%SZ}")


@feed_group.command("truth")
@_model_options
@click.option("--park", "park_id", type=int, required=True)
@click.option("--from", "start", callback=_utc_time, required=True)
@click.option("--to", "end", callback=_utc_time, required=True)
@click.option("-o", "--output", type=click.File("w"), default="-", help="Default: stdout.")
def feed_truth(
    catalogue: Path,
    seed: int,
    quirks: tuple[str, ...],
    park_id: int,
    start: datetime,
    end: datetime,
    output: Any,
) -> None:
    """Print the true operating hours and ride open intervals of a simulated park, as JSON,
    with what its ThemeParks.wiki feed says of them (published hours, refurbishment
    days, the intervals a ride's status is DOWN).

    Example: themepark-tracker feed truth --park 6 --from 2026-07-04 --to 2026-07-05
    """
    if end <= start:
        raise click.BadParameter("--to must be after --from", param_hint="--to")
    model = _feed_model(catalogue, seed, quirks)
    if park_id not in model.parks:
        raise click.BadParameter(f"no park {park_id} in the catalogue", param_hint="--park")
    json.dump(WikiFeed(model).truth(park_id, start, end), output, ensure_ascii=False, indent=1)
    output.write("\n")


def main() -> None:
    cli(prog_name="themepark-tracker")
