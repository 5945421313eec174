"""`/api/live`: how many rides are running, down, closed or unknown right now, and which
are down, with when they may be back."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint

from themepark_tracker.api import present, schemas
from themepark_tracker.api.endpoints import Ask, endpoint
from themepark_tracker.api.params import FilterQuery
from themepark_tracker.catalogue import is_disney_or_universal
from themepark_tracker.engine.recovery import minutes_down
from themepark_tracker.storage import details, queries
from themepark_tracker.storage.outages import rides_down
from themepark_tracker.storage.pools import RideInPool

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


@endpoint(
    bp,
    "/down",
    query=FilterQuery,
    response=schemas.DownRidesResponse,
    tag="live",
    summary="Rides down now, with when they may be back",
)
def down(ask: Ask, params: FilterQuery) -> schemas.DownRidesResponse:
    """Every ride down now (closed after opening in today's session, as of its park's
    latest fresh poll), longest first, with its recovery estimate."""
    only = params.filter == "disney-universal"
    operators = {info.id: info.operator for info in details.park_infos(ask.conn)}
    down_now = [
        ride
        for ride in rides_down(ask.conn, ask.now - timedelta(days=1))
        if present.live_status(ask, "down", ride.live_at) == "down"
        and (not only or is_disney_or_universal(operators.get(ride.park_id, "")))
    ]
    minutes = {
        ride.ride_id: minutes_down(ride.started_at, ask.now)
        for ride in down_now
        if ride.started_at is not None
    }
    known = [
        present.DownFor(
            RideInPool(ride.ride_id, ride.park_id, ride.tier),
            ride.timezone,
            minutes[ride.ride_id],
            ride.park_wide,
        )
        for ride in down_now
        if ride.ride_id in minutes
    ]
    estimates = dict(
        zip(
            (d.ride.ride_id for d in known),
            present.back_soon(ask, known, curves=False),
            strict=True,
        )
    )
    found = [
        schemas.DownRide(
            ride_id=ride.ride_id,
            name=ride.name,
            park_id=ride.park_id,
            park_name=ride.park_name,
            tier=ride.tier,
            down_since=ride.started_at,
            down_for_minutes=present.rounded(minutes.get(ride.ride_id), 1),
            park_wide=ride.park_wide,
            recovery=estimates.get(ride.ride_id),
            queue_times_url=present.ride_url(ride.park_id, ride.ride_id),
        )
        for ride in down_now
    ]
    found.sort(key=lambda row: (row.down_for_minutes is None, -(row.down_for_minutes or 0)))
    return schemas.DownRidesResponse(meta=present.meta(ask, params), data=found)
