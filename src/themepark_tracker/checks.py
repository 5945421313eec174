"""Is the tracker keeping up? The facts `/api/health` reports and `check` (the dead-man's
switch) exits on, judged the same way in both.

Pure functions on what storage (and the collector's archive directory) found: no
database, no files and no HTTP in here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Status = Literal["ok", "warning", "failed"]


@dataclass(frozen=True)
class Facts:
    """What storage knows of the tracker's own work."""

    last_collection_at: datetime | None
    parks_in_last_collection: int
    active_parks: int
    last_aggregation_at: datetime | None
    overdue_days: int
    paired_parks: int = 0
    """Active parks paired with ThemeParks.wiki (`sources map`)."""
    last_wiki_answer_at: datetime | None = None
    parks_in_last_wiki: int = 0
    """Paired parks whose live answer came within one interval of the newest."""


@dataclass(frozen=True)
class ArchiveFacts:
    """The collector's archive directory (`spool.facts`): when the cycle of each archive
    still pending started, and why `collect` cannot write there, if it cannot."""

    pending: tuple[datetime, ...] = ()
    problem: str | None = None


#: Cycles a pending archive may wait: the next cycle imports it first thing, so one
#: still there two intervals on has outlived at least one cycle that could not store it.
PENDING_ARCHIVE_CYCLES = 2


@dataclass(frozen=True)
class Limits:
    stale_collection: timedelta
    stale_aggregation: timedelta
    min_parks: int | None = None
    second_source: bool = True
    """Whether ThemeParks.wiki is on (THEMEPARKS_WIKI_ENABLED)."""


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    at: datetime | None = None
    age_minutes: float | None = None


def _age(at: datetime, now: datetime) -> float:
    return round((now - at).total_seconds() / 60, 1)


def judge(facts: Facts, now: datetime, limits: Limits) -> list[Check]:
    """The collection and aggregation checks: `failed` when nothing was ever collected,
    `warning` when behind, `ok` otherwise."""
    collected, aggregated = facts.last_collection_at, facts.last_aggregation_at
    expected = facts.active_parks if limits.min_parks is None else limits.min_parks
    minutes = limits.stale_collection.total_seconds() / 60
    if collected is None:
        collection = Check("collection", "failed", "nothing collected yet")
    elif now - collected > limits.stale_collection:
        collection = Check(
            "collection",
            "warning",
            f"last collection {_age(collected, now):.0f} min ago (limit {minutes:.0f} min)",
            collected,
            _age(collected, now),
        )
    elif facts.parks_in_last_collection < expected:
        collection = Check(
            "collection",
            "warning",
            f"only {facts.parks_in_last_collection} of {expected} parks answered",
            collected,
            _age(collected, now),
        )
    else:
        collection = Check(
            "collection",
            "ok",
            f"{facts.parks_in_last_collection} of {facts.active_parks} parks answered",
            collected,
            _age(collected, now),
        )
    hours = limits.stale_aggregation.total_seconds() / 3600
    if aggregated is None:
        aggregation = Check("aggregation", "warning", "no successful aggregate yet")
    elif now - aggregated > limits.stale_aggregation:
        aggregation = Check(
            "aggregation",
            "warning",
            f"last aggregate {_age(aggregated, now) / 60:.0f} h ago (limit {hours:.0f} h)",
            aggregated,
            _age(aggregated, now),
        )
    elif facts.overdue_days:
        aggregation = Check(
            "aggregation",
            "warning",
            f"{facts.overdue_days} park days older than three days are not final",
            aggregated,
            _age(aggregated, now),
        )
    else:
        aggregation = Check("aggregation", "ok", "aggregate ran", aggregated, _age(aggregated, now))
    return [collection, aggregation, _second_source(facts, now, limits)]


def _second_source(facts: Facts, now: datetime, limits: Limits) -> Check:
    """`warning` when ThemeParks.wiki answers for the paired parks stop coming (the
    figures then count without statuses), or some paired parks went unanswered."""
    name, last = "second_source", facts.last_wiki_answer_at
    if not limits.second_source:
        return Check(name, "ok", "ThemeParks.wiki turned off")
    if not facts.paired_parks:
        return Check(name, "ok", "no park paired with ThemeParks.wiki (sources map)")
    if last is None:
        return Check(name, "warning", "no ThemeParks.wiki answer stored yet")
    if now - last > limits.stale_collection:
        minutes = limits.stale_collection.total_seconds() / 60
        detail = (
            f"last ThemeParks.wiki answer {_age(last, now):.0f} min ago (limit {minutes:.0f} min)"
        )
        return Check(name, "warning", detail, last, _age(last, now))
    if facts.parks_in_last_wiki < facts.paired_parks:
        detail = f"only {facts.parks_in_last_wiki} of {facts.paired_parks} paired parks answered"
        return Check(name, "warning", detail, last, _age(last, now))
    detail = f"{facts.parks_in_last_wiki} of {facts.paired_parks} paired parks answered"
    return Check(name, "ok", detail, last, _age(last, now))


def judge_archive(facts: ArchiveFacts, now: datetime, interval: timedelta) -> Check:
    """`warning` when `collect` cannot write its archive (an outage would then lose
    answers) or an archive has been pending for more than PENDING_ARCHIVE_CYCLES
    collection `interval`s (the database keeps refusing what it holds)."""
    if facts.problem is not None:
        return Check("archive", "warning", facts.problem)
    if not facts.pending:
        return Check("archive", "ok", "no archive pending")
    oldest = min(facts.pending)
    age = _age(oldest, now)
    count = len(facts.pending)
    detail = f"{count} archive{'s' if count > 1 else ''} pending, the oldest from {age:.0f} min ago"
    limit = interval * PENDING_ARCHIVE_CYCLES
    if now - oldest > limit:
        minutes = limit.total_seconds() / 60
        return Check(
            "archive",
            "warning",
            f"{detail} (limit {minutes:.0f} min): their answers are not in the database",
            oldest,
            age,
        )
    return Check("archive", "ok", detail, oldest, age)


def overall(checks: list[Check]) -> Literal["healthy", "degraded", "unhealthy"]:
    states = {check.status for check in checks}
    if "failed" in states:
        return "unhealthy"
    return "degraded" if "warning" in states else "healthy"
