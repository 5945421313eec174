"""The API's answers as Pydantic models: views build them, `openapi` documents them, and
the contract tests check real responses against the document made from them."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

QUEUE_TIMES = "https://queue-times.com"
THEMEPARKS_WIKI = "https://themeparks.wiki"
LiveStatus = Literal["running", "down", "closed", "refurbishment", "unknown"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class Attribution(Model):
    text: str = "Data powered by Queue-Times.com"
    url: str = QUEUE_TIMES
    second_source_url: str | None = Field(
        default=None, description="ThemeParks.wiki, when its schedules or statuses were used too"
    )


#: What an answer counted with both sources says.
BOTH_SOURCES = Attribution(
    text="Data powered by Queue-Times.com and ThemeParks.wiki",
    second_source_url=THEMEPARKS_WIKI,
)


class Period(Model):
    """Named periods are each park's own dates (its timezone): rows carry their own."""

    name: str | None = Field(description="the named period, null for from/to")
    first: date | None = Field(description="first local date when from/to was given")
    last: date | None = Field(description="last local date when from/to was given")


class Meta(Model):
    generated_at: datetime
    data_updated_at: datetime | None = Field(description="newest stored poll")
    period: Period | None = None
    filter: str | None = None
    sort: str | None = None
    order: str | None = None
    limit: int | None = None


class Envelope(Model):
    attribution: Attribution = Attribution()
    meta: Meta


class ErrorDetail(Model):
    code: str
    message: str
    details: list[dict[str, object]] | dict[str, object] | None = None


class ErrorBody(Model):
    error: ErrorDetail
    attribution: Attribution = Attribution()


class TierDistribution(Model):
    tier_1: int = 0
    tier_2: int = 0
    tier_3: int = 0
    unclassified: int = 0


class Park(Model):
    park_id: int
    name: str
    operator: str
    country: str
    continent: str
    latitude: float
    longitude: float
    timezone: str
    is_active: bool
    tier_distribution: TierDistribution
    queue_times_url: str


class ParksResponse(Envelope):
    data: list[Park]


class Figures(Model):
    """A park's or a ride's sums over the period, as docs/methodology.md defines them."""

    first: date = Field(description="first local date of the period for this park")
    last: date = Field(description="last local date of the period for this park")
    downtime_hours: float
    weighted_downtime_hours: float
    uptime_pct: float | None = Field(description="null when never operating")
    shame_score: float | None = Field(ge=0, le=10, description="0 to 10; null when no data")
    trend_pct: float | None = Field(description="downtime change on the period before")
    avg_wait: float | None
    peak_wait: int | None


class OutageFigures(Model):
    """Outages over the period (docs/methodology.md, "Outages"): null below the gates."""

    outages: int | None = Field(description="ended outages")
    outages_per_100h: float | None = Field(description="per 100 hours open")
    mtbf_hours: float | None = Field(description="hours open per outage")
    mttr_minutes: float | None = Field(description="mean outage")
    median_outage_minutes: float | None
    p90_outage_minutes: float | None
    longest_outage_minutes: float | None
    buckets_minutes: int | None = Field(
        description="null: exact; 10: the median, P90 and longest are those of the lengths "
        "rounded to 10 minutes (park rows over more than 31 days)"
    )
    insufficient_data: str | None = Field(description="why gated figures are null")


class Reliability(Model):
    all: OutageFigures = Field(description="every outage")
    ride_outages: OutageFigures = Field(description="outages that were not park-wide")


class Outage(Model):
    start: datetime = Field(description="its first closed poll")
    end: datetime | None = Field(description="the poll that found the ride open again")
    duration_minutes: float = Field(description="the time its closed polls cover")
    park_wide: bool
    ongoing: bool = Field(description="still going on: provisional, as its downtime")
    day: date = Field(description="the park's local day")


class OutagesResponse(Envelope):
    data: list[Outage]


class Recovery(Model):
    """Back soon? (docs/methodology.md): from the Kaplan–Meier curve of a pool's outages."""

    down_for_minutes: float
    p_open_within: dict[str, float] | None = Field(
        description='chance of being open again within "15", "30" and "60" minutes; null '
        "without a pool"
    )
    median_remaining_minutes: float | None = Field(
        description="null without a pool, or when fewer than half of its outages went on longer"
    )
    pool: Literal["park_wide", "ride", "park_tier", "tier"] | None = Field(
        description="whose outages: the park's park-wide ones, the ride's, its park's rides of "
        "its tier, every park's of its tier; null when none has enough"
    )
    outages: int = Field(description="the pool's outages")
    censored: int = Field(description="of which closures still going on when last seen")
    still_down: list[CurvePoint] = Field(
        description="the chance of being still down the given minutes from now, up to 4 "
        "hours: the Kaplan–Meier curve from the current outage on (empty without a pool, "
        "and in the list of rides down now)"
    )


