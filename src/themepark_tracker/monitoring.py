"""Telling the outside world how jobs went: Healthchecks-style pings around every job
(`/start`, success, `/fail`) and, optionally, CloudWatch custom metrics.

Monitoring must never be why a job fails: a ping or a metric that cannot be sent is
logged and forgotten.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests

from themepark_tracker.config import Settings

log = logging.getLogger(__name__)
PING_TIMEOUT_SECONDS = 5.0


@dataclass
class JobOutcome:
    """What the job says of itself: `ok` false makes the ping a `/fail`; metrics are
    sent as CloudWatch values."""

    ok: bool = True
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)


def ping(settings: Settings, job: str, suffix: str = "", body: str = "") -> None:
    base = settings.ping_url
    if not base:
        return
    url = f"{base.rstrip('/')}/{job}{suffix}" if settings.ping_per_job else f"{base}{suffix}"
    try:
        response = requests.post(
            url,
            data=body.encode()[:10_000],
            timeout=PING_TIMEOUT_SECONDS,
            headers={"User-Agent": settings.user_agent},
        )
        response.raise_for_status()
    except requests.RequestException as exc:
        # The URL holds the check's key: name the failure, never the address.
        status = exc.response.status_code if exc.response is not None else None
        log.warning(
            "ping failed", extra={"job": job, "error": type(exc).__name__, "status": status}
        )


def put_metrics(settings: Settings, job: str, values: dict[str, float]) -> None:
    namespace = settings.cloudwatch_namespace
    if not namespace or not values:
        return
    import boto3  # only where metrics are on: it takes a fifth of a second to import

    try:
        client: Any = boto3.client("cloudwatch", region_name=settings.aws_region)
        client.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {"MetricName": name, "Dimensions": [{"Name": "Job", "Value": job}], "Value": value}
                for name, value in values.items()
            ],
        )
    except Exception as exc:  # botocore raises many kinds; none may stop a job
        log.warning("CloudWatch metric failed", extra={"job": job, "error": str(exc)})


@contextmanager
def monitored(
    settings: Settings, job: str, ok_exit_codes: tuple[int, ...] = ()
) -> Iterator[JobOutcome]:
    """Ping `/start`, run the job, then ping success or `/fail` and send its metrics
    (`Succeeded`, `DurationSeconds` and the job's own). An exception, or an exit with a
    code other than 0 and `ok_exit_codes`, is a failure; it is raised again."""
    outcome = JobOutcome()
    started = time.monotonic()
    ping(settings, job, "/start")
    try:
        yield outcome
    except SystemExit as exc:
        if exc.code not in (0, None, *ok_exit_codes):
            outcome.ok = False
            outcome.message = outcome.message or f"exit code {exc.code}"
        raise
    except BaseException as exc:
        outcome.ok, outcome.message = False, f"{type(exc).__name__}: {exc}"
        raise
    finally:
        ping(settings, job, "" if outcome.ok else "/fail", outcome.message)
        put_metrics(
            settings,
            job,
            {
                "Succeeded": 1.0 if outcome.ok else 0.0,
                "DurationSeconds": round(time.monotonic() - started, 3),
                **outcome.metrics,
            },
        )
