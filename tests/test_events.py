"""Events from a park day (methodology, "Events"): confirmed by a second poll or a DOWN
status, quiet before the published close, stable ids."""

from __future__ import annotations

from datetime import datetime, timedelta

from test_engine_schedules import AFTER, CLOSES, DAY, HOURS, OPENS, RULES, at, day, park

from themepark_tracker.engine.events import QUIET_BEFORE_CLOSE, Event, day_events, event_id
from themepark_tracker.engine.sessions import Hours, Poll
from themepark_tracker.engine.states import Status

DAY_END = OPENS + timedelta(hours=19)  # 04:00 the next morning in New York


def events(
    polls: list[Poll],
    hours: Hours | None = HOURS,
    now: datetime = AFTER,
    before: dict[int, Status] | None = None,
) -> list[Event]:
    counted = day(polls, hours, now)
    return day_events(
        6, counted, polls, now=now, day_end=DAY_END, rules=RULES, hours=hours,
        statuses_before=before,
    )  # fmt: skip


def kinds(found: list[Event]) -> list[tuple[str, int | None, datetime, datetime]]:
    return [(e.kind, e.ride_id, e.at, e.confirmed_at) for e in found]


def test_a_breakdown_is_announced_by_its_second_closed_poll_and_ended_with_its_length() -> None:
    ride = "o" * 30 + "ccc" + "o" * 39
    found = events(park(0, {1: "o" * 72, 2: "o" * 72, 7: ride}))
    assert kinds(found) == [
        ("park.opened", None, at(0), at(10)),
        ("outage.started", 7, at(300), at(310)),
        ("outage.ended", 7, at(330), at(330)),
        ("park.closed", None, CLOSES, CLOSES),
    ]
    ended = found[2]
    assert ended.data["duration_minutes"] == 30 and not ended.data["down_to_close"]
    assert ended.id == event_id("outage.ended", 6, 7, at(300))  # known by its start


def test_one_closed_poll_is_no_outage_to_announce_unless_it_is_reported_down() -> None:
    ride = "o" * 30 + "c" + "o" * 41
    base = {1: "o" * 72, 2: "o" * 72, 7: ride}
    assert [e.kind for e in events(park(0, base)) if e.ride_id] == []
    down = events(park(0, base, {7: "O" * 30 + "D" + "O" * 41}))
    assert kinds([e for e in down if e.ride_id]) == [
        ("outage.started", 7, at(300), at(300)),
        ("outage.ended", 7, at(310), at(310)),
    ]


def test_no_alarm_just_before_the_published_close() -> None:
    quiet = int(QUIET_BEFORE_CLOSE.total_seconds() // 60)
    ride = "o" * (72 - quiet // 10) + "c" * (quiet // 10)
    polls = park(
        0, {1: "o" * 72, 2: "o" * 72, 7: ride}, {7: ride.replace("o", "O").replace("c", "D")}
    )
    assert [e.kind for e in events(polls) if e.ride_id] == []
    # The outage itself is counted, down to the close: only the announcement is quiet.
    assert day(polls).rides[7].downtime_minutes == quiet


def test_the_park_closes_once_its_session_is_known_to_be_over() -> None:
    polls = park(0, {1: "o" * 36, 2: "o" * 36})
    assert [e.kind for e in events(polls, now=at(360))] == ["park.opened"]
    assert [e.kind for e in events(polls, now=CLOSES)] == ["park.opened", "park.closed"]
    # Without published hours: after `bridge` of observed inactivity, or the day's end.
    inactive = park(0, {1: "o" * 36 + "c" * 13, 2: "o" * 36 + "c" * 13})
    closing = [e for e in events(inactive, None, now=at(480)) if e.kind == "park.closed"]
    assert kinds(closing) == [("park.closed", None, at(350), at(350) + RULES.bridge)]
    assert [e.kind for e in events(park(0, {1: "o" * 36, 2: "o" * 36}), None, now=at(360))] == [
        "park.opened"
    ]


def test_ids_are_stable_and_say_what_they_describe() -> None:
    ride = "o" * 30 + "ccc" + "o" * 39
    polls = park(0, {1: "o" * 72, 2: "o" * 72, 7: ride})
    first, again = events(polls), events(polls)
    assert [e.id for e in first] == [e.id for e in again]
    assert len({e.id for e in first}) == len(first)
    assert DAY.isoformat() not in first[0].id  # derived, not spelled out


def test_refurbishments_start_and_end_where_the_status_changes() -> None:
    base = {1: "o" * 72, 2: "o" * 72, 7: "c" * 72}
    statuses = {7: "R" * 40 + "C" * 32}
    found = [e for e in events(park(0, base, statuses), before={7: "REFURBISHMENT"}) if e.ride_id]
    assert kinds(found) == [("ride.refurbishment_ended", 7, at(400), at(400))]
    fresh = [e for e in events(park(0, base, statuses)) if e.ride_id]
    assert [e.kind for e in fresh] == ["ride.refurbishment_started", "ride.refurbishment_ended"]
