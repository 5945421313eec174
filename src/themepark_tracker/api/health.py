"""`/api/health`: is the database there, and are collection and aggregation keeping up.

200 when healthy or degraded (stale data is still worth serving), 503 when unhealthy
(no database, or nothing ever collected). Never cached.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from themepark_tracker.api import schemas
from themepark_tracker.api.endpoints import tracker
from themepark_tracker.storage.health import Freshness, freshness

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__, url_prefix="/api")


def _utc(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


def _age(at: datetime | None, now: datetime) -> float | None:
    return None if at is None else round((now - at).total_seconds() / 60, 1)


def checks(
    found: Freshness, now: datetime, stale: timedelta, behind: timedelta
) -> dict[str, schemas.Check]:
    collected, aggregated = _utc(found.last_collection_at), _utc(found.last_aggregation_at)
    if collected is None:
        collection = schemas.Check(status="failed", detail="nothing collected yet")
    elif now - collected > stale:
        collection = schemas.Check(
            status="warning",
            detail=f"last collection older than {stale.total_seconds() / 60:.0f} min",
            at=collected,
            age_minutes=_age(collected, now),
        )
    else:
        collection = schemas.Check(
            status="ok" if found.parks_in_last_collection >= found.active_parks else "warning",
            detail=f"{found.parks_in_last_collection} of {found.active_parks} parks answered",
            at=collected,
            age_minutes=_age(collected, now),
        )
    if aggregated is None or now - aggregated > behind:
        aggregation = schemas.Check(
            status="warning",
            detail="no successful aggregate yet"
            if aggregated is None
            else f"last aggregate older than {behind.total_seconds() / 3600:.0f} h",
            at=aggregated,
            age_minutes=_age(aggregated, now),
        )
    else:
        aggregation = schemas.Check(
            status="ok", detail="aggregate ran", at=aggregated, age_minutes=_age(aggregated, now)
        )
    return {"collection": collection, "aggregation": aggregation}


@bp.get("/health")
def health() -> Response:
    shared = tracker()
    now = shared.clock()
    settings = shared.settings
    try:
        with shared.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            found = freshness(conn, timedelta(minutes=settings.collection_interval_minutes))
    except DBAPIError as exc:
        log.error("health: the database did not answer", exc_info=exc)
        results = {"database": schemas.Check(status="failed", detail="the database did not answer")}
    else:
        results = {"database": schemas.Check(status="ok", detail="reachable")}
        results.update(
            checks(
                found,
                now,
                timedelta(minutes=settings.stale_collection_minutes),
                timedelta(hours=settings.stale_aggregation_hours),
            )
        )
    states = {check.status for check in results.values()}
    status = "unhealthy" if "failed" in states else "degraded" if "warning" in states else "healthy"
    body = schemas.Health(status=status, checked_at=now, checks=results)  # type: ignore[arg-type]
    response = Response(
        body.model_dump_json(),
        status=503 if status == "unhealthy" else 200,
        mimetype="application/json",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
