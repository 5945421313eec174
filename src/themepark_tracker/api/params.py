"""Query parameters of the API as Pydantic models, and the period they name.

Every model forbids unknown parameters: a misspelt `perod=` silently answering for
today is the kind of wrong number this project exists to avoid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from themepark_tracker.engine.periods import DEFAULT_PERIOD, dates_for
from themepark_tracker.engine.sessions import DayRules

PeriodName = Literal["today", "yesterday", "last_7_days", "last_30_days", "last_week", "last_month"]
ParkSort = Literal[
    "shame",
    "downtime",
    "weighted_downtime",
    "uptime",
    "rides_with_downtime",
    "trend",
    "avg_wait",
    "peak_wait",
    "name",
]
RideSort = Literal[
    "downtime",
    "weighted_downtime",
    "uptime",
    "events",
    "avg_wait",
    "peak_wait",
    "name",
    "outages_per_100h",
    "mtbf",
    "mttr",
]
#: Dates far outside what any park has keep the period before them representable; the
#: pattern says so in the document, where a date has no minimum.
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
#: The longest span one export answers (`storage.export.MAX_DAYS`).
EXPORT_DAYS = 366
#: Queue-Times ids are 32-bit; a larger one names nothing (and would overflow SQLite).
MAX_ID = 2**31 - 1
DATE_PATTERN: JsonDict = {"pattern": "^2[0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"}


def _digits(value: object) -> object:
    """A count or an id is written in digits: no sign, no `1_0`, no `1e1`."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,10}", value):
        raise ValueError("expected a whole number written in digits")
    return value


def _iso_date(value: object) -> object:
    """A date is YYYY-MM-DD: no timestamp, no time of day."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("expected a date such as 2026-07-04")
    return value


Count = Annotated[int, BeforeValidator(_digits)]
Day = Annotated[date, BeforeValidator(_iso_date)]


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


class PeriodQuery(Query):
    period: PeriodName | None = Field(
        None, description="each park's own dates; default today unless from and to are given"
    )
    from_: Day | None = Field(
        None,
        alias="from",
        ge=EARLIEST,
        le=LATEST,
        json_schema_extra=DATE_PATTERN,
        description="first local date; with to, instead of period",
    )
    to: Day | None = Field(
        None,
        ge=EARLIEST,
        le=LATEST,
        json_schema_extra=DATE_PATTERN,
        description="last local date, not before from; with from, instead of period",
    )
    filter: Literal["all", "disney-universal"] = Field("all", description="operators")

    @model_validator(mode="after")
    def _one_kind_of_period(self) -> Self:
        if (self.from_ is None) != (self.to is None):
            raise ValueError("give both from and to, or neither")
        if self.from_ is not None and self.to is not None:
            if self.period is not None:
                raise ValueError("give either period or from/to, not both")
            if self.to < self.from_:
                raise ValueError("to must not be before from")
        return self

    @property
    def period_name(self) -> str | None:
        if self.from_ is not None:
            return None
        return self.period or DEFAULT_PERIOD

    def dates(self, now: datetime, rules: DayRules) -> Callable[[str], tuple[date, date]]:
        """The period's (first, last) local dates for a park in `timezone`."""
        span = None if self.from_ is None or self.to is None else (self.from_, self.to)
        return dates_for(now, rules, self.period, span)


class ParkRankingQuery(PeriodQuery):
    sort: ParkSort = "shame"
    order: Literal["asc", "desc"] = Field("desc", description="desc: worst first")
    limit: Count = Field(1000, ge=1, le=1000)


class RideRankingQuery(PeriodQuery):
    sort: RideSort = "downtime"
    order: Literal["asc", "desc"] = Field("desc", description="desc: worst first")
    limit: Count = Field(50, ge=1, le=1000)
    park: Count | None = Field(None, ge=1, le=MAX_ID, description="only this park's rides")


class WaitQuery(PeriodQuery):
    mode: Literal["live", "average", "peak"] = Field(
        "live", description="live: posted now; average or peak over the period"
    )
    limit: Count = Field(50, ge=1, le=1000)


class RideWaitQuery(WaitQuery):
    park: Count | None = Field(None, ge=1, le=MAX_ID, description="only this park's rides")


class TrendQuery(PeriodQuery):
    category: (
        Literal["parks-improving", "parks-declining", "rides-improving", "rides-declining"] | None
    ) = Field(None, description="one list only; default all four")
    limit: Count = Field(20, ge=1, le=1000)


class OutagesQuery(PeriodQuery):
    limit: Count = Field(100, ge=1, le=1000)


class RecoveryQuery(Query):
    down_for: float | None = Field(
        None,
        ge=0,
        le=1440,
        description="minutes the ride has been down; default its current outage",
    )


class FilterQuery(Query):
    filter: Literal["all", "disney-universal"] = Field("all", description="operators")


class ParkDetailQuery(PeriodQuery):
    pass


class RideDetailQuery(PeriodQuery):
    day: Day | None = Field(
        None,
        alias="date",
        ge=EARLIEST,
        le=LATEST,
        json_schema_extra=DATE_PATTERN,
        description="local day of the timeline; default the period's last day the park operated",
    )


class ExportQuery(Query):
    from_: Day = Field(
        alias="from",
        ge=EARLIEST,
        le=LATEST,
        json_schema_extra=DATE_PATTERN,
        description="first local date",
    )
    to: Day = Field(
        ge=EARLIEST,
        le=LATEST,
        json_schema_extra=DATE_PATTERN,
        description="last local date, not before from, at most 365 days after it",
    )

    @model_validator(mode="after")
    def _a_span_of_days(self) -> Self:
        if self.to < self.from_:
            raise ValueError("to must not be before from")
        if (self.to - self.from_).days >= EXPORT_DAYS:
            raise ValueError(f"at most {EXPORT_DAYS} days per request")
        return self
