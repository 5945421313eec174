"""Periods as ranges of a park's own dates, and the period before (docs/methodology.md)."""

from __future__ import annotations

from datetime import date, timedelta

PERIODS = ("today", "yesterday", "last_7_days", "last_30_days", "last_week", "last_month")


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


def held_ranges(today: date) -> set[tuple[date, date]]:
    """The ranges of every named period of a park whose day is `today`, of the periods
    before them, and of those ending today without today: what rankings read most, kept
    ready (`storage.period_totals`), and what a poll extends by its day."""
    ranges = {period_dates(name, today) for name in PERIODS}
    yesterday = today - timedelta(days=1)
    before_today = {(first, yesterday) for first, last in ranges if first < last == today}
    return ranges | {previous_period(*span) for span in ranges} | before_today
