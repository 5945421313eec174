"""Rankings over a period: each park's own dates, sums first, figures from the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from themepark_tracker.engine.days import ParkDay, RideDay
from themepark_tracker.engine.rankings import trend
from themepark_tracker.storage import maxima
from themepark_tracker.storage.park_days import save_park_day
from themepark_tracker.storage.statistics import ParkSums, RideSums, park_sums, period_sums, scope
from themepark_tracker.storage.tables import parks, rides

T = datetime(2026, 7, 9, tzinfo=UTC)
PARKS = [
    (6, "Magic Kingdom", "Walt Disney Attractions", "America/New_York"),
    (16, "Disneyland", "Walt Disney Attractions", "America/Los_Angeles"),
    (50, "Cedar Point", "Cedar Fair Entertainment Company", "America/New_York"),
]
# (ride, park, tier, day, up, down, events, longest)
RIDE_DAYS = [
    (601, 6, 1, date(2026, 7, 8), 600, 60, 2, 40),
    (601, 6, 1, date(2026, 7, 7), 660, 0, 0, 0),
    (602, 6, 3, date(2026, 7, 8), 630, 30, 1, 30),
    (601, 6, 1, date(2026, 7, 1), 540, 120, 1, 120),  # the previous period
    (1601, 16, 2, date(2026, 7, 7), 500, 100, 3, 50),
    (1601, 16, 2, date(2026, 7, 8), 300, 300, 1, 300),  # outside Los Angeles' range
    (5001, 50, None, date(2026, 7, 8), 400, 0, 0, 0),
]
NEW_YORK = (date(2026, 7, 2), date(2026, 7, 8))
LOS_ANGELES = (date(2026, 7, 1), date(2026, 7, 7))


def dates_of(timezone: str) -> tuple[date, date]:
    return LOS_ANGELES if timezone == "America/Los_Angeles" else NEW_YORK


def park_rankings(
    conn: Any,
    dates: Any,
    *,
    disney_universal_only: bool = False,
    park_id: int | None = None,
    **options: Any,
) -> list[ParkSums]:
    asked = scope(conn, dates, disney_universal_only=disney_universal_only, park_id=park_id)
    return park_sums(conn, asked, **options)


def ride_rankings(conn: Any, dates: Any, **options: Any) -> list[RideSums]:
    return period_sums(conn, scope(conn, dates), **options)


@pytest.fixture
def stats(engine: Engine) -> Engine:
    stamp: dict[str, Any] = {"first_seen_at": T, "last_seen_at": T, "updated_at": T}
    with engine.begin() as conn:
        conn.execute(
            insert(parks),
            [
                {
                    "id": pid,
                    "name": name,
                    "operator": operator,
                    "operator_id": 1,
                    "country": "United States",
                    "continent": "North America",
                    "latitude": 0.0,
                    "longitude": 0.0,
                    "timezone": zone,
                    **stamp,
                }
                for pid, name, operator, zone in PARKS
            ],
        )
        conn.execute(
            insert(rides),
            [
                {"id": ride, "park_id": park, "name": f"Ride {ride}", "tier": tier, **stamp}
                for ride, park, tier in {(r[0], r[1], r[2]) for r in RIDE_DAYS}
            ],
        )
        by_park_day: dict[tuple[int, date], list[tuple[Any, ...]]] = {}
        for row in RIDE_DAYS:
            by_park_day.setdefault((row[1], row[3]), []).append(row)
        # Latest day first: every earlier day saved after it carries its totals forward.
        for (park, day), rows_ in sorted(by_park_day.items(), key=lambda item: item[0][1])[::-1]:
            tiers = {r[0]: r[2] for r in RIDE_DAYS if r[1] == park}
            rides_ = {
                ride: RideDay(ride, T, T, up, down, events, longest, 30.0, 45, 10)
                for ride, _, _, _, up, down, events, longest in rows_
            }
            park_day = ParkDay(day, T, T, 660.0, 70, 66, False, rides_)
            save_park_day(conn, park, park_day, tiers, final=True, computed_at=T)
    return engine


def test_park_rankings_sum_each_parks_own_dates_and_rank_by_shame(stats: Engine) -> None:
    with stats.connect() as conn:
        ranking = park_rankings(conn, dates_of)
    assert [r.park_id for r in ranking] == [16, 6, 50]
    kingdom = ranking[1]
    assert kingdom.totals.downtime_minutes == 90
    assert kingdom.totals.downtime_hours == 1.5
    assert kingdom.totals.weighted_downtime_minutes == 3 * 60 + 1 * 30
    assert kingdom.totals.shame_score == round(10 * 210 / (3 * 1320 + 660), 2)
    assert kingdom.totals.uptime_pct == pytest.approx(100 * 1890 / 1980)
    assert (kingdom.rides_tracked, kingdom.rides_with_downtime) == (2, 2)
    assert kingdom.previous.downtime_minutes == 120
    assert trend(kingdom) == pytest.approx(100 * (90 - 120) / 120)
    disneyland = ranking[0]
    assert (disneyland.park.first, disneyland.park.last) == LOS_ANGELES
    assert disneyland.totals.downtime_minutes == 100
    assert trend(disneyland) is None
    assert ranking[2].totals.shame_score == 0


def test_the_disney_universal_filter_and_a_single_park(stats: Engine) -> None:
    with stats.connect() as conn:
        assert {r.park_id for r in park_rankings(conn, dates_of, disney_universal_only=True)} == {
            6,
            16,
        }
        assert [r.park_id for r in park_rankings(conn, dates_of, park_id=50)] == [50]


def test_ride_rankings_weigh_each_day_by_its_tier_and_rank_by_downtime(stats: Engine) -> None:
    with stats.connect() as conn:
        ranking = ride_rankings(conn, dates_of)
    assert [r.ride_id for r in ranking] == [1601, 601, 602, 5001]
    top = ranking[0]
    assert (top.totals.downtime_minutes, top.downtime_events, top.longest_downtime_minutes) == (
        100,
        3,
        50,
    )
    assert top.totals.weighted_downtime_minutes == 200
    mountain = ranking[1]
    assert mountain.totals.downtime_minutes == 60
    assert mountain.previous.downtime_minutes == 120
    assert trend(mountain) == -50
    assert mountain.totals.avg_wait == 30 and mountain.totals.peak_wait == 45
    assert mountain.park.name == "Magic Kingdom"


def test_the_maxima_of_spans_equal_the_maxima_read_from_the_days(
    stats: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stats.connect() as conn:
        spans = ride_rankings(conn, dates_of)
        peaks = ride_rankings(conn, dates_of, sort="peak_wait")
        parks_ = park_rankings(conn, dates_of)
        monkeypatch.setattr(maxima, "MAX_DAYS", 0)  # every range is read from its days
        assert ride_rankings(conn, dates_of) == spans
        assert ride_rankings(conn, dates_of, sort="peak_wait") == peaks
        assert park_rankings(conn, dates_of) == parks_
    many = spans
    # Each park's own range: not 120 (the period before) nor 300 (after Los Angeles' range).
    assert [r.longest_downtime_minutes for r in many] == [50, 40, 30, 0]


def test_a_period_without_statistics_ranks_nothing(stats: Engine) -> None:
    def long_ago(timezone: str) -> tuple[date, date]:
        return date(2020, 1, 1), date(2020, 1, 7)

    with stats.connect() as conn:
        assert ride_rankings(conn, long_ago) == []
        ranking = park_rankings(conn, long_ago)
    assert all(r.totals.shame_score is None and r.rides_tracked == 0 for r in ranking)
    assert len(ranking) == 3 and ranking[0].park.first == date(2020, 1, 1)


def test_rides_sort_by_any_key_in_either_order_and_stop_at_the_limit(stats: Engine) -> None:
    with stats.connect() as conn:

        def ids(**options: Any) -> list[int]:
            return [r.ride_id for r in ride_rankings(conn, dates_of, **options)]

        assert ids(limit=2) == [1601, 601]
        assert ids(sort="uptime", descending=False) == [1601, 601, 602, 5001]
        assert ids(sort="events") == [1601, 601, 602, 5001]
        assert ids(sort="peak_wait", limit=3) == [601, 602, 1601]
        assert ids(sort="name", descending=False) == [1601, 5001, 601, 602]
        assert ids(sort="downtime", descending=False, limit=1) == [5001]
        with pytest.raises(ValueError, match="unknown sort 'fun'"):
            ids(sort="fun")
        (peak,) = ride_rankings(conn, dates_of, sort="peak_wait", limit=1)
    assert (
        peak.totals.peak_wait,
        peak.totals.downtime_minutes,
        peak.previous.downtime_minutes,
    ) == (
        45,
        60,
        120,
    )
    assert peak.longest_downtime_minutes == 40  # its own period's, not the 120 before it


def test_parks_sort_by_any_key_and_parks_without_the_figure_come_last(stats: Engine) -> None:
    with stats.connect() as conn:

        def ids(**options: Any) -> list[int]:
            return [r.park_id for r in park_rankings(conn, dates_of, **options)]

        assert ids(sort="name", descending=False) == [50, 16, 6]
        assert ids(sort="trend") == [6, 50, 16]
        assert ids(sort="uptime", descending=False) == [16, 6, 50]
        assert ids(sort="rides_with_downtime") == [6, 16, 50]
        with pytest.raises(ValueError, match="unknown sort 'fun'"):
            ids(sort="fun")
