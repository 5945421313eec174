"""`/api/parks`: the catalogue, park rankings, park waits, and a park's page."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint

from themepark_tracker.api import present, schemas
from themepark_tracker.api.endpoints import Ask, endpoint
from themepark_tracker.api.errors import ApiError
from themepark_tracker.api.params import (
    MAX_ID,
    FilterQuery,
    ParkDetailQuery,
    ParkRankingQuery,
    WaitQuery,
)
from themepark_tracker.catalogue import is_disney_or_universal
from themepark_tracker.engine.live import average_wait
from themepark_tracker.engine.rankings import PARK_SORTS
from themepark_tracker.engine.scores import Totals
from themepark_tracker.storage import details, quality, queries
from themepark_tracker.storage.outages import park_outages
from themepark_tracker.storage.statistics import RideSums, park_sums, period_sums

bp = Blueprint("parks", __name__, url_prefix="/api/parks")


@endpoint(
    bp, "", query=FilterQuery, response=schemas.ParksResponse, tag="parks", summary="Park catalogue"
)
def catalogue(ask: Ask, params: FilterQuery) -> schemas.ParksResponse:
    """Every tracked park with its operator, location, timezone and rides by tier."""
    tiers = details.tier_distributions(ask.conn)
    infos = [
        info
        for info in details.park_infos(ask.conn)
        if info.is_active and (params.filter == "all" or is_disney_or_universal(info.operator))
    ]
    return schemas.ParksResponse(
        meta=present.meta(ask, params),
        data=[present.park(info, tiers.get(info.id, {})) for info in infos],
    )


@endpoint(
    bp,
    "/downtime",
    query=ParkRankingQuery,
    response=schemas.ParkRankingsResponse,
    tag="parks",
    summary="Park rankings (the Hall of Shame)",
)
def downtime(ask: Ask, params: ParkRankingQuery) -> schemas.ParkRankingsResponse:
    """Parks ranked by shame score (or `sort`) over the period, worst first."""
    ranked = park_sums(
        ask.conn,
        present.scope(ask, params),
        sort=params.sort,
        descending=params.order == "desc",
    )
    figure = PARK_SORTS[params.sort]
    shown = ranked[: params.limit]
    outages = park_outages(ask.conn, shown)
    rows = [
        schemas.ParkRanking(
            rank=rank if figure(park) is not None else None,
            park_id=park.park_id,
            name=park.name,
            operator=park.park.operator,
            location=park.park.country,
            timezone=park.park.timezone,
            figures=present.figures(park.park.first, park.park.last, park.totals, park.previous),
            rides_tracked=park.rides_tracked,
            rides_with_downtime=park.rides_with_downtime,
            rides_down_now=present.rides_down(ask, park),
            park_open_now=present.open_now(ask, park.park),
            reliability=present.reliability(outages[park.park_id], park.totals, ask.gates),
            days=park.days,
            days_with_published_hours=park.scheduled_days,
            queue_times_url=present.park_url(park.park_id),
        )
        for rank, park in enumerate(shown, 1)
    ]
    tracked = [p for p in ranked if p.rides_tracked]
    return schemas.ParkRankingsResponse(
        meta=present.meta(ask, params, sort=params.sort, order=params.order, limit=params.limit),
        data=rows,
        stats=schemas.ParkStats(
            parks_tracked=len(tracked),
            peak_downtime_hours=max(
                (round(p.totals.downtime_hours, 2) for p in tracked), default=None
            ),
            rides_down_now=sum(present.rides_down(ask, p) for p in ranked),
            parks_open_now=sum(1 for p in ranked if present.open_now(ask, p.park)),
        ),
    )


@endpoint(
    bp,
    "/waittimes",
    query=WaitQuery,
    response=schemas.ParkWaitsResponse,
    tag="wait times",
    summary="Parks by wait time",
)
def waittimes(ask: Ask, params: WaitQuery) -> schemas.ParkWaitsResponse:
    """Live: the average posted wait of a park's running rides now. Average and peak: the
    park's average or highest posted wait over the period. Longest first."""
    only = params.filter == "disney-universal"
    rows: list[schemas.ParkWait] = []
    if params.mode == "live":
        parks = {
            info.id: info
            for info in details.park_infos(ask.conn)
            if info.is_active and (not only or is_disney_or_universal(info.operator))
        }
        waits: dict[int, list[int]] = {}
        for wait in queries.live_waits(
            ask.conn, ask.now, ask.day_rules.max_gap, park_ids=list(parks), rules=ask.state_rules
        ):
            waits.setdefault(wait.park_id, []).append(wait.wait)
        now_waits = {park_id: average_wait(values) or 0.0 for park_id, values in waits.items()}
        ordered = sorted(now_waits, key=lambda park_id: (-now_waits[park_id], park_id))
        rows = [
            schemas.ParkWait(
                rank=rank,
                park_id=park_id,
                name=parks[park_id].name,
                wait_minutes=round(now_waits[park_id], 1),
                rides_reporting=len(waits[park_id]),
                queue_times_url=present.park_url(park_id),
            )
            for rank, park_id in enumerate(ordered[: params.limit], 1)
        ]
    else:
        sort = "avg_wait" if params.mode == "average" else "peak_wait"
        ranked = park_sums(ask.conn, present.scope(ask, params), sort=sort)
        with_wait = present.with_period_wait(ranked, params.mode)
        rows = [
            schemas.ParkWait(
                rank=rank,
                park_id=park.park_id,
                name=park.name,
                wait_minutes=round(value, 1),
                rides_reporting=None,
                queue_times_url=present.park_url(park.park_id),
            )
            for rank, (park, value) in enumerate(with_wait[: params.limit], 1)
        ]
    return schemas.ParkWaitsResponse(
        meta=present.meta(ask, params, limit=params.limit), mode=params.mode, data=rows
    )


