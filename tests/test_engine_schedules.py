"""Counting with published hours and statuses (methodology, "With published schedules and
statuses"), against hand-computed expectations and the invariants the rules keep."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from themepark_tracker.engine.days import ParkDay, compute_park_day
from themepark_tracker.engine.live import live_status
from themepark_tracker.engine.sessions import DayRules, Hours, Poll, operating_hours
from themepark_tracker.engine.states import State, Status

RULES = DayRules()
DAY = date(2026, 7, 4)
OPENS = datetime(2026, 7, 4, 13, 0, tzinfo=UTC)  # 09:00 in New York
CLOSES = OPENS + timedelta(hours=12)
HOURS: Hours = ((OPENS, CLOSES),)
AFTER = CLOSES + timedelta(hours=3)
STATE = {"o": "open", "c": "closed", "u": "unknown"}
STATUS = {"O": "OPERATING", "D": "DOWN", "C": "CLOSED", "R": "REFURBISHMENT", "-": None}


def at(minutes: int) -> datetime:
    """Minutes after the published opening."""
    return OPENS + timedelta(minutes=minutes)


def park(
    start: int, rides: dict[int, str], statuses: dict[int, str] | None = None, step: int = 10
) -> list[Poll]:
    """Polls every `step` minutes from `start` minutes after opening, one letter a poll
    per ride; ride 1 to 3 open all along keep the park active where they are open."""
    count = len(next(iter(rides.values())))
    polls = []
    for index in range(count):
        states: dict[int, State] = {
            ride: STATE[column[index]]  # type: ignore[misc]
            for ride, column in rides.items()
        }
        said: dict[int, Status] = {
            ride: STATUS[column[index]]  # type: ignore[misc]
            for ride, column in (statuses or {}).items()
            if STATUS[column[index]] is not None
        }
        waits = {ride: 20 if state == "open" else 0 for ride, state in states.items()}
        active = sum(1 for state in states.values() if state == "open") >= 2
        polls.append(
            Poll(at(start + index * step), active, states, waits, said if statuses else None)
        )
    return polls


def day(polls: list[Poll], hours: Hours | None = HOURS, now: datetime = AFTER) -> ParkDay:
    return compute_park_day(DAY, polls, now=now, rules=RULES, hours=hours)


def open_all_day(count: int) -> dict[int, str]:
    return {1: "o" * count, 2: "o" * count}


# --- the session: published hours -----------------------------------------------------------


def test_published_hours_are_the_session_not_early_entry_or_the_frozen_waits_after() -> None:
    # The park is active from an hour before opening (early entry) to an hour after the
    # close (frozen waits); ride 7 opens with the public.
    before, during, after = 6, 72, 6
    ride = "c" * before + "o" * during + "o" * after
    polls = park(-60, {**open_all_day(before + during + after), 7: ride})
    counted = day(polls)
    assert counted.scheduled
    assert (counted.session_start, counted.session_end) == (OPENS, CLOSES)
    assert (counted.observed_start, counted.observed_end) == (at(-60), at(770))
    assert counted.operating_minutes == 720
    assert counted.rides[7].window_start == OPENS
    assert counted.rides[7].downtime_minutes == 0
    assert counted.rides[7].uptime_minutes == 720
    inferred = day(polls, hours=None)
    assert not inferred.scheduled and inferred.operating_minutes == 840


def test_a_poll_straddling_the_opening_or_the_close_covers_only_its_part_inside() -> None:
    polls = park(-5, open_all_day(74))  # 08:55, 09:05, ... 21:05
    counted = day(polls)
    assert counted.operating_minutes == 720
    assert counted.rides[1].uptime_minutes == 720


def test_a_day_published_closed_has_no_session_and_no_ride() -> None:
    counted = day(park(0, open_all_day(72)), hours=())
    assert counted.scheduled and counted.session_start is None and counted.rides == {}
    assert counted.operating_minutes == 0


def test_a_published_day_without_one_active_poll_has_no_eligible_ride() -> None:
    # Weather: the park never opened, though its rides are reported DOWN all day.
    polls = park(0, {1: "c" * 72, 2: "c" * 72}, {1: "D" * 72, 2: "D" * 72})
    counted = day(polls)
    assert counted.rides == {} and counted.operating_minutes == 0
    assert (counted.session_start, counted.session_end) == (OPENS, CLOSES)


def test_split_published_hours_are_their_union() -> None:
    assert operating_hours([(at(300), at(400)), (at(0), at(120)), (at(100), at(200))]) == (
        (at(0), at(200)),
        (at(300), at(400)),
    )


def test_a_split_day_counts_nothing_between_its_published_stretches() -> None:
    # Open 09:00-12:00 and 14:00-21:00; ride 7 closed at lunch is not down then.
    hours = operating_hours([(at(0), at(180)), (at(300), at(720))])
    ride = "o" * 18 + "c" * 12 + "o" * 42
    counted = day(
        park(0, {**open_all_day(72), 7: ride}, {7: "O" * 18 + "D" * 12 + "O" * 42}), hours
    )
    ride_day = counted.rides[7]
    assert counted.operating_minutes == 600
    assert (ride_day.uptime_minutes, ride_day.downtime_minutes, ride_day.outages) == (600, 0, ())


# --- statuses -------------------------------------------------------------------------------


def test_a_delayed_opening_reported_down_counts_from_the_session_start() -> None:
    ride = "c" * 6 + "o" * 66
    with_status = park(0, {**open_all_day(72), 7: ride}, {7: "D" * 6 + "O" * 66})
    counted = day(with_status).rides[7]
    assert counted.downtime_minutes == 60 and counted.window_start == OPENS
    (outage,) = counted.outages
    assert (outage.start, outage.end, outage.minutes, outage.censored) == (
        OPENS,
        at(60),
        60,
        False,
    )
    planned = park(0, {**open_all_day(72), 7: ride}, {7: "C" * 6 + "O" * 66})
    assert day(planned).rides[7].downtime_minutes == 0
    assert day(park(0, {**open_all_day(72), 7: ride})).rides[7].downtime_minutes == 0


def test_a_breakdown_to_the_close_counts_and_is_censored() -> None:
    ride = "o" * 66 + "c" * 6
    down = day(park(0, {**open_all_day(72), 7: ride}, {7: "O" * 66 + "D" * 6})).rides[7]
    assert down.downtime_minutes == 60
    (outage,) = down.outages
    assert (outage.start, outage.end, outage.censored, outage.ongoing) == (
        at(660),
        CLOSES,
        True,
        False,
    )
    closed_early = day(park(0, {**open_all_day(72), 7: ride}, {7: "O" * 66 + "C" * 6}))
    assert closed_early.rides[7].downtime_minutes == 0 and closed_early.rides[7].outages == ()


def test_a_ride_down_all_day_is_down_all_day() -> None:
    counted = day(park(0, {**open_all_day(72), 7: "c" * 72}, {7: "D" * 72}))
    ride = counted.rides[7]
    assert (ride.uptime_minutes, ride.downtime_minutes, ride.uptime_pct) == (0, 720, 0)
    assert [outage.censored for outage in ride.outages] == [True]
    never = day(park(0, {**open_all_day(72), 7: "c" * 72}, {7: "C" * 72}))
    assert 7 not in never.rides


def test_a_ride_under_refurbishment_at_any_poll_is_not_eligible() -> None:
    ride = "o" * 36 + "c" * 36
    counted = day(park(0, {**open_all_day(72), 7: ride}, {7: "O" * 36 + "R" * 36}))
    assert 7 not in counted.rides and 1 in counted.rides


def test_disagreements_inside_the_session_are_unknown_and_counted() -> None:
    # Queue-Times open for 3 polls that ThemeParks.wiki says are CLOSED, and closed for 2
    # it says are OPERATING; ride 7 stays open all night, which is not recorded.
    count = 90
    ride = "o" * 10 + "ooo" + "cc" + "o" * 57 + "o" * 18
    statuses = "O" * 10 + "CCC" + "OO" + "O" * 57 + "C" * 18
    counted = day(park(0, {**open_all_day(count), 7: ride}, {7: statuses}))
    assert counted.disagreements == {7: 5}
    assert counted.rides[7].uptime_minutes == 670 and counted.rides[7].downtime_minutes == 0


def test_statuses_apply_without_a_schedule_inside_the_inferred_session() -> None:
    ride = "c" * 6 + "o" * 60 + "c" * 6
    counted = day(park(0, {**open_all_day(72), 7: ride}, {7: "D" * 6 + "O" * 60 + "D" * 6}), None)
    assert not counted.scheduled
    ride_day = counted.rides[7]
    # The inferred session ends at its last active poll (20:50), which covers 10 min.
    assert ride_day.downtime_minutes == 120
    assert [(o.start, o.censored) for o in ride_day.outages] == [(OPENS, False), (at(660), True)]
    assert ride_day.outages[-1].end == CLOSES


def test_an_outage_reported_down_while_the_published_session_runs_goes_on() -> None:
    ride = "o" * 30 + "c" * 6
    now = at(360)
    counted = day(park(0, {**open_all_day(36), 7: ride}, {7: "O" * 30 + "D" * 6}), now=now)
    assert counted.running
    (outage,) = counted.rides[7].outages
    assert outage.ongoing and not outage.censored
    latest = park(0, {**open_all_day(36), 7: ride}, {7: "O" * 30 + "D" * 6})[-1]
    assert latest.statuses is not None
    live = live_status(counted, latest, [1, 7], now, RULES, latest.statuses)
    assert live.rides == {1: "running", 7: "down"}


# --- invariants -----------------------------------------------------------------------------

columns = st.integers(min_value=1, max_value=80).flatmap(
    lambda n: st.tuples(
        st.text("oooocu", min_size=n, max_size=n),
        st.text("OOOODCR--", min_size=n, max_size=n),
        st.integers(min_value=-12, max_value=12),
    )
)


@given(columns)
def test_statuses_that_agree_and_say_closed_change_nothing(
    column: tuple[str, str, int],
) -> None:
    """CLOSED never adds downtime: statuses that only confirm the readings leave every
    figure as it is without them."""
    ride, _, start = column
    agreeing = "".join("O" if state == "o" else "C" if state == "c" else "-" for state in ride)
    base = {1: "o" * len(ride), 2: "o" * len(ride), 7: ride}
    for hours in (HOURS, None):
        without = day(park(start, base), hours)
        with_statuses = day(park(start, base, {7: agreeing}), hours)
        assert without.rides.get(7) == with_statuses.rides.get(7)
        assert with_statuses.disagreements == {}


@given(columns)
def test_outages_sum_to_the_downtime_inside_the_published_hours(
    column: tuple[str, str, int],
) -> None:
    ride, statuses, start = column
    base = {1: "o" * len(ride), 2: "o" * len(ride), 7: ride}
    counted = day(park(start, base, {7: statuses}))
    ride_day = counted.rides.get(7)
    if ride_day is None:
        return
    assert abs(sum(o.minutes for o in ride_day.outages) - ride_day.downtime_minutes) < 1e-9
    assert ride_day.downtime_events == len(ride_day.outages)
    assert ride_day.uptime_minutes + ride_day.downtime_minutes <= counted.operating_minutes + 1e-9
    assert OPENS - RULES.interval < ride_day.window_start <= ride_day.window_end < CLOSES
    assert all(o.end is not None and o.end <= CLOSES for o in ride_day.outages)
