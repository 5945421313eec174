"""`/api/trends`: parks and rides whose uptime moved by 5 points or more on the period
before."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint

from themepark_tracker.api import present, schemas
from themepark_tracker.api.endpoints import Ask, endpoint
from themepark_tracker.api.params import TrendQuery
from themepark_tracker.storage.rankings import (
    TREND_THRESHOLD,
    ParkRanking,
    RideRanking,
    park_rankings,
    ride_rankings,
    trend_lists,
)

bp = Blueprint("trends", __name__, url_prefix="/api")


def _park_trend(park: ParkRanking) -> schemas.Trend:
    return _trend(
        park.park_id, park.name, park.park_id, park.name, park, present.park_url(park.park_id)
    )


def _ride_trend(ride: RideRanking) -> schemas.Trend:
    url = present.ride_url(ride.park_id, ride.ride_id)
    return _trend(ride.ride_id, ride.name, ride.park_id, ride.park_name, ride, url)


def _trend(
    key: int, name: str, park_id: int, park_name: str, ranked: ParkRanking | RideRanking, url: str
) -> schemas.Trend:
    current, previous, change = (
        ranked.totals.uptime_pct,
        ranked.previous.uptime_pct,
        ranked.uptime_change,
    )
    assert current is not None and previous is not None and change is not None
    return schemas.Trend(
        id=key,
        name=name,
        park_id=park_id,
        park_name=park_name,
        previous_uptime_pct=round(previous, 2),
        current_uptime_pct=round(current, 2),
        change_pct_points=round(change, 2),
        queue_times_url=url,
    )


@endpoint(
    bp,
    "/trends",
    query=TrendQuery,
    response=schemas.TrendsResponse,
    tag="trends",
    summary="Improving and declining parks and rides",
)
def trends(ask: Ask, params: TrendQuery) -> schemas.TrendsResponse:
    """Uptime over the period next to the period before (same length, just before it):
    improving at +5 points or more, declining at -5 or less, largest change first."""
    dates_of = params.dates(ask.now, ask.day_rules)
    only = params.filter == "disney-universal"
    wanted = params.category
    lists: dict[str, Sequence[schemas.Trend]] = {}
    if wanted is None or wanted.startswith("parks"):
        improving, declining = trend_lists(
            park_rankings(ask.conn, dates_of, disney_universal_only=only)
        )
        lists["parks-improving"] = [_park_trend(p) for p in improving[: params.limit]]
        lists["parks-declining"] = [_park_trend(p) for p in declining[: params.limit]]
    if wanted is None or wanted.startswith("rides"):
        improving, declining = trend_lists(
            ride_rankings(ask.conn, dates_of, disney_universal_only=only)
        )
        lists["rides-improving"] = [_ride_trend(r) for r in improving[: params.limit]]
        lists["rides-declining"] = [_ride_trend(r) for r in declining[: params.limit]]
    if wanted is not None:
        lists = {wanted: lists[wanted]}
    return schemas.TrendsResponse(
        meta=present.meta(ask, params, limit=params.limit),
        threshold_pct_points=TREND_THRESHOLD,
        data=schemas.Trends.model_validate(lists),
    )
