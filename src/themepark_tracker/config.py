"""Typed settings from the environment, a local `.env` and, in production, AWS SSM.

Precedence, highest first: process environment, SSM Parameter Store (only when
`ENVIRONMENT=production`), the `.env` file, the defaults below. A bad value fails
loudly, naming the setting and where it came from: a tracker running on a silently
wrong setting produces numbers nobody should trust.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from limits import parse_many
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from themepark_tracker import __version__
from themepark_tracker.catalogue import Scope
from themepark_tracker.engine.outages import Gates
from themepark_tracker.engine.sessions import DayRules
from themepark_tracker.engine.states import StateRules

ENV_FILE_VARIABLE = "ENV_FILE"
MASK = "********"
SECRET_SETTINGS = frozenset({"database_url", "db_password", "secret_key"})


class ConfigError(Exception):
    """A setting is missing, malformed, or its source cannot be read."""


class Settings(BaseModel):
    """Every setting, named as its environment variable in upper case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    environment: Literal["development", "test", "production"] = Field(
        "development", description="production reads SSM Parameter Store"
    )
    data_dir: Path = Field(Path("data"), description="where the embedded SQLite database lives")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<DATA_DIR>/tracker.db", repr=False
    )
    db_password: SecretStr | None = Field(
        None, description="password injected into DATABASE_URL (keep it out of the URL in SSM)"
    )
    db_pool_size: PositiveInt = Field(10, description="MySQL connection pool size")
    db_max_overflow: int = Field(20, ge=0, description="MySQL connections beyond the pool")
    db_pool_recycle_seconds: PositiveInt = Field(
        3600, description="recycle MySQL connections older than this (below wait_timeout)"
    )
    ssm_prefix: str = Field("/themeparkhall/", description="SSM parameter path in production")
    aws_region: str = Field("us-east-1", description="AWS region of the SSM parameters")
    queue_times_base_url: str = Field(
        "https://queue-times.com", description="Queue-Times API (or the local feed)"
    )
    themeparks_wiki_base_url: str = Field(
        "https://api.themeparks.wiki/v1",
        description="ThemeParks.wiki API, version included (or the local feed's /v1)",
    )
    themeparks_wiki_enabled: bool = Field(
        True, description="use ThemeParks.wiki as the second source (schedules, statuses)"
    )
    themeparks_wiki_concurrency: PositiveInt = Field(
        16,
        description="ThemeParks.wiki answers fetched at the same time, beside Queue-Times'",
    )
    themeparks_wiki_map_file: Path | None = Field(
        None,
        description="park and ride pairs by hand (CSV); default <DATA_DIR>/themeparks_wiki_map.csv",
    )
    park_continent: str = Field(
        "North America", description="default scope of sync-parks (Queue-Times continent)"
    )
    park_countries: str = Field(
        "", description="comma-separated countries to track instead of PARK_CONTINENT"
    )
    http_timeout_seconds: PositiveFloat = Field(10.0, description="timeout per HTTP request")
    user_agent: str = Field(
        f"themepark-tracker/{__version__} (ride reliability tracker; data by Queue-Times.com)",
        description="User-Agent sent to Queue-Times",
    )
    max_valid_wait: PositiveInt = Field(
        360, description="waits above this many minutes are invalid"
    )
    stale_after_minutes: PositiveInt = Field(
        60, description="an open reading older than this is unknown"
    )
    min_active_rides: PositiveInt = Field(
        2, description="rides open with a wait that make a poll active"
    )
    active_fresh_after_minutes: PositiveInt = Field(
        20, description="an open wait older than this does not make a poll active"
    )
    exclude_ride_patterns: str = Field(
        "single rider", description="comma-separated patterns of queue variants, not rides"
    )
    day_start: time = Field(
        time(4, 0), description="local time a park day starts (late nights stay in their day)"
    )
    bridge_minutes: PositiveInt = Field(
        120, description="observed inactivity that ends a run of active polls"
    )
    collection_interval_minutes: PositiveInt = Field(
        10, description="how often cron runs collect; a poll covers at most twice this"
    )
    park_wide_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="an outage is park-wide when this share of the rides open earlier is closed",
    )
    min_exposure_hours: float = Field(
        20.0, ge=0, description="up + down hours a period needs for its outage figures"
    )
    min_outages: PositiveInt = Field(
        5, description="ended outages a period needs for its median and P90 outage"
    )
    recovery_window_days: PositiveInt = Field(
        90, description="park days before today whose outages recovery estimates learn from"
    )
    min_recovery_outages: PositiveInt = Field(
        10, description="ended outages a pool needs to estimate a recovery"
    )
    collect_concurrency: PositiveInt = Field(8, description="parks fetched at the same time")
    collect_deadline_seconds: PositiveFloat = Field(
        300.0, description="a collection cycle stops waiting after this"
    )
    collect_attempts: PositiveInt = Field(3, description="tries per request (retries + 1)")
    retry_wait_seconds: PositiveFloat = Field(
        1.0, description="first backoff between tries; doubles, with jitter, up to 30 s"
    )
    catalogue_max_age_hours: PositiveFloat = Field(
        24.0, description="collect refreshes parks.json when older than this"
    )
    ride_absence_hours: PositiveFloat = Field(
        24.0, description="a ride missing from its park's feed this long becomes inactive"
    )
    collect_failure_threshold: float = Field(
        0.1, ge=0, le=1, description="share of parks that may fail before collect exits 3"
    )
    retention_hours: PositiveFloat = Field(
        24.0, description="cleanup keeps a day's raw polls this long after aggregate finalised it"
    )
    tier_overrides_file: Path | None = Field(
        None,
        description="manual tiers (CSV); default <DATA_DIR>/tier_overrides.csv",
    )
    classification_cache_file: Path | None = Field(
        None, description="JSON of earlier decisions; default <DATA_DIR>/classification.json"
    )
    lock_file: Path | None = Field(
        None, description="collect's lock; default <DATA_DIR>/collect.lock"
    )
    archive_dir: Path | None = Field(
        None, description="collect's own archive of every cycle; default <DATA_DIR>/archive"
    )
    archive_retention_days: PositiveInt = Field(
        7, description="collect deletes its archives older than this (never pending ones)"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="DEBUG, INFO, WARNING or ERROR"
    )
    log_format: Literal["json", "text"] = Field("json", description="json for jobs, text to read")
    api_auth: Literal["required", "disabled"] | None = Field(
        None, description="X-API-Key on /api; default required in production, else disabled"
    )
    api_rate_limits: str = Field(
        "100/hour;1000/day", description="requests allowed per API key (Flask-Limiter syntax)"
    )
    dashboard_rate_limits: str = Field(
        "120/minute;5000/day", description="requests allowed per address for the dashboard"
    )
    feed_rate_limits: str = Field(
        "60/minute;3000/day", description="Atom feed requests allowed per address"
    )
    auth_failure_limits: str = Field(
        "20/minute", description="failed keys or sessions per address before it must wait"
    )
    rate_limits_enabled: bool = Field(True, description="false turns every limit off")
    rate_limit_storage_url: str | None = Field(
        None, description="limits storage; default redis://127.0.0.1:6379 in production"
    )
    secret_key: SecretStr | None = Field(
        None, description="signs dashboard session cookies; required when API_AUTH=required"
    )
    cors_origins: str = Field("", description="comma-separated origins allowed to call /api")
    trusted_proxies: int = Field(
        0, ge=0, le=5, description="reverse proxies in front of the API (their X-Forwarded-*)"
    )
    stale_collection_minutes: PositiveInt = Field(
        15, description="health and check: the last collection may be this old"
    )
    stale_aggregation_hours: PositiveInt = Field(
        27, description="health and check: the last successful aggregate may be this old"
    )
    ping_url: str | None = Field(
        None,
        description="Healthchecks-style ping URL; jobs ping /start, success and /fail",
    )
    ping_per_job: bool = Field(
        True, description="ping <PING_URL>/<job> (one check per job) rather than PING_URL"
    )
    cloudwatch_namespace: str = Field(
        "", description="send job metrics to CloudWatch under this namespace; empty: off"
    )
    api_cache_entries: int = Field(
        256, ge=0, description="answers each API process keeps until the data changes"
    )

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("ssm_prefix")
    @classmethod
    def _prefix_is_a_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value if value.endswith("/") else value + "/"

    @field_validator("queue_times_base_url", "themeparks_wiki_base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _parses_as_a_url(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                make_url(value)
            except (ArgumentError, ValueError):
                # The parser's own message may quote part of the password: never pass it on.
                raise ValueError("not a SQLAlchemy database URL") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "api_rate_limits", "dashboard_rate_limits", "feed_rate_limits", "auth_failure_limits"
    )
    @classmethod
    def _parses_as_limits(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("not a rate limit such as '100/hour;1000/day'") from None
        return value

    @property
    def api_auth_required(self) -> bool:
        if self.api_auth is None:
            return self.environment == "production"
        return self.api_auth == "required"

    @property
    def rate_limit_storage(self) -> str:
        if self.rate_limit_storage_url:
            return self.rate_limit_storage_url
        return "redis://127.0.0.1:6379" if self.environment == "production" else "memory://"

    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    def state_rules(self) -> StateRules:
        return StateRules(
            max_valid_wait=self.max_valid_wait,
            stale_after=timedelta(minutes=self.stale_after_minutes),
            min_active_rides=self.min_active_rides,
            active_fresh_after=timedelta(minutes=self.active_fresh_after_minutes),
            exclude_ride_patterns=tuple(
                pattern.strip()
                for pattern in self.exclude_ride_patterns.split(",")
                if pattern.strip()
            ),
        )

    def day_rules(self) -> DayRules:
        return DayRules(
            day_start=self.day_start,
            interval=timedelta(minutes=self.collection_interval_minutes),
            bridge=timedelta(minutes=self.bridge_minutes),
            park_wide_share=self.park_wide_share,
        )

    def gates(self) -> Gates:
        return Gates(min_exposure_hours=self.min_exposure_hours, min_outages=self.min_outages)

    def scope(self) -> Scope:
        """The parks `collect` keeps in its catalogue; `sync-parks` options override it."""
        countries = tuple(c.strip() for c in self.park_countries.split(",") if c.strip())
        return Scope(countries=countries) if countries else Scope(continent=self.park_continent)

    @property
    def tier_overrides_path(self) -> Path:
        return self.tier_overrides_file or self.data_dir / "tier_overrides.csv"

    @property
    def themeparks_wiki_map_path(self) -> Path:
        return self.themeparks_wiki_map_file or self.data_dir / "themeparks_wiki_map.csv"

    @property
    def classification_cache_path(self) -> Path:
        return self.classification_cache_file or self.data_dir / "classification.json"

    @property
    def collect_lock_path(self) -> Path:
        return self.lock_file or self.data_dir / "collect.lock"

    @property
    def archive_path(self) -> Path:
        return self.archive_dir or self.data_dir / "archive"

    def database_url_object(self) -> URL:
        """The URL to connect with, password included; never print or log it."""
        if self.database_url:
            url = make_url(self.database_url)
        else:
            url = make_url(f"sqlite:///{(self.data_dir / 'tracker.db').resolve()}")
        if self.db_password is not None:
            url = url.set(password=self.db_password.get_secret_value())
        return url

    def database_url_masked(self) -> str:
        """The URL with its password hidden: what logs and `config show` may print."""
        url = self.database_url_object()
        secret_keys = [key for key in url.query if key.lower() in ("password", "passwd")]
        if secret_keys:
            url = url.update_query_dict({key: "***" for key in secret_keys})
        return url.render_as_string(hide_password=True)

    def source_of(self, name: str) -> str:
        """Where a setting's value came from: env, ssm, .env or default."""
        return self._sources.get(name, "default")

    def describe(self) -> list[tuple[str, str, str]]:
        """(NAME, printable value, source) for every setting, with secrets masked."""
        rows = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "database_url":
                shown = self.database_url_masked()
            elif isinstance(value, SecretStr):
                shown = MASK
            elif value is None:
                shown = ""
            else:
                shown = str(value)
            rows.append((name.upper(), shown, self.source_of(name)))
        return rows


SETTING_NAMES = {name.upper(): name for name in Settings.model_fields}

#: The settings that change how a number is counted (`state_rules`, `day_rules`): each is
#: stated, with its default, in docs/methodology.md, .env.example, the README and the
#: dashboard's About text, and a test holds them to the code. A new metric setting
#: belongs here.
METRIC_SETTINGS = (
    "MAX_VALID_WAIT",
    "STALE_AFTER_MINUTES",
    "MIN_ACTIVE_RIDES",
    "ACTIVE_FRESH_AFTER_MINUTES",
    "EXCLUDE_RIDE_PATTERNS",
    "DAY_START",
    "BRIDGE_MINUTES",
    "COLLECTION_INTERVAL_MINUTES",
    "PARK_WIDE_SHARE",
    "MIN_EXPOSURE_HOURS",
    "MIN_OUTAGES",
    "RECOVERY_WINDOW_DAYS",
    "MIN_RECOVERY_OUTAGES",
)

SsmReader = Callable[[str, str], dict[str, str]]


def read_ssm_parameters(prefix: str, region: str) -> dict[str, str]:
    """All parameters directly under `prefix`, decrypted, keyed by the name after it."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    path = prefix.rstrip("/") or "/"
    try:
        client = boto3.client("ssm", region_name=region)
        values: dict[str, str] = {}
        paginator = client.get_paginator("get_parameters_by_path")
        for page in paginator.paginate(Path=path, Recursive=False, WithDecryption=True):
            for parameter in page["Parameters"]:
                values[parameter["Name"][len(prefix) :]] = parameter["Value"]
        return values
    except (BotoCoreError, ClientError) as exc:
        raise ConfigError(f"cannot read SSM parameters under {prefix} in {region}: {exc}") from exc


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: str | Path | None = None,
    ssm_reader: SsmReader = read_ssm_parameters,
) -> Settings:
    """Collect settings from every source, then validate them once."""
    environ = os.environ if environ is None else environ
    named = env_file or environ.get(ENV_FILE_VARIABLE)
    env_file = Path(named or ".env")
    if named and not env_file.is_file():
        raise ConfigError(f"{ENV_FILE_VARIABLE}={named}: no such file")

    layers: list[tuple[str, Mapping[str, str | None]]] = []
    if env_file.is_file():
        layers.append((".env", dotenv_values(env_file)))
    layers.append(("env", environ))

    values, sources = _merge(layers)
    if values.get("environment") == "production":
        prefix = values.get("ssm_prefix") or Settings.model_fields["ssm_prefix"].default
        region = values.get("aws_region") or Settings.model_fields["aws_region"].default
        if not prefix.startswith("/"):
            source = sources.get("ssm_prefix", "default")
            raise ConfigError(f"setting SSM_PREFIX={prefix!r} (from {source}): must start with '/'")
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        ssm = ssm_reader(prefix, region)
        from_ssm, _ = _merge([("ssm", ssm)])
        for name, value in from_ssm.items():
            if sources.get(name) != "env":
                values[name], sources[name] = value, "ssm"

    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, sources)) from None
    settings._sources = sources
    return settings


def _merge(
    layers: list[tuple[str, Mapping[str, str | None]]],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Later layers win; empty values count as unset so `KEY=` in .env means default."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, mapping in layers:
        for key, value in mapping.items():
            name = SETTING_NAMES.get(key.upper()) if source != "env" else SETTING_NAMES.get(key)
            if name is None or value is None or value == "":
                continue
            values[name], sources[name] = value, source
    return values, sources


def _explain(error: ValidationError, sources: Mapping[str, str]) -> str:
    problems = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "?"
        shown = MASK if name in SECRET_SETTINGS else repr(item.get("input"))
        problems.append(
            f"setting {name.upper()}={shown} (from {sources.get(name, 'default')}): "
            + str(item["msg"]).removeprefix("Value error, ")
        )
    return "; ".join(problems)
