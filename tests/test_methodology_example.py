"""The worked example of docs/methodology.md, run through the real engine.

The polls are the document's table, sent as Queue-Times payloads through
`ingest.plan_poll` (what `collect` and `import` store) and read back as a day's polls
the way `storage.queries.polls_between` reads them (successful fetches only, each
ride's state and wait from `ride_states`). The park day is then computed by
`engine.days.compute_park_day`, as `jobs.daily_stats.refresh_park_day` computes it.

Every figure is hard-coded here and checked twice: against what the engine gives,
and against what the document states. Change a number in either place and a test fails.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from themepark_tracker.classify import Decisions
from themepark_tracker.config import Settings
from themepark_tracker.engine.days import ParkDay, compute_park_day
from themepark_tracker.engine.live import live_status
from themepark_tracker.engine.scores import ride_totals, tier_weight, total
from themepark_tracker.engine.sessions import Poll, coverage, day_bounds, park_day_of
from themepark_tracker.engine.states import is_counted
from themepark_tracker.ingest import PollInput, StoredRide, apply_plan, plan_poll
from themepark_tracker.storage import ride_states

DOC_PATH = Path(__file__).parents[1] / "docs" / "methodology.md"
DEFAULTS = Settings.model_validate({})
STATE_RULES = DEFAULTS.state_rules()
DAY_RULES = DEFAULTS.day_rules()

KNOTTS = 61  # Knott's Berry Farm in Queue-Times' catalogue
ZONE = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 7, 11)
GHOSTRIDER, SILVER_BULLET, CALICO = 901, 902, 903
NAMES = {GHOSTRIDER: "GhostRider", SILVER_BULLET: "Silver Bullet", CALICO: "Calico Mine Ride"}
TIERS: dict[int, int | None] = {GHOSTRIDER: 1, SILVER_BULLET: 1, CALICO: 2}
EVERY = timedelta(minutes=10)
FEED_LAG = timedelta(minutes=2)
FRESH = "2 min before the poll"

#: The document's poll table, cell for cell: local time, UTC, polls, GhostRider's
#: `is_open`, `wait_time`, `last_updated`, and the two other rides' reading.
POLL_TABLE = [
    ("04:00–06:50", "11:00–13:50", "18", "false", "0", FRESH, "closed"),
    ("07:00", "14:00", "1", "false", "0", FRESH, "open, wait 5"),
    ("07:10–09:50", "14:10–16:50", "17", "false", "0", FRESH, "closed"),
    ("10:00–10:20", "17:00–17:20", "3", "false", "0", FRESH, "open, wait 20"),
    ("10:30", "17:30", "1", "true", "15", FRESH, "open, wait 20"),
    ("10:40–11:50", "17:40–18:50", "8", "true", "35", FRESH, "open, wait 20"),
    ("12:00–13:10", "19:00–20:10", "8", "true", "60", FRESH, "open, wait 20"),
    ("13:20", "20:20", "1", "false", "0", FRESH, "open, wait 20"),
    ("13:30–13:40", "20:30–20:40", "0", "—", "—", "—", "fetch failed (HTTP 503)"),
    ("13:50", "20:50", "1", "false", "0", FRESH, "open, wait 20"),
    ("14:00–14:50", "21:00–21:50", "6", "true", "40", FRESH, "open, wait 20"),
    ("15:00–15:50", "22:00–22:50", "6", "true", "45", "2026-07-11T21:55:00Z", "open, wait 20"),
    ("16:00–16:10", "23:00–23:10", "2", "true", "45", "2026-07-11T21:55:00Z", "open, wait 20"),
    ("16:20–18:50", "23:20–01:50", "16", "true", "50", FRESH, "open, wait 20"),
    ("19:00–21:10", "02:00–04:10", "14", "true", "30", FRESH, "open, wait 20"),
    ("21:20–21:50", "04:20–04:50", "4", "false", "0", FRESH, "open, wait 20"),
    ("22:00–03:50", "05:00–10:50", "36", "false", "0", FRESH, "closed"),
]

#: Of the document's second table: GhostRider's state, whether the poll is active, and
#: the Σ Δ of the row's polls, in minutes.
STATE_TABLE = [
    ("04:00–06:50", "closed", "no", 180),
    ("07:00", "closed", "yes", 10),
    ("07:10–09:50", "closed", "no", 170),
    ("10:00–10:20", "closed", "yes", 30),
    ("10:30", "open", "yes", 10),
    ("10:40–11:50", "open", "yes", 80),
    ("12:00–13:10", "open", "yes", 80),
    ("13:20", "closed", "yes", 20),
    ("13:30–13:40", "—", "—", 0),
    ("13:50", "closed", "yes", 10),
    ("14:00–14:50", "open", "yes", 60),
    ("15:00–15:50", "open", "yes", 60),
    ("16:00–16:10", "unknown", "yes", 20),
    ("16:20–18:50", "open", "yes", 160),
    ("19:00–21:10", "open", "yes", 140),
    ("21:20–21:50", "closed", "yes", 40),
    ("22:00–03:50", "closed", "no", 360),
]


def local(clock: str) -> datetime:
    """A local time of the park day: before the day's start it is the next date."""
    hour, minute = (int(part) for part in clock.split(":"))
    when = datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=ZONE)
    if when.time() < DAY_RULES.day_start:
        when += timedelta(days=1)
    return when


