"""Facts on how current the data is: what `/api/health`, `check` and HTTP caching read."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from themepark_tracker.checks import Facts
from themepark_tracker.storage.tables import (
    aggregation_log,
    park_daily_stats,
    parks,
    polls,
    wiki_live,
    wiki_parks,
)


def data_version(conn: Connection) -> tuple[object, ...]:
    """Changes whenever stored data that answers depend on changes: a poll stored
    (collect or import), an aggregation logged, the catalogue updated, a park's
    statistics or tiers rewritten (`parks.data_version`). The last item is the newest
    poll's time. Each part is one index lookup, or a read of the park list."""
    row = conn.execute(
        select(
            select(func.max(polls.c.id)).scalar_subquery(),
            select(func.max(aggregation_log.c.id)).scalar_subquery(),
            select(func.max(parks.c.updated_at)).scalar_subquery(),
            select(func.sum(parks.c.data_version)).scalar_subquery(),
            select(func.max(polls.c.polled_at)).scalar_subquery(),
        )
    ).one()
    return tuple(row)


def facts(conn: Connection, interval: timedelta, now: datetime) -> Facts:
    """The newest successful poll, how many parks answered within one collection
    `interval` up to it, the newest successful aggregation, and the park days that
    should be final and are not: a day ends at its park's 04:00 on the next date, which
    is after 00:10 UTC west of UTC+4, so it is final by the runs of the date after; three
    dates back covers every timezone."""
    last = conn.execute(
        select(polls.c.polled_at)
        .where(polls.c.outcome == "ok")
        .order_by(polls.c.polled_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    reached = 0
    if last is not None:
        reached = conn.execute(
            select(func.count(func.distinct(polls.c.park_id))).where(
                polls.c.polled_at > last - interval, polls.c.outcome == "ok"
            )
        ).scalar_one()
    active = conn.execute(
        select(func.count()).select_from(parks).where(parks.c.is_active)
    ).scalar_one()
    aggregated = conn.execute(
        select(aggregation_log.c.finished_at)
        .where(aggregation_log.c.job == "aggregate", aggregation_log.c.status == "success")
        .order_by(aggregation_log.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    overdue = conn.execute(
        select(func.count())
        .select_from(park_daily_stats)
        .where(
            park_daily_stats.c.stat_date <= now.date() - timedelta(days=3),
            ~park_daily_stats.c.is_final,
        )
    ).scalar_one()
    paired = conn.execute(
        select(func.count())
        .select_from(wiki_parks)
        .join(parks, parks.c.id == wiki_parks.c.park_id)
        .where(parks.c.is_active)
    ).scalar_one()
    answered_at = conn.execute(select(func.max(wiki_live.c.fetched_at))).scalar_one_or_none()
    answered = 0
    if answered_at is not None:
        answered = conn.execute(
            select(func.count(func.distinct(wiki_live.c.park_id)))
            .join(wiki_parks, wiki_parks.c.park_id == wiki_live.c.park_id)
            .join(parks, parks.c.id == wiki_live.c.park_id)
            .where(wiki_live.c.fetched_at > answered_at - interval, parks.c.is_active)
        ).scalar_one()
    return Facts(
        last,
        int(reached),
        int(active),
        aggregated,
        int(overdue),
        int(paired),
        answered_at,
        int(answered),
    )