class CurvePoint(Model):
    after_minutes: float
    chance: float = Field(ge=0, le=1)


class RecoveryResponse(Envelope):
    data: Recovery


class DownRide(Model):
    ride_id: int
    name: str
    park_id: int
    park_name: str
    tier: int | None
    down_since: datetime | None = Field(description="its outage's first closed poll")
    down_for_minutes: float | None
    park_wide: bool
    recovery: Recovery | None = Field(description="null when its outage is not known yet")
    queue_times_url: str


class DownRidesResponse(Envelope):
    data: list[DownRide]


class ParkRanking(Model):
    rank: int | None = Field(description="null for parks without the sorted figure (no data)")
    park_id: int
    name: str
    operator: str
    location: str
    timezone: str
    figures: Figures
    rides_tracked: int
    rides_with_downtime: int
    rides_down_now: int
    park_open_now: bool
    reliability: Reliability
    days: int = Field(description="the period's days with figures")
    days_with_published_hours: int = Field(
        description="of those, the days counted with the park's published hours"
    )
    queue_times_url: str


class ParkStats(Model):
    parks_tracked: int
    peak_downtime_hours: float | None
    rides_down_now: int
    parks_open_now: int


class ParkRankingsResponse(Envelope):
    data: list[ParkRanking]
    stats: ParkStats


class RideRanking(Model):
    rank: int
    ride_id: int
    name: str
    tier: int | None
    park_id: int
    park_name: str
    figures: Figures
    downtime_events: int
    longest_downtime_minutes: float
    live_status: LiveStatus
    avg_downtime_7d_hours: float | None = Field(
        description="downtime per day the ride ran, over the 7 days ending with the period"
    )
    reliability: Reliability
    queue_times_url: str


class RideRankingsResponse(Envelope):
    data: list[RideRanking]


class RideWait(Model):
    rank: int
    ride_id: int
    name: str
    park_id: int
    park_name: str
    wait_minutes: float
    at: datetime | None = Field(description="time of the posted wait (live mode)")
    queue_times_url: str


class RideWaitsResponse(Envelope):
    mode: Literal["live", "average", "peak"]
    data: list[RideWait]


class ParkWait(Model):
    rank: int
    park_id: int
    name: str
    wait_minutes: float
    rides_reporting: int | None = Field(description="rides posting a wait now (live mode)")
    queue_times_url: str


class ParkWaitsResponse(Envelope):
    mode: Literal["live", "average", "peak"]
    data: list[ParkWait]


class Trend(Model):
    id: int
    name: str
    park_id: int
    park_name: str
    previous_uptime_pct: float
    current_uptime_pct: float
    change_pct_points: float
    queue_times_url: str


class Trends(Model):
    parks_improving: list[Trend] | None = Field(None, alias="parks-improving")
    parks_declining: list[Trend] | None = Field(None, alias="parks-declining")
    rides_improving: list[Trend] | None = Field(None, alias="rides-improving")
    rides_declining: list[Trend] | None = Field(None, alias="rides-declining")


class TrendsResponse(Envelope):
    threshold_pct_points: float
    data: Trends


class PublishedHours(Model):
    kind: str = Field(description="OPERATING (the session), TICKETED_EVENT, EXTRA_HOURS, ...")
    opens_at: datetime
    closes_at: datetime
    description: str | None


class OperatingSession(Model):
    date: dt.date
    opened_at: datetime
    closed_at: datetime
    operating_hours: float
    final: bool
    scheduled: bool = Field(
        description="the session is the published OPERATING hours, not inferred from polls"
    )
    observed_opened_at: datetime | None = Field(
        description="first poll of the run of active polls (the session without a schedule)"
    )
    observed_closed_at: datetime | None
    published: list[PublishedHours] = Field(description="the day's published hours, all kinds")