def hhmm(at: datetime, zone: ZoneInfo | None = None) -> str:
    return at.astimezone(zone or UTC).strftime("%H:%M")


def span(text: str) -> tuple[str, str]:
    first, _, last = text.partition("–")
    return first, last or first


def feed_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def reading(ride_id: int, is_open: bool, wait: int, updated: str) -> dict[str, Any]:
    return {
        "id": ride_id,
        "name": NAMES[ride_id],
        "is_open": is_open,
        "wait_time": wait,
        "last_updated": updated,
    }


def fetches() -> list[PollInput]:
    """Every fetch of the day's polls, failed ones included, as the collector makes them."""
    result: list[PollInput] = []
    for local_span, utc_span, count, is_open, wait, updated, others in POLL_TABLE:
        first, last = (local(clock) for clock in span(local_span))
        times = []
        at = first
        while at <= last:
            times.append(at)
            at += EVERY
        assert tuple(hhmm(t) for t in (times[0], times[-1])) == span(utc_span), local_span
        if count == "0":
            result.extend(
                PollInput(KNOTTS, t.astimezone(UTC), None, "http_error", "HTTP 503", 503)
                for t in times
            )
            continue
        assert len(times) == int(count), local_span
        other_wait = 0 if others == "closed" else int(others.removeprefix("open, wait "))
        for t in times:
            fresh = feed_time(t - FEED_LAG)
            rides = [
                reading(
                    GHOSTRIDER, is_open == "true", int(wait), fresh if updated == FRESH else updated
                ),
                reading(SILVER_BULLET, other_wait > 0, other_wait, fresh),
                reading(CALICO, other_wait > 0, other_wait, fresh),
            ]
            payload = {"lands": [{"id": 77, "name": "Ghost Town", "rides": rides}], "rides": []}
            result.append(PollInput(KNOTTS, t.astimezone(UTC), payload))
    return result


def store_all() -> tuple[list[Poll], set[int]]:
    """The day's polls as the day's recompute reads them, and the rides that count."""
    stored: dict[int, StoredRide] = {}
    polls = []
    for fetch in fetches():
        plan = plan_poll(
            fetch,
            stored,
            cycle_id="example",
            source="collect",
            rules=STATE_RULES,
            ride_absence=timedelta(hours=24),
            decisions=Decisions(),
        )
        stored = apply_plan(stored, plan)
        if plan.poll["outcome"] == "ok":
            states, waits = ride_states.decode(ride_states.encode(plan.snapshots))
            polls.append(Poll(fetch.fetched_at, bool(plan.poll["is_active"]), states, waits))
    counted = {r.id for r in stored.values() if is_counted(r.name, r.category, STATE_RULES)}
    return polls, counted


POLLS, COUNTED = store_all()
NEXT_DAY_FIRST_POLL = local("04:00") + timedelta(days=1)


def polls_until(clock: str | None) -> list[Poll]:
    return [poll for poll in POLLS if clock is None or poll.at <= local(clock)]


def park_day(until: str | None, now: datetime) -> ParkDay:
    """The day as `refresh_park_day` computes it at `now`, from the polls up to `until`."""
    polls = polls_until(until)
    end = day_bounds(DAY, ZONE, DAY_RULES)[1]
    after = NEXT_DAY_FIRST_POLL if end <= now else None
    return compute_park_day(
        DAY, polls, now=now, rules=DAY_RULES, counted=COUNTED, next_poll_at=after
    )


FINAL_NOW = local("12:00") + timedelta(days=1)
FINAL = park_day(None, FINAL_NOW)
AT_2135 = park_day("21:30", local("21:35"))
AT_2205 = park_day("22:00", local("22:05"))


# --- reading the document ---------------------------------------------------------------


def doc() -> str:
    return DOC_PATH.read_text(encoding="utf-8")


def table_after(heading: str, nth: int = 0) -> list[list[str]]:
    """The body rows of the `nth` table of the section whose heading starts with `heading`."""
    lines = doc().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    level = heading.split()[0]
    tables: list[list[list[str]]] = []
    previous = ""
    for line in lines[start + 1 :]:
        if line.startswith("#") and len(line.split()[0]) <= len(level):
            break
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append([cell.strip() for cell in line.strip().strip("|").split("|")])
        previous = line
    assert len(tables) > nth, f"no table {nth} under {heading!r}"
    return tables[nth][2:]  # after the header and the separator


