"""`/api/rides`: ride rankings, ride waits, and a ride's page."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint

from themepark_tracker.api import present, schemas
from themepark_tracker.api.endpoints import Ask, endpoint
from themepark_tracker.api.errors import ApiError
from themepark_tracker.api.params import (
    MAX_ID,
    OutagesQuery,
    RecoveryQuery,
    RideDetailQuery,
    RideRankingQuery,
    RideWaitQuery,
)
from themepark_tracker.catalogue import is_disney_or_universal
from themepark_tracker.engine.outages import period_outages
from themepark_tracker.engine.recovery import minutes_down
from themepark_tracker.engine.sessions import day_bounds
from themepark_tracker.storage import details, queries
from themepark_tracker.storage.outages import ongoing_outage, outage_lengths_by_ride, outages_of
from themepark_tracker.storage.pools import RideInPool
from themepark_tracker.storage.statistics import period_sums

bp = Blueprint("rides", __name__, url_prefix="/api/rides")


@endpoint(
    bp,
    "/downtime",
    query=RideRankingQuery,
    response=schemas.RideRankingsResponse,
    tag="rides",
    summary="Ride rankings",
)
def downtime(ask: Ask, params: RideRankingQuery) -> schemas.RideRankingsResponse:
    """Rides that ran in the period, by downtime (or `sort`), worst first."""
    ranked = period_sums(
        ask.conn,
        present.scope(ask, params, params.park),
        sort=params.sort,
        descending=params.order == "desc",
        limit=params.limit,
        min_exposure_minutes=ask.gates.min_exposure_hours * 60,
    )
    return schemas.RideRankingsResponse(
        meta=present.meta(ask, params, sort=params.sort, order=params.order, limit=params.limit),
        data=present.ride_rankings(ask, ranked),
    )


@endpoint(
    bp,
    "/waittimes",
    query=RideWaitQuery,
    response=schemas.RideWaitsResponse,
    tag="wait times",
    summary="Rides by wait time",
)
def waittimes(ask: Ask, params: RideWaitQuery) -> schemas.RideWaitsResponse:
    """Live: the wait each running ride posts now. Average and peak: over the period.
    Longest first."""
    only = params.filter == "disney-universal"
    rows: list[schemas.RideWait] = []
    if params.mode == "live":
        park_ids = [
            info.id
            for info in details.park_infos(ask.conn, params.park)
            if info.is_active and (not only or is_disney_or_universal(info.operator))
        ]
        waits = queries.live_waits(
            ask.conn, ask.now, ask.day_rules.max_gap, park_ids=park_ids, rules=ask.state_rules
        )
        rows = [
            schemas.RideWait(
                rank=rank,
                ride_id=wait.ride_id,
                name=wait.name,
                park_id=wait.park_id,
                park_name=wait.park_name,
                wait_minutes=wait.wait,
                at=wait.at,
                queue_times_url=present.ride_url(wait.park_id, wait.ride_id),
            )
            for rank, wait in enumerate(waits[: params.limit], 1)
        ]
    else:
        sort = "avg_wait" if params.mode == "average" else "peak_wait"
        ranked = period_sums(
            ask.conn, present.scope(ask, params, params.park), sort=sort, limit=params.limit
        )
        with_wait = present.with_period_wait(ranked, params.mode)
        rows = [
            schemas.RideWait(
                rank=rank,
                ride_id=ride.ride_id,
                name=ride.name,
                park_id=ride.park_id,
                park_name=ride.park.name,
                wait_minutes=round(wait, 1),
                at=None,
                queue_times_url=present.ride_url(ride.park_id, ride.ride_id),
            )
            for rank, (ride, wait) in enumerate(with_wait, 1)
        ]
    return schemas.RideWaitsResponse(
        meta=present.meta(ask, params, limit=params.limit), mode=params.mode, data=rows
    )


@endpoint(
    bp,
    "/<int:ride_id>",
    query=RideDetailQuery,
    response=schemas.RideDetailResponse,
    tag="rides",
    summary="A ride's page",
    not_found=True,
)
def ride_detail(ask: Ask, params: RideDetailQuery, ride_id: int) -> schemas.RideDetailResponse:
    """The ride's figures for the period, its daily history, and for one day (`date`,
    default the period's last day the park operated) its operating session, open/closed
    flips and posted waits."""
    ride = _ride(ask, ride_id)
    park = details.park_infos(ask.conn, ride.park_id)[0]
    asked = present.scope(ask, params, ride.park_id, filtered=False)
    first, last = asked.ranges[ride.park_id]
    ranked = period_sums(ask.conn, asked, ride_id=ride_id)
    operated = details.sessions(ask.conn, ride.park_id, first, last)
    day = params.day or (operated[-1].park_date if operated else last)
    start, end = day_bounds(day, ZoneInfo(park.timezone), ask.day_rules)
    session = [row for row in operated if row.park_date == day] or details.sessions(
        ask.conn, ride.park_id, day, day
    )
    return schemas.RideDetailResponse(
        meta=present.meta(ask, params),
        data=schemas.RideDetail(
            ride=schemas.Ride(
                ride_id=ride.id,
                name=ride.name,
                park_id=park.id,
                park_name=park.name,
                park_timezone=park.timezone,
                land=ride.land_name,
                tier=ride.tier,
                tier_source=ride.tier_source,
                category=ride.category,
                live_status=present.live_status(ask, ride.live_status, park.live_at),  # type: ignore[arg-type]
                is_active=ride.is_active,
                queue_times_url=present.ride_url(park.id, ride.id),
            ),
            figures=(
                present.figures(first, last, ranked[0].totals, ranked[0].previous)
                if ranked
                else None
            ),
            downtime_events=ranked[0].downtime_events if ranked else 0,
            reliability=present.reliability(
                period_outages(outage_lengths_by_ride(ask.conn, {ride_id: (first, last)})[ride_id]),
                ranked[0].totals if ranked else None,
                ask.gates,
            ),
            longest_downtime_minutes=round(ranked[0].longest_downtime_minutes, 1)
            if ranked
            else 0.0,
            history=[
                schemas.RideDay(
                    date=row.stat_date,
                    tier=row.tier,
                    uptime_pct=present.uptime(row.uptime_minutes, row.downtime_minutes),
                    downtime_hours=round(row.downtime_minutes / 60, 2),
                    downtime_events=row.downtime_events,
                    longest_downtime_minutes=round(row.longest_downtime_minutes, 1),
                    avg_wait=present.rounded(row.avg_wait, 1),
                    peak_wait=row.peak_wait,
                    final=bool(row.is_final),
                )
                for row in details.ride_history(ask.conn, ride_id, first, last)
            ],
            timeline=schemas.Timeline(
                date=day,
                session=present.session(session[0]) if session else None,
                changes=[
                    schemas.StatusChange(
                        at=change.changed_at,
                        from_state=change.from_state,  # type: ignore[arg-type]
                        to_state=change.to_state,  # type: ignore[arg-type]
                        previous_duration_minutes=present.rounded(
                            change.previous_duration_minutes, 1
                        ),
                    )
                    for change in details.status_timeline(ask.conn, ride_id, start, end)
                ],
                waits=[
                    schemas.PostedWait(at=at, wait_minutes=wait)
                    for at, wait in details.posted_waits(ask.conn, park.id, ride_id, start, end)
                ],
            ),
        ),
    )


@endpoint(
    bp,
    "/<int:ride_id>/outages",
    query=OutagesQuery,
    response=schemas.OutagesResponse,
    tag="rides",
    summary="A ride's outages",
    not_found=True,
)
def outages(ask: Ask, params: OutagesQuery, ride_id: int) -> schemas.OutagesResponse:
    """The ride's outages in the period, newest first: each run of closed polls inside
    its window, from the first closed poll to the poll that found it open again."""
    ride = _ride(ask, ride_id)
    asked = present.scope(ask, params, ride.park_id, filtered=False)
    first, last = asked.ranges[ride.park_id]
    found = outages_of(ask.conn, ride_id, first, last, params.limit)
    return schemas.OutagesResponse(
        meta=present.meta(ask, params, limit=params.limit),
        data=[present.outage(row) for row in found],
    )


@endpoint(
    bp,
    "/<int:ride_id>/recovery",
    query=RecoveryQuery,
    response=schemas.RecoveryResponse,
    tag="rides",
    summary="Back soon? A ride's chance of being open again",
    not_found=True,
)
def recovery(ask: Ask, params: RecoveryQuery, ride_id: int) -> schemas.RecoveryResponse:
    """For a ride down for `down_for` minutes (default: its current outage), the chance
    that it is open again within 15, 30 and 60 minutes, and the median time left."""
    ride = _ride(ask, ride_id)
    park = details.park_infos(ask.conn, ride.park_id)[0]
    down = present.live_status(ask, ride.live_status, park.live_at) == "down"
    current = ongoing_outage(ask.conn, ride_id, ask.now - timedelta(days=1)) if down else None
    if params.down_for is None and current is None:
        raise ApiError(400, "not_down", f"ride {ride_id} is not down now: give down_for (minutes)")
    down_for = (
        params.down_for
        if params.down_for is not None
        else minutes_down(current.started_at, ask.now)  # type: ignore[union-attr]
    )
    return schemas.RecoveryResponse(
        meta=present.meta(ask, params),
        data=present.back_soon(
            ask,
            [
                present.DownFor(
                    RideInPool(ride.id, ride.park_id, ride.tier),
                    park.timezone,
                    down_for,
                    current is not None and current.park_wide,
                )
            ],
        )[0],
    )


def _ride(ask: Ask, ride_id: int) -> details.RideInfo:
    """The ride, or a 404 answer."""
    ride = details.ride_info(ask.conn, ride_id) if ride_id <= MAX_ID else None
    if ride is None:
        raise ApiError(404, "not_found", f"no ride {ride_id}")
    return ride
