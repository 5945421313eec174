"""Periods as ranges of a park's own dates, and the period before (docs/methodology.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from themepark_tracker.engine.sessions import DayRules, park_day_of

PERIODS = ("today", "yesterday", "last_7_days", "last_30_days", "last_week", "last_month")
#: The period of a question that names none, in the API and the CLI alike.
DEFAULT_PERIOD = "today"


def period_dates(period: str, today: date) -> tuple[date, date]:
    """Inclusive (first, last) local dates of a named period, for a park whose day is `today`."""
    if period == "today":
        return today, today
    if period == "yesterday":
        day = today - timedelta(days=1)
        return day, day
    if period == "last_7_days":
        return today - timedelta(days=6), today
    if period == "last_30_days":
        return today - timedelta(days=29), today
    if period == "last_week":
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, monday + timedelta(days=6)
    if period == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    raise ValueError(f"unknown period {period!r}; known: {', '.join(PERIODS)}")


def previous_period(first: date, last: date) -> tuple[date, date]:
    """Same length, ending the day before the period starts."""
    length = (last - first).days + 1
    return first - timedelta(days=length), first - timedelta(days=1)


def dates_for(
    now: datetime,
    rules: DayRules,
    period: str | None = None,
    span: tuple[date, date] | None = None,
) -> Callable[[str], tuple[date, date]]:
    """The (first, last) local dates a question asks of a park in a timezone: `span` as
    given, else the named `period` (default `DEFAULT_PERIOD`) of the park's own day."""
    if span is not None:
        return lambda _timezone: span
    name = period or DEFAULT_PERIOD
    if name not in PERIODS:
        raise ValueError(f"unknown period {name!r}; known: {', '.join(PERIODS)}")
    return lambda timezone: period_dates(name, park_day_of(now, ZoneInfo(timezone), rules))
