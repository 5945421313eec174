"""`/api/health`: is the database there, and are collection, aggregation and the second
source (ThemeParks.wiki, for the paired parks) keeping up;
the same facts, judged the same way, as `themepark-tracker check` (`checks.py`).

200 when healthy or degraded (stale data is still worth serving), 503 when unhealthy
(no database, or nothing ever collected). Never cached.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, Response
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from themepark_tracker import checks
from themepark_tracker.api import schemas
from themepark_tracker.api.endpoints import tracker
from themepark_tracker.config import Settings
from themepark_tracker.storage.health import facts

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__, url_prefix="/api")


def limits(settings: Settings) -> checks.Limits:
    return checks.Limits(
        timedelta(minutes=settings.stale_collection_minutes),
        timedelta(hours=settings.stale_aggregation_hours),
        second_source=settings.themeparks_wiki_enabled,
    )


@bp.get("/health")
def health() -> Response:
    shared = tracker()
    now = shared.clock()
    settings = shared.settings
    try:
        with shared.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            found = facts(conn, timedelta(minutes=settings.collection_interval_minutes), now)
    except DBAPIError as exc:
        log.error("health: the database did not answer", exc_info=exc)
        results = [checks.Check("database", "failed", "the database did not answer")]
    else:
        results = [checks.Check("database", "ok", "reachable")]
        results += checks.judge(found, now, limits(settings))
    body = schemas.Health(
        status=checks.overall(results),
        checked_at=now,
        checks={
            check.name: schemas.Check(
                status=check.status, detail=check.detail, at=check.at, age_minutes=check.age_minutes
            )
            for check in results
        },
        history=shared.history() if shared.history else None,
    )
    response = Response(
        body.model_dump_json(),
        status=503 if body.status == "unhealthy" else 200,
        mimetype="application/json",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
