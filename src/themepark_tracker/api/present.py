"""Engine and storage results as the API's models: rounding and links in one place."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from themepark_tracker.api import schemas
from themepark_tracker.api.endpoints import Ask
from themepark_tracker.api.params import PeriodQuery
from themepark_tracker.engine.live import is_open_now, rides_down_now, status_now
from themepark_tracker.engine.outages import Gates, Lengths, PeriodOutages, period_outages
from themepark_tracker.engine.outages import reliability as engine_reliability
from themepark_tracker.engine.recovery import (
    PoolCurve,
    Survival,
    choose_pool,
    pool_window,
    pools_in_turn,
    recovery,
    still_down,
)
from themepark_tracker.engine.scores import Totals, per_day, trend_pct
from themepark_tracker.engine.sessions import park_day_of
from themepark_tracker.storage import pools, statistics
from themepark_tracker.storage.details import ParkInfo, SessionRow
from themepark_tracker.storage.outages import OutageRow, outage_lengths_by_ride
from themepark_tracker.storage.pools import RideInPool
from themepark_tracker.storage.statistics import ParkSums, RideSums, Scope, ScopedPark


def park_url(park_id: int) -> str:
    return f"{schemas.QUEUE_TIMES}/parks/{park_id}"


def ride_url(park_id: int, ride_id: int) -> str:
    return f"{schemas.QUEUE_TIMES}/parks/{park_id}/rides/{ride_id}"


def hours(minutes: float | None) -> float | None:
    return None if minutes is None else minutes / 60


def rounded(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def scope(
    ask: Ask, params: PeriodQuery, park_id: int | None = None, *, filtered: bool = True
) -> Scope:
    """The question's parks and each one's dates, resolved once for the whole answer; a
    page of one park (`filtered` false) shows it whatever its operator."""
    return statistics.scope(
        ask.conn,
        params.dates(ask.now, ask.day_rules),
        disney_universal_only=filtered and params.filter == "disney-universal",
        park_id=park_id,
    )


def open_now(ask: Ask, park: ScopedPark) -> bool:
    return is_open_now(park.open_now, park.live_at, ask.now, ask.day_rules.max_gap)


def rides_down(ask: Ask, park: ParkSums) -> int:
    live = park.park
    return rides_down_now(
        park.rides_down, live.open_now, live.live_at, ask.now, ask.day_rules.max_gap
    )


def live_status(ask: Ask, status: str | None, live_at: datetime | None) -> str:
    return status_now(status, live_at, ask.now, ask.day_rules.max_gap)


R = TypeVar("R", ParkSums, RideSums)


def with_period_wait(ranked: Sequence[R], mode: str) -> list[tuple[R, float]]:
    """Those of `ranked` with a posted wait in the period, with their average or peak."""
    found = []
    for item in ranked:
        value = item.totals.avg_wait if mode == "average" else item.totals.peak_wait
        if value is not None:
            found.append((item, float(value)))
    return found


def uptime(up: float, down: float) -> float | None:
    return rounded(Totals(up, down).uptime_pct)


def session(row: SessionRow) -> schemas.OperatingSession:
    return schemas.OperatingSession(
        date=row.park_date,
        opened_at=row.started_at,
        closed_at=row.ended_at,
        operating_hours=round(row.operating_minutes / 60, 2),
        final=bool(row.is_final),
        scheduled=row.scheduled,
        observed_opened_at=row.observed_started_at,
        observed_closed_at=row.observed_ended_at,
        published=[
            schemas.PublishedHours(
                kind=entry.kind,
                opens_at=entry.opens,
                closes_at=entry.closes,
                description=entry.description,
            )
            for entry in row.published
        ],
    )


def figures(first: date, last: date, totals: Totals, previous: Totals) -> schemas.Figures:
    return schemas.Figures(
        first=first,
        last=last,
        downtime_hours=round(totals.downtime_hours, 2),
        weighted_downtime_hours=round(totals.weighted_downtime_hours, 2),
        uptime_pct=rounded(totals.uptime_pct),
        shame_score=totals.shame_score,
        trend_pct=rounded(trend_pct(totals.downtime_minutes, previous.downtime_minutes), 1),
        avg_wait=rounded(totals.avg_wait, 1),
        peak_wait=totals.peak_wait,
    )


def reliability(found: PeriodOutages, totals: Totals | None, gates: Gates) -> schemas.Reliability:
    """The figures of a period's ended outages over its sums of up and down time."""
    up = 0.0 if totals is None else totals.uptime_minutes
    down = 0.0 if totals is None else totals.downtime_minutes

    def of(lengths: Lengths) -> schemas.OutageFigures:
        figures = engine_reliability(lengths, up, down, gates)
        return schemas.OutageFigures(
            outages=figures.outages,
            outages_per_100h=rounded(figures.outages_per_100h),
            mtbf_hours=rounded(figures.mtbf_hours, 1),
            mttr_minutes=rounded(figures.mttr_minutes, 1),
            median_outage_minutes=rounded(figures.median_outage_minutes, 1),
            p90_outage_minutes=rounded(figures.p90_outage_minutes, 1),
            longest_outage_minutes=rounded(figures.longest_outage_minutes, 1),
            buckets_minutes=lengths.bucket_minutes,
            insufficient_data=figures.insufficient_data,
        )

    return schemas.Reliability(all=of(found.all), ride_outages=of(found.ride_outages))


#: How far ahead the recovery curve is drawn.
CURVE_HORIZON_MINUTES = 240


@dataclass(frozen=True)
class DownFor:
    """A ride down, for how long, and whether its outage is park-wide."""

    ride: RideInPool
    timezone: str
    minutes: float
    park_wide: bool


