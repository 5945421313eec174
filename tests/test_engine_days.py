"""Sessions, ride days and park figures, against hand-computed expectations (methodology)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from themepark_tracker.engine.days import compute_park_day
from themepark_tracker.engine.periods import period_dates, previous_period
from themepark_tracker.engine.scores import Totals, ride_totals, total, trend_pct, uptime_change
from themepark_tracker.engine.sessions import (
    DayRules,
    Poll,
    coverage,
    day_bounds,
    find_session,
    park_day_of,
)
from themepark_tracker.engine.states import State

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
RULES = DayRules()
DAY = date(2026, 7, 4)


def local(hour: int, minute: int = 0, day: date = DAY, zone: ZoneInfo = NEW_YORK) -> datetime:
    moment = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(
        hours=hour, minutes=minute
    )
    return moment.astimezone(UTC)


def every(start: datetime, end: datetime, minutes: int = 10) -> list[datetime]:
    times, at = [], start
    while at < end:
        times.append(at)
        at += timedelta(minutes=minutes)
    return times


def day_polls(
    times: list[datetime],
    active: bool | dict[datetime, bool] = True,
    rides: dict[int, dict[datetime, State]] | None = None,
    wait: int = 20,
) -> list[Poll]:
    polls = []
    for at in times:
        states = {ride_id: by_time.get(at, "closed") for ride_id, by_time in (rides or {}).items()}
        is_active = active.get(at, False) if isinstance(active, dict) else active
        waits = {ride_id: (wait if state == "open" else 0) for ride_id, state in states.items()}
        polls.append(Poll(at, is_active, states, waits))
    return polls


# --- days and coverage ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 7), 23), (date(2026, 10, 31), 25), (DAY, 24)]
)
def test_a_park_day_runs_from_four_to_four_local_and_follows_dst(day: date, hours: int) -> None:
    start, end = day_bounds(day, NEW_YORK, RULES)
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(NEW_YORK).hour == 4


@pytest.mark.parametrize(
    ("at", "day"),
    [
        (datetime(2026, 7, 5, 6, 30, tzinfo=UTC), date(2026, 7, 4)),  # 23:30 in Los Angeles
        (datetime(2026, 7, 5, 10, 59, tzinfo=UTC), date(2026, 7, 4)),  # 03:59 local
        (datetime(2026, 7, 5, 11, 0, tzinfo=UTC), date(2026, 7, 5)),  # 04:00 local
    ],
)
def test_a_los_angeles_day_crosses_utc_midnight(at: datetime, day: date) -> None:
    assert park_day_of(at, LOS_ANGELES, RULES) == day


def test_coverage_stops_at_the_max_gap_and_the_latest_poll_at_one_interval() -> None:
    t = local(10)
    polls = day_polls([t, t + timedelta(minutes=10), t + timedelta(minutes=55)])
    spans = coverage(polls, now=t + timedelta(minutes=58), rules=RULES)
    assert spans == [timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=3)]
    spans = coverage(polls, now=t + timedelta(hours=5), rules=RULES)
    assert spans[-1] == timedelta(minutes=10)


# --- sessions ---------------------------------------------------------------------------


def test_a_burst_after_midnight_is_not_the_session() -> None:
    times = every(local(9), local(26))
    active = {t: local(9) <= t < local(21) or local(24, 30) <= t < local(25, 30) for t in times}
    polls = day_polls(times, active=active)
    session = find_session(polls, coverage(polls, local(26), RULES), RULES)
    assert session is not None
    assert (polls[session.first].at, polls[session.last].at) == (local(9), local(20, 50))


def test_a_storm_shorter_than_the_bridge_stays_inside_the_session() -> None:
    times = every(local(9), local(21))
    storm = set(every(local(14), local(15, 30)))
    polls = day_polls(times, active={t: t not in storm for t in times})
    session = find_session(polls, coverage(polls, local(22), RULES), RULES)
    assert session is not None and polls[session.first].at == local(9)
    assert polls[session.last].at == local(20, 50)


def test_observed_inactivity_longer_than_the_bridge_splits_runs_and_the_longest_wins() -> None:
    times = every(local(9), local(21))
    closed = set(every(local(11), local(13, 10)))  # 130 minutes observed inactive
    polls = day_polls(times, active={t: t not in closed for t in times})
    session = find_session(polls, coverage(polls, local(22), RULES), RULES)
    assert session is not None
    assert polls[session.first].at == local(13, 10)


def test_time_without_polls_does_not_break_a_run() -> None:
    times = every(local(9), local(12)) + every(local(16), local(21))
    polls = day_polls(times)
    session = find_session(polls, coverage(polls, local(22), RULES), RULES)
    assert session is not None
    assert (polls[session.first].at, polls[session.last].at) == (local(9), local(20, 50))


def test_a_day_without_an_active_poll_has_no_session() -> None:
    polls = day_polls(every(local(0), local(23)), active=False)
    day = compute_park_day(DAY, polls, now=local(28), rules=RULES)
    assert day.session_start is None and day.operating_minutes == 0 and day.rides == {}


# --- a ride's day -----------------------------------------------------------------------


def test_a_closure_inside_the_window_is_downtime_but_a_late_opening_is_not() -> None:
    times = every(local(9), local(21))
    ride = {
        t: "open" for t in times if local(12) <= t < local(20) and not local(15) <= t < local(16)
    }
    polls = day_polls(times, rides={1: ride})  # type: ignore[dict-item]
    day = compute_park_day(DAY, polls, now=local(23), rules=RULES)
    ride_day = day.rides[1]
    assert day.operating_minutes == 12 * 60
    assert (ride_day.window_start, ride_day.window_end) == (local(12), local(19, 50))
    assert ride_day.downtime_minutes == 60
    assert ride_day.uptime_minutes == 7 * 60
    assert ride_day.downtime_events == 1
    assert ride_day.longest_downtime_minutes == 60
    assert ride_day.uptime_pct == pytest.approx(100 * 7 / 8)
    assert ride_day.avg_wait == 20 and ride_day.peak_wait == 20


def test_a_late_night_past_local_midnight_stays_in_the_day_it_began() -> None:
    times = every(local(4, 10), local(28))
    night = {t: True for t in times if local(10) <= t <= local(25, 30)}
    ride = {t: "open" for t in night}
    polls = day_polls(times, active=night, rides={1: ride})  # type: ignore[dict-item]
    assert park_day_of(local(25, 30), NEW_YORK, RULES) == DAY
    day = compute_park_day(DAY, polls, now=local(30), rules=RULES)
    assert (day.session_start, day.session_end) == (local(10), local(25, 30))
    # 94 polls from 10:00 to 01:30, each covering the 10 minutes to the next one.
    assert day.operating_minutes == 940
    assert day.rides[1].uptime_minutes == 940 and day.rides[1].downtime_minutes == 0


def test_a_night_across_the_fall_back_counts_the_hour_that_repeats() -> None:
    # 31 October 2026 is a 25-hour park day in New York: at 02:00 EDT on 1 November the
    # clocks go back to 01:00 EST. A Halloween night runs from 19:00 EDT to the second
    # 01:30, and the ride stops from the first 01:30 to the second 01:10: 40 minutes that
    # the park's clocks show as 20 minutes back.
    day = date(2026, 10, 31)
    start, end = datetime(2026, 10, 31, 23, tzinfo=UTC), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    times = every(datetime(2026, 10, 31, 12, tzinfo=UTC), datetime(2026, 11, 1, 9, tzinfo=UTC))
    assert {park_day_of(t, NEW_YORK, RULES) for t in times} == {day}
    active = {t: start <= t <= end for t in times}
    stop = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    ride = {t: "open" for t in times if active[t] and not stop <= t < stop + timedelta(minutes=40)}
    polls = day_polls(times, active=active, rides={1: ride})  # type: ignore[dict-item]
    result = compute_park_day(day, polls, now=datetime(2026, 11, 1, 12, tzinfo=UTC), rules=RULES)
    assert (result.session_start, result.session_end) == (start, end)
    # 46 polls, each covering the 10 minutes to the next: 7 h 40 of real time, where the
    # park's clocks show 6 h 40.
    assert result.operating_minutes == 460
    assert result.rides[1].downtime_minutes == 40
    assert result.rides[1].uptime_minutes == 420


def test_a_night_across_the_spring_forward_loses_the_hour_that_never_was() -> None:
    # 7 March 2026 is a 23-hour park day in New York: at 02:00 EST on 8 March the clocks
    # jump to 03:00 EDT. A night from 20:00 EST to 03:30 EDT is 6 h 30 long, not 7 h 30.
    day = date(2026, 3, 7)
    start, end = datetime(2026, 3, 8, 1, tzinfo=UTC), datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    times = every(datetime(2026, 3, 7, 9, tzinfo=UTC), datetime(2026, 3, 8, 8, tzinfo=UTC))
    assert {park_day_of(t, NEW_YORK, RULES) for t in times} == {day}
    assert park_day_of(datetime(2026, 3, 8, 8, tzinfo=UTC), NEW_YORK, RULES) == day + timedelta(1)
    active = {t: start <= t <= end for t in times}
    ride = {t: "open" for t in times if active[t]}
    polls = day_polls(times, active=active, rides={1: ride})  # type: ignore[dict-item]
    result = compute_park_day(day, polls, now=datetime(2026, 3, 8, 12, tzinfo=UTC), rules=RULES)
    assert (result.session_start, result.session_end) == (start, end)
    assert result.operating_minutes == result.rides[1].uptime_minutes == 400


def test_a_ride_closed_all_day_is_not_eligible() -> None:
    times = every(local(9), local(21))
    polls = day_polls(times, rides={1: {t: "open" for t in times}, 2: {}})
    day = compute_park_day(DAY, polls, now=local(23), rules=RULES)
    assert set(day.rides) == {1}


def test_unknown_readings_count_neither_up_nor_down() -> None:
    times = every(local(9), local(11))
    states: dict[datetime, State] = {t: "open" for t in times}
    states[local(10)] = "unknown"
    polls = day_polls(times, rides={1: states})
    ride_day = compute_park_day(DAY, polls, now=local(23), rules=RULES).rides[1]
    assert (ride_day.uptime_minutes, ride_day.downtime_minutes) == (110, 0)


def test_an_ongoing_closure_counts_while_the_session_runs_and_drops_if_it_never_reopens() -> None:
    times = every(local(9), local(15))
    ride: dict[datetime, State] = {t: "open" for t in times if t < local(14)}
    polls = day_polls(times, rides={1: ride})
    live = compute_park_day(DAY, polls, now=local(15, 1), rules=RULES)
    assert live.running
    assert live.rides[1].downtime_minutes == 60
    later = day_polls(times + every(local(15), local(16)), active=False, rides={1: ride})
    later = [Poll(p.at, p.at < local(15), p.states, p.waits) for p in later]
    done = compute_park_day(DAY, later, now=local(17), rules=RULES)
    assert not done.running
    assert done.rides[1].downtime_minutes == 0


def test_only_counted_rides_are_figured() -> None:
    times = every(local(9), local(10))
    polls = day_polls(times, rides={1: {t: "open" for t in times}, 2: {t: "open" for t in times}})
    day = compute_park_day(DAY, polls, now=local(23), rules=RULES, counted=[2])
    assert set(day.rides) == {2}


# --- figures and periods ----------------------------------------------------------------


def test_shame_weighs_tiers_and_sums_minutes_before_dividing() -> None:
    times = every(local(9), local(19))
    one = {t: "open" for t in times if not local(12) <= t < local(14)}
    three = {t: "open" for t in times}
    polls = day_polls(times, rides={1: one, 3: three})  # type: ignore[dict-item]
    day = compute_park_day(DAY, polls, now=local(23), rules=RULES)
    totals = total([ride_totals(day.rides[1], 1), ride_totals(day.rides[3], 3)])
    assert totals.downtime_hours == 2
    assert totals.weighted_downtime_hours == 6
    assert totals.shame_score == round(10 * (3 * 120) / (3 * 600 + 1 * 600), 2)
    assert totals.uptime_pct == pytest.approx(100 * (480 + 600) / 1200)


def test_trends() -> None:
    assert trend_pct(150, 100) == 50
    assert trend_pct(10, 0) is None and trend_pct(10, None) is None
    assert uptime_change(91.0, 97.5) == pytest.approx(-6.5)
    assert uptime_change(None, 97.5) is None


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("today", date(2026, 7, 8), date(2026, 7, 8)),
        ("yesterday", date(2026, 7, 7), date(2026, 7, 7)),
        ("last_7_days", date(2026, 7, 2), date(2026, 7, 8)),
        ("last_30_days", date(2026, 6, 9), date(2026, 7, 8)),
        ("last_week", date(2026, 6, 29), date(2026, 7, 5)),
        ("last_month", date(2026, 6, 1), date(2026, 6, 30)),
    ],
)
def test_periods_for_a_wednesday(period: str, first: date, last: date) -> None:
    assert period_dates(period, date(2026, 7, 8)) == (first, last)


def test_the_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    assert previous_period(date(2026, 7, 2), date(2026, 7, 8)) == (
        date(2026, 6, 25),
        date(2026, 7, 1),
    )
    with pytest.raises(ValueError, match="unknown period 'fortnight'"):
        period_dates("fortnight", DAY)


states_strategy = st.lists(
    st.tuples(st.booleans(), st.sampled_from(["open", "closed", "unknown"]), st.integers(1, 30)),
    min_size=1,
    max_size=80,
)


@given(states_strategy)
def test_up_plus_down_never_exceeds_operating_minutes_and_shame_stays_in_range(
    steps: list[tuple[bool, State, int]],
) -> None:
    at = local(8)
    polls = []
    for active, state, gap in steps:
        polls.append(Poll(at, active, {1: state, 2: "open"}, {1: 10, 2: 10}))
        at += timedelta(minutes=gap)
    day = compute_park_day(DAY, polls, now=at + timedelta(hours=3), rules=RULES)
    for ride_day in day.rides.values():
        assert ride_day.uptime_minutes + ride_day.downtime_minutes <= day.operating_minutes + 1e-9
    totals = total(ride_totals(r, 1) for r in day.rides.values())
    assert totals.shame_score is None or 0 <= totals.shame_score <= 10
    assert Totals() + totals == totals


@given(states_strategy, st.integers(1, 10))
def test_the_live_figure_after_closing_equals_the_final_one_from_the_same_polls(
    steps: list[tuple[bool, State, int]], closing_polls: int
) -> None:
    at = local(8)
    polls = []
    for active, state, gap in steps:
        polls.append(Poll(at, active, {1: state, 2: "open", 3: "closed"}, {1: 10, 2: 10}))
        at += timedelta(minutes=gap)
    for _ in range(closing_polls):
        polls.append(Poll(at, False, {1: "closed", 2: "closed", 3: "closed"}, {}))
        at += timedelta(minutes=10)
    live = compute_park_day(DAY, polls, now=polls[-1].at + timedelta(minutes=1), rules=RULES)
    final = compute_park_day(DAY, polls, now=local(12, day=DAY + timedelta(days=2)), rules=RULES)
    assert not live.running
    assert live.rides == final.rides
    assert (live.session_start, live.session_end, live.operating_minutes) == (
        final.session_start,
        final.session_end,
        final.operating_minutes,
    )