def figures_after(heading: str, nth: int = 0) -> dict[str, str]:
    return {row[0]: row[1] for row in table_after(heading, nth)}


# --- the polls ----------------------------------------------------------------------------


def test_the_document_shows_the_polls_this_test_stores() -> None:
    assert [tuple(row) for row in table_after("### The polls")] == POLL_TABLE


def test_every_poll_belongs_to_the_park_day_of_11_july() -> None:
    assert len(POLLS) == 142
    assert {park_day_of(poll.at, ZONE, DAY_RULES) for poll in POLLS} == {DAY}
    assert park_day_of(NEXT_DAY_FIRST_POLL, ZONE, DAY_RULES) == DAY + timedelta(days=1)
    assert COUNTED == set(NAMES)


def test_the_document_states_each_rows_state_activity_and_coverage() -> None:
    stated = [(row[0], row[1].split()[0], row[2], int(row[4])) for row in table_after("### Step 1")]
    assert stated == STATE_TABLE
    # The day's last poll covers the 10 minutes to the next day's first poll.
    spans = coverage(POLLS, FINAL_NOW, DAY_RULES)
    found = []
    for local_span, *_ in POLL_TABLE:
        first, last = (local(clock) for clock in span(local_span))
        rows = [i for i, poll in enumerate(POLLS) if first <= poll.at <= last]
        states = {POLLS[i].states[GHOSTRIDER] for i in rows}
        active = {"yes" if POLLS[i].active else "no" for i in rows}
        minutes = sum((spans[i] for i in rows), timedelta(0)) / timedelta(minutes=1)
        found.append(
            (
                local_span,
                states.pop() if len(states) == 1 else "—",
                active.pop() if len(active) == 1 else "—",
                minutes,
            )
        )
    assert found == STATE_TABLE


# --- the final day --------------------------------------------------------------------------

SESSION = "10:00–21:50 PDT (17:00–04:50 UTC)"
WINDOW = "10:30–21:10 PDT"


def test_the_session_and_operating_minutes() -> None:
    assert (FINAL.session_start, FINAL.session_end) == (local("10:00"), local("21:50"))
    assert FINAL.operating_minutes == 710
    assert (FINAL.polls, FINAL.active_polls) == (142, 71)
    assert not FINAL.running
    stated = figures_after("### Step 2: the session")
    assert stated == {
        "session": SESSION,
        "`operating_minutes`": "710",
        "`operating_hours`": f"{FINAL.operating_minutes / 60:.2f}",
        "polls / active polls": "142 / 71",
    }
    assert stated["`operating_hours`"] == "11.83"


def test_ghostriders_day() -> None:
    ride = FINAL.rides[GHOSTRIDER]
    assert (ride.window_start, ride.window_end) == (local("10:30"), local("21:10"))
    assert ride.uptime_minutes == 590
    assert ride.downtime_minutes == 30
    assert ride.uptime_pct == pytest.approx(100 * 590 / 620)
    assert ride.downtime_events == 1
    assert ride.longest_downtime_minutes == 30
    assert ride.wait_samples == 59
    assert ride.avg_wait == pytest.approx(2505 / 59)
    assert ride.peak_wait == 60
    stated = figures_after("### Step 3: GhostRider's day")
    assert stated == {
        "window": WINDOW,
        "`uptime_minutes`": "590",
        "`downtime_minutes`": "30",
        "`uptime_pct`": f"{ride.uptime_pct:.2f}",
        "`downtime_events`": "1",
        "`longest_downtime_minutes`": "30",
        "wait samples": "59",
        "`avg_wait`": f"{ride.avg_wait:.2f}",
        "`peak_wait`": "60",
    }
    assert stated["`uptime_pct`"] == "95.16" and stated["`avg_wait`"] == "42.46"


