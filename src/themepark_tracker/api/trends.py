"""`/api/trends`: parks and rides whose uptime moved by 5 points or more on the period
before."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint

from themepark_tracker.api import present, schemas
from themepark_tracker.api.endpoints import Ask, endpoint
from themepark_tracker.api.params import TrendQuery
from themepark_tracker.engine.rankings import TREND_THRESHOLD, change, trend_lists
from themepark_tracker.storage.statistics import ParkSums, RideSums, park_sums, period_sums

bp = Blueprint("trends", __name__, url_prefix="/api")


def _park_trend(park: ParkSums) -> schemas.Trend:
    return _trend(
        park.park_id, park.name, park.park_id, park.name, park, present.park_url(park.park_id)
    )


def _ride_trend(ride: RideSums) -> schemas.Trend:
    url = present.ride_url(ride.park_id, ride.ride_id)
    return _trend(ride.ride_id, ride.name, ride.park_id, ride.park.name, ride, url)


def _trend(
    key: int, name: str, park_id: int, park_name: str, ranked: ParkSums | RideSums, url: str
) -> schemas.Trend:
    current, previous, moved = (
        ranked.totals.uptime_pct,
        ranked.previous.uptime_pct,
        change(ranked),
    )
    assert current is not None and previous is not None and moved is not None
    return schemas.Trend(
        id=key,
        name=name,
        park_id=park_id,
        park_name=park_name,
        previous_uptime_pct=round(previous, 2),
        current_uptime_pct=round(current, 2),
        change_pct_points=round(moved, 2),
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
    asked = present.scope(ask, params)
    wanted = params.category
    lists: dict[str, Sequence[schemas.Trend]] = {}
    if wanted is None or wanted.startswith("parks"):
        better, worse = trend_lists(park_sums(ask.conn, asked))
        lists["parks-improving"] = [_park_trend(p) for p in better[: params.limit]]
        lists["parks-declining"] = [_park_trend(p) for p in worse[: params.limit]]
    if wanted is None or wanted.startswith("rides"):
        improving, declining = trend_lists(period_sums(ask.conn, asked))
        lists["rides-improving"] = [_ride_trend(r) for r in improving[: params.limit]]
        lists["rides-declining"] = [_ride_trend(r) for r in declining[: params.limit]]
    if wanted is not None:
        lists = {wanted: lists[wanted]}
    return schemas.TrendsResponse(
        meta=present.meta(ask, params, limit=params.limit),
        threshold_pct_points=TREND_THRESHOLD,
        data=schemas.Trends.model_validate(lists),
    )