class ParkDay(Model):
    date: dt.date
    operating_hours: float
    downtime_hours: float
    uptime_pct: float | None
    shame_score: float | None = Field(ge=0, le=10)
    rides_tracked: int
    rides_with_downtime: int
    avg_wait: float | None
    peak_wait: int | None
    final: bool
    scheduled: bool = Field(description="counted with the park's published hours")


class HeatmapRide(Model):
    ride_id: int
    name: str
    tier: int | None
    downtime_hours: list[float | None] = Field(description="per date; null: did not run")


class Heatmap(Model):
    """Downtime of each ride on each day of the period, rides in ranking order."""

    dates: list[date]
    rides: list[HeatmapRide]


class ParkLive(Model):
    open_now: bool
    live_at: datetime | None
    rides_down_now: int


class ParkDetail(Model):
    park: Park
    live: ParkLive
    figures: Figures
    rides_tracked: int
    rides_with_downtime: int
    reliability: Reliability = Field(description="the outages of its rides")
    days_with_published_hours: int = Field(
        description="of the period's days with figures, those counted with published hours"
    )
    operating_sessions: list[OperatingSession]
    days: list[ParkDay]
    rides: list[RideRanking]
    heatmap: Heatmap


class ParkDetailResponse(Envelope):
    data: ParkDetail


class SourcesAnswered(Model):
    queue_times: int = Field(description="successful Queue-Times polls")
    themeparks_wiki: int = Field(description="ThemeParks.wiki live answers stored")


class DataQualityDay(Model):
    date: dt.date
    polls: int = Field(description="Queue-Times fetches, failed ones included")
    sources_answered: SourcesAnswered
    scheduled: bool | None = Field(
        description="counted with published hours; null: the day has no figures"
    )
    disagreements: int = Field(
        description="ride polls of the session where the two sources disagreed on open/closed"
    )
    stale_readings: int = Field(description="open readings not refreshed within stale_after")
    invalid_waits: int = Field(description="posted waits refused (not a number, <0, too long)")


class DataQuality(Model):
    park_id: int
    days: list[DataQualityDay]


class DataQualityResponse(Envelope):
    data: DataQuality


class RideDay(Model):
    date: dt.date
    tier: int | None
    uptime_pct: float | None
    downtime_hours: float
    downtime_events: int
    longest_downtime_minutes: float
    avg_wait: float | None
    peak_wait: int | None
    final: bool


class StatusChange(Model):
    at: datetime
    from_state: Literal["open", "closed"]
    to_state: Literal["open", "closed"]
    previous_duration_minutes: float | None


class PostedWait(Model):
    at: datetime
    wait_minutes: int


class Timeline(Model):
    date: dt.date
    session: OperatingSession | None
    changes: list[StatusChange]
    waits: list[PostedWait] = Field(description="posted waits while open; raw polls only")


class Ride(Model):
    ride_id: int
    name: str
    park_id: int
    park_name: str
    park_timezone: str
    land: str | None
    tier: int | None
    tier_source: str | None
    category: str | None
    live_status: LiveStatus
    is_active: bool
    queue_times_url: str


class RideDetail(Model):
    ride: Ride
    figures: Figures | None = Field(description="null when the ride never ran in the period")
    downtime_events: int
    longest_downtime_minutes: float
    reliability: Reliability
    history: list[RideDay]
    timeline: Timeline


class RideDetailResponse(Envelope):
    data: RideDetail


class LiveSummary(Model):
    running: int
    down: int
    closed: int
    unknown: int
    parks_open: int
    parks: int


class LiveSummaryResponse(Envelope):
    data: LiveSummary


class Check(Model):
    status: Literal["ok", "warning", "failed"]
    detail: str
    at: datetime | None = None
    age_minutes: float | None = None


class History(Model):
    """History being built behind a running dashboard (the demo imports weeks of
    simulated polls after it starts serving): how far it has got."""

    state: Literal["building", "done", "failed"]
    percent: float = Field(ge=0, le=100)
    days: float = Field(description="the span being built, in days")
    start: datetime
    end: datetime
    imported_until: datetime | None = Field(
        description="polls before this instant are stored and counted"
    )
    detail: str | None = Field(None, description="why it failed")


class Health(Model):
    status: Literal["healthy", "degraded", "unhealthy"]
    checked_at: datetime
    checks: dict[str, Check]
    history: History | None = Field(
        None, description="present when this server builds a history behind it (the demo)"
    )
    attribution: Attribution = Attribution()