def test_the_park_day() -> None:
    assert set(FINAL.rides) == {GHOSTRIDER, SILVER_BULLET, CALICO}
    assert FINAL.rides[SILVER_BULLET].uptime_minutes == FINAL.rides[CALICO].uptime_minutes == 710
    sums = total(ride_totals(ride, TIERS[ride.ride_id]) for ride in FINAL.rides.values())
    assert (sums.uptime_minutes, sums.downtime_minutes) == (2010, 30)
    assert sums.downtime_hours == 0.5
    assert sums.weighted_downtime_minutes == 90 and sums.weighted_total_minutes == 5410
    assert sums.weighted_downtime_hours == 1.5
    assert sums.uptime_pct == pytest.approx(100 * 2010 / 2040)
    assert sums.shame_score == 0.17
    assert (len(FINAL.rides), FINAL.rides_with_downtime) == (3, 1)
    assert sums.wait_samples == 199 and sums.avg_wait == pytest.approx(5305 / 199)
    assert sums.peak_wait == 60
    assert sums.uptime_pct is not None and sums.avg_wait is not None
    by_ride = {NAMES[ride.ride_id]: ride for ride in FINAL.rides.values()}
    rows = {row[0]: row[1:] for row in table_after("### Step 4", 0)}
    for name, ride in by_ride.items():
        weight = tier_weight(TIERS[ride.ride_id])
        up, down = ride.uptime_minutes, ride.downtime_minutes
        assert ride.avg_wait is not None
        expected = [weight, up, down, weight * down, weight * (up + down), ride.wait_samples]
        assert [int(cell) for cell in rows[name][:6]] == expected, name
        assert int(rows[name][6]) == round(ride.avg_wait * ride.wait_samples), name
    assert [int(cell) for cell in rows["Sum"][1:]] == [2010, 30, 90, 5410, 199, 5305]
    assert figures_after("### Step 4", 1) == {
        "`rides_tracked`": "3",
        "`rides_with_downtime`": "1",
        "`downtime_hours`": "0.5",
        "`weighted_downtime_hours`": "1.5",
        "`uptime_pct`": f"{sums.uptime_pct:.2f}",
        "`shame_score`": "0.17",
        "`avg_wait`": f"{sums.avg_wait:.2f}",
        "`peak_wait`": "60",
    }
    assert f"{sums.uptime_pct:.2f}" == "98.53" and f"{sums.avg_wait:.2f}" == "26.66"


# --- the same day, seen live -----------------------------------------------------------------


def test_at_2135_the_ongoing_closure_counts_provisionally() -> None:
    ride = AT_2135.rides[GHOSTRIDER]
    assert AT_2135.running
    assert (AT_2135.session_start, AT_2135.session_end) == (local("10:00"), local("21:30"))
    assert AT_2135.operating_minutes == 685
    assert (ride.window_start, ride.window_end) == (local("10:30"), local("21:30"))
    assert (ride.uptime_minutes, ride.downtime_minutes) == (590, 45)
    assert ride.downtime_events == 2
    assert ride.longest_downtime_minutes == 30
    assert ride.uptime_pct == pytest.approx(100 * 590 / 635)
    live = live_status(AT_2135, polls_until("21:30")[-1], COUNTED, local("21:35"), DAY_RULES)
    assert live.park_open
    assert live.rides == {GHOSTRIDER: "down", SILVER_BULLET: "running", CALICO: "running"}
    assert f"{ride.uptime_pct:.2f}" == "92.91"


def test_at_2205_the_closure_after_the_last_open_poll_has_dropped_out() -> None:
    ride = AT_2205.rides[GHOSTRIDER]
    assert not AT_2205.running
    assert (AT_2205.session_start, AT_2205.session_end) == (local("10:00"), local("21:50"))
    assert AT_2205.operating_minutes == 710
    assert (ride.window_end, ride.downtime_minutes, ride.downtime_events) == (local("21:10"), 30, 1)
    live = live_status(AT_2205, polls_until("22:00")[-1], COUNTED, local("22:05"), DAY_RULES)
    assert not live.park_open
    assert live.rides == dict.fromkeys(NAMES, "closed")
    later = live_status(AT_2205, polls_until("22:00")[-1], COUNTED, local("22:21"), DAY_RULES)
    assert later.rides == dict.fromkeys(NAMES, "unknown") and not later.park_open


def test_the_document_states_the_live_figures() -> None:
    stated = {row[0]: (row[1], row[2]) for row in table_after("### Step 5")}
    early, late = AT_2135.rides[GHOSTRIDER], AT_2205.rides[GHOSTRIDER]
    assert early.uptime_pct is not None and late.uptime_pct is not None
    assert stated == {
        "latest poll": ("21:30, active", "22:00, inactive"),
        "session": ("10:00–21:30, running", "10:00–21:50, over"),
        "`operating_minutes`": ("685", "710"),
        "GhostRider's window": ("10:30–21:30 PDT", "10:30–21:10 PDT"),
        "`downtime_minutes`": ("45", "30"),
        "`downtime_events`": ("2", "1"),
        "`uptime_pct`": (f"{early.uptime_pct:.2f}", f"{late.uptime_pct:.2f}"),
        "GhostRider's live status": ("down", "closed"),
        "park open now": ("yes", "no"),
    }


# --- the rest of the document -----------------------------------------------------------


def test_the_document_links_only_to_queue_times_and_into_the_repository() -> None:
    root = DOC_PATH.parents[1]
    for target in re.findall(r"\]\(([^)\s]+)\)", doc()):
        if target.startswith("#"):
            continue
        if ":" in target:
            assert target.startswith("https://queue-times.com"), target
        else:
            path = (DOC_PATH.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(root.resolve()) and path.exists(), target