def back_soon(ask: Ask, asked: Sequence[DownFor], *, curves: bool = True) -> list[schemas.Recovery]:
    """The recovery estimate of each ride, from the first pool that has enough outages,
    with its curve when `curves`. The rides' own pools are read in one statement; a
    fallback pool once per request however many rides fall back to it."""
    windows = {}
    for down in asked:
        today = park_day_of(ask.now, ZoneInfo(down.timezone), ask.day_rules)
        windows[down.ride.ride_id] = pool_window(today, ask.settings.recovery_window_days)

    def key(name: str, down: DownFor) -> pools.PoolKey:
        return pools.key_of(name, down.ride, *windows[down.ride.ride_id])

    read = pools.curves(ask.conn, [key("ride", down) for down in asked])

    def pool(name: str, down: DownFor) -> PoolCurve:
        wanted = key(name, down)
        if wanted not in read:
            read.update(pools.curves(ask.conn, [wanted]))
        return read[wanted]

    return [_estimate(ask, down, pool, curves) for down in asked]


def _estimate(
    ask: Ask, down: DownFor, pool_named: Callable[[str, DownFor], PoolCurve], curves: bool
) -> schemas.Recovery:
    down_for = down.minutes
    chosen = choose_pool(
        (pool_named(name, down) for name in pools_in_turn(down.park_wide)),
        down_for,
        ask.settings.min_recovery_outages,
    )
    if chosen is None:
        return schemas.Recovery(
            down_for_minutes=round(down_for, 1),
            p_open_within=None,
            median_remaining_minutes=None,
            pool=None,
            outages=0,
            censored=0,
            still_down=[],
        )
    found = recovery(chosen.curve, down_for)
    assert found is not None  # the pool has outages longer than down_for
    return schemas.Recovery(
        down_for_minutes=round(down_for, 1),
        p_open_within={str(x): round(p, 3) for x, p in found.p_open_within.items()},
        median_remaining_minutes=rounded(found.median_remaining_minutes, 1),
        pool=chosen.name,  # type: ignore[arg-type]
        outages=chosen.ended + chosen.censored,
        censored=chosen.censored,
        still_down=_chart(chosen.curve, down_for) if curves else [],
    )


def _chart(curve: Survival, down_for: float) -> list[schemas.CurvePoint]:
    """The still-down curve to a tenth of a minute: steps closer than that (a pool of
    thousands of outages has many) are one point, at the lowest level they reach."""
    points: dict[float, float] = {}
    for x, p in still_down(curve, down_for, CURVE_HORIZON_MINUTES):
        points[max(round(x, 1), 0.1) if points else 0.0] = round(p, 4)
    return [schemas.CurvePoint(after_minutes=x, chance=p) for x, p in points.items()]


def outage(row: OutageRow) -> schemas.Outage:
    return schemas.Outage(
        start=row.started_at,
        end=row.ended_at,
        duration_minutes=round(row.minutes, 1),
        park_wide=row.park_wide,
        ongoing=row.ended_at is None,
        day=row.park_date,
    )


def tiers(counts: Mapping[int | None, int]) -> schemas.TierDistribution:
    return schemas.TierDistribution(
        tier_1=counts.get(1, 0),
        tier_2=counts.get(2, 0),
        tier_3=counts.get(3, 0),
        unclassified=counts.get(None, 0),
    )


def park(info: ParkInfo, counts: Mapping[int | None, int]) -> schemas.Park:
    return schemas.Park(
        park_id=info.id,
        name=info.name,
        operator=info.operator,
        country=info.country,
        continent=info.continent,
        latitude=info.latitude,
        longitude=info.longitude,
        timezone=info.timezone,
        is_active=info.is_active,
        tier_distribution=tiers(counts),
        queue_times_url=park_url(info.id),
    )


def ride_rankings(
    ask: Ask, ranked: Sequence[RideSums], first_rank: int = 1
) -> list[schemas.RideRanking]:
    """With each ride's live status, its downtime per day over the 7 days ending with
    the period's last day, and its outages' figures."""
    lengths = outage_lengths_by_ride(
        ask.conn, {ride.ride_id: (ride.park.first, ride.park.last) for ride in ranked}
    )
    return [
        schemas.RideRanking(
            rank=rank,
            ride_id=ride.ride_id,
            name=ride.name,
            tier=ride.tier,
            park_id=ride.park_id,
            park_name=ride.park.name,
            figures=figures(ride.park.first, ride.park.last, ride.totals, ride.previous),
            downtime_events=ride.downtime_events,
            longest_downtime_minutes=round(ride.longest_downtime_minutes, 1),
            live_status=live_status(ask, ride.live_status, ride.park.live_at),  # type: ignore[arg-type]
            avg_downtime_7d_hours=rounded(
                hours(per_day(ride.week_downtime_minutes, ride.week_days))
            ),
            reliability=reliability(period_outages(lengths[ride.ride_id]), ride.totals, ask.gates),
            queue_times_url=ride_url(ride.park_id, ride.ride_id),
        )
        for rank, ride in enumerate(ranked, first_rank)
    ]


def meta(ask: Ask, params: object, **extra: object) -> schemas.Meta:
    period = None
    name = getattr(params, "period_name", None)
    if hasattr(params, "period_name"):
        period = schemas.Period(
            name=name,
            first=getattr(params, "from_", None),
            last=getattr(params, "to", None),
        )
    return schemas.Meta(
        generated_at=ask.now,
        data_updated_at=ask.data_updated_at,
        period=period,
        filter=getattr(params, "filter", None),
        **extra,  # type: ignore[arg-type]
    )
