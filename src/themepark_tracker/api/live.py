"""`/api/live/summary`: how many rides are running, down, closed or unknown right now."""

from __future__ import annotations

from flask import Blueprint

from themepark_tracker.api import present, schemas
from themepark_tracker.api.endpoints import Ask, endpoint
from themepark_tracker.api.params import FilterQuery
from themepark_tracker.catalogue import is_disney_or_universal
from themepark_tracker.storage import details, queries

bp = Blueprint("live", __name__, url_prefix="/api/live")


@endpoint(
    bp,
    "/summary",
    query=FilterQuery,
    response=schemas.LiveSummaryResponse,
    tag="live",
    summary="Rides running, down, closed and unknown now",
)
def summary(ask: Ask, params: FilterQuery) -> schemas.LiveSummaryResponse:
    """From each park's latest poll; a park not polled within two collection intervals
    counts its rides as unknown."""
    park_ids = None
    if params.filter == "disney-universal":
        park_ids = [
            info.id
            for info in details.park_infos(ask.conn)
            if is_disney_or_universal(info.operator)
        ]
    found = queries.live_summary(
        ask.conn, ask.now, ask.day_rules.max_gap, park_ids=park_ids, rules=ask.state_rules
    )
    return schemas.LiveSummaryResponse(
        meta=present.meta(ask, params),
        data=schemas.LiveSummary(
            running=found.running,
            down=found.down,
            closed=found.closed,
            unknown=found.unknown,
            parks_open=found.parks_open,
            parks=found.parks,
        ),
    )