@endpoint(
    bp,
    "/<int:park_id>",
    query=ParkDetailQuery,
    response=schemas.ParkDetailResponse,
    tag="parks",
    summary="A park's page",
    not_found=True,
)
def park_detail(ask: Ask, params: ParkDetailQuery, park_id: int) -> schemas.ParkDetailResponse:
    """The park's figures for the period, its rides by tier, operating sessions, each
    day's figures, and its rides ranked."""
    found = details.park_infos(ask.conn, park_id) if park_id <= MAX_ID else []
    if not found:
        raise ApiError(404, "not_found", f"no park {park_id}")
    info = found[0]
    asked = present.scope(ask, params, park_id, filtered=False)
    (ranked,) = park_sums(ask.conn, asked)
    first, last = ranked.park.first, ranked.park.last
    rides = period_sums(ask.conn, asked)
    return schemas.ParkDetailResponse(
        attribution=_attribution(ask, park_id),
        meta=present.meta(ask, params),
        data=schemas.ParkDetail(
            park=present.park(info, details.tier_distribution(ask.conn, park_id)),
            live=schemas.ParkLive(
                open_now=present.open_now(ask, ranked.park),
                live_at=info.live_at,
                rides_down_now=present.rides_down(ask, ranked),
            ),
            figures=present.figures(first, last, ranked.totals, ranked.previous),
            rides_tracked=ranked.rides_tracked,
            rides_with_downtime=ranked.rides_with_downtime,
            reliability=present.reliability(
                park_outages(ask.conn, [ranked])[park_id], ranked.totals, ask.gates
            ),
            days_with_published_hours=ranked.scheduled_days,
            operating_sessions=[
                present.session(row) for row in details.sessions(ask.conn, park_id, first, last)
            ],
            days=[
                schemas.ParkDay(
                    date=day.stat_date,
                    operating_hours=round(day.operating_minutes / 60, 2),
                    downtime_hours=round(day.downtime_minutes / 60, 2),
                    uptime_pct=present.uptime(day.uptime_minutes, day.downtime_minutes),
                    shame_score=_day_totals(day).shame_score,
                    rides_tracked=day.rides_tracked,
                    rides_with_downtime=day.rides_with_downtime,
                    avg_wait=None if day.avg_wait is None else round(day.avg_wait, 1),
                    peak_wait=day.peak_wait,
                    final=day.is_final,
                    scheduled=day.scheduled,
                )
                for day in details.park_days(ask.conn, park_id, first, last)
            ],
            rides=present.ride_rankings(ask, rides),
            heatmap=_heatmap(ask, park_id, rides, first, last),
        ),
    )


#: A heatmap wider than this many days is unreadable; longer periods show their end.
HEATMAP_DAYS = 62


def _heatmap(
    ask: Ask, park_id: int, rides: list[RideSums], first: date, last: date
) -> schemas.Heatmap:
    first = max(first, last - timedelta(days=HEATMAP_DAYS - 1))
    dates = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    by_day = details.ride_downtime_by_day(ask.conn, park_id, first, last)
    return schemas.Heatmap(
        dates=dates,
        rides=[
            schemas.HeatmapRide(
                ride_id=ride.ride_id,
                name=ride.name,
                tier=ride.tier,
                downtime_hours=[
                    None
                    if day not in by_day.get(ride.ride_id, {})
                    else round(by_day[ride.ride_id][day] / 60, 2)
                    for day in dates
                ],
            )
            for ride in rides
        ],
    )


def _day_totals(day: details.ParkDayRow) -> Totals:
    return Totals(
        day.uptime_minutes,
        day.downtime_minutes,
        day.weighted_downtime_minutes,
        day.weighted_total_minutes,
    )


@endpoint(
    bp,
    "/<int:park_id>/data-quality",
    query=ParkDetailQuery,
    response=schemas.DataQualityResponse,
    tag="parks",
    summary="What a park's days were counted from",
    not_found=True,
)
def data_quality(ask: Ask, params: ParkDetailQuery, park_id: int) -> schemas.DataQualityResponse:
    """Per park day: polls, the answers of each source, disagreements between them inside
    the session, stale readings and invalid waits. At most 31 days (default today)."""
    asked = present.scope(ask, params, park_id, filtered=False)
    park = asked.parks.get(park_id) if park_id <= MAX_ID else None
    if park is None:
        raise ApiError(404, "not_found", f"no park {park_id}")
    if (park.last - park.first).days >= quality.MAX_DAYS:
        raise ApiError(
            400, "invalid_parameter", f"at most {quality.MAX_DAYS} days of data quality at once"
        )
    days = quality.park_quality(
        ask.conn, park_id, ZoneInfo(park.timezone), park.first, park.last, ask.day_rules
    )
    return schemas.DataQualityResponse(
        attribution=_attribution(ask, park_id),
        meta=present.meta(ask, params),
        data=schemas.DataQuality(
            park_id=park_id,
            days=[
                schemas.DataQualityDay(
                    date=day.day,
                    polls=day.polls,
                    sources_answered=schemas.SourcesAnswered(
                        queue_times=day.answered["queue_times"],
                        themeparks_wiki=day.answered["themeparks_wiki"],
                    ),
                    scheduled=day.scheduled,
                    disagreements=day.disagreements,
                    stale_readings=day.stale_readings,
                    invalid_waits=day.invalid_waits,
                )
                for day in days
            ],
        ),
    )


def _attribution(ask: Ask, park_id: int) -> schemas.Attribution:
    """Both sources for a park paired with ThemeParks.wiki."""
    return schemas.BOTH_SOURCES if details.is_paired(ask.conn, park_id) else schemas.Attribution()
