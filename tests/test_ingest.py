"""Planning one poll's writes: pure, so every rule is shown on plain data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from themepark_tracker.classify import Decisions
from themepark_tracker.engine.states import StateRules
from themepark_tracker.ingest import PollInput, PollPlan, StoredRide, plan_poll

T = datetime(2026, 7, 4, 18, 0, tzinfo=UTC)
STAMP = "2026-07-04T17:58:00.000Z"


def ride(ride_id: int, name: str, is_open: bool = True, wait: Any = 20) -> dict[str, Any]:
    return {
        "id": ride_id,
        "name": name,
        "is_open": is_open,
        "wait_time": wait,
        "last_updated": STAMP,
    }


def payload(*rides: dict[str, Any], land: bool = False) -> dict[str, Any]:
    if land:
        return {"lands": [{"id": 9, "name": "Tomorrowland", "rides": list(rides)}], "rides": []}
    return {"lands": [], "rides": list(rides)}


def stored(
    ride_id: int,
    name: str,
    state: str | None = "open",
    since: datetime | None = None,
    last_seen: datetime | None = None,
    active: bool = True,
) -> StoredRide:
    return StoredRide(
        ride_id,
        name,
        None,
        None,
        None,
        state,
        since or T - timedelta(hours=2),
        active,
        last_seen or T - timedelta(minutes=10),
    )


def plan(
    document: Any, rides: dict[int, StoredRide] | None = None, at: datetime = T, outcome: str = "ok"
) -> PollPlan:
    return plan_poll(
        PollInput(6, at, document, outcome=outcome, error=None if outcome == "ok" else "x"),
        rides or {},
        cycle_id="c",
        source="collect",
        rules=StateRules(),
        ride_absence=timedelta(hours=24),
        decisions=Decisions(),
    )


def test_a_first_poll_adds_its_rides_with_their_lands_and_counts_the_poll() -> None:
    result = plan(payload(ride(1, "Space Mountain"), ride(2, "Tron", wait=45), land=True))
    assert [r["id"] for r in result.new_rides] == [1, 2]
    assert result.new_rides[0]["land_name"] == "Tomorrowland"
    assert result.new_rides[0]["current_state"] == "open"
    assert result.poll["is_active"] is True
    assert (result.poll["rides_total"], result.poll["rides_open"]) == (2, 2)
    assert [s["state"] for s in result.snapshots] == ["open", "open"]
    assert result.status_changes == []


def test_a_flip_records_how_long_the_previous_state_lasted() -> None:
    before = {1: stored(1, "Space Mountain", "open", since=T - timedelta(minutes=95))}
    result = plan(payload(ride(1, "Space Mountain", is_open=False, wait=0)), before)
    assert result.status_changes == [
        {
            "ride_id": 1,
            "park_id": 6,
            "changed_at": T,
            "to_state": "closed",
            "previous_duration_seconds": 95 * 60,
        }
    ]
    assert result.state_updates == [{"ride_id": 1, "current_state": "closed", "state_since": T}]


def test_an_unknown_reading_changes_no_state() -> None:
    stale = ride(1, "Space Mountain")
    stale["last_updated"] = "2026-07-04T12:00:00.000Z"
    before = {1: stored(1, "Space Mountain", "closed")}
    result = plan(payload(stale), before)
    assert result.snapshots[0]["state"] == "unknown"
    assert result.status_changes == [] and result.state_updates == []


def test_a_poll_older_than_the_current_state_changes_nothing() -> None:
    before = {
        1: stored(
            1,
            "Space Mountain",
            "open",
            since=T + timedelta(minutes=30),
            last_seen=T + timedelta(minutes=30),
        )
    }
    result = plan(payload(ride(1, "Space Mountain", is_open=False, wait=0)), before)
    assert result.status_changes == [] and result.state_updates == []
    assert result.snapshots[0]["state"] == "closed"


def test_a_renamed_ride_keeps_its_id_and_leaves_a_trace() -> None:
    before = {1: stored(1, "Big Thunder Mountain")}
    result = plan(payload(ride(1, "Big Thunder Mountain Railroad")), before)
    assert result.new_rides == []
    assert result.changed_rides[0]["name"] == "Big Thunder Mountain Railroad"
    assert [i["issue_type"] for i in result.issues] == ["ride_renamed"]
    assert result.issues[0]["raw_value"] == "Big Thunder Mountain"


def test_names_are_trimmed_so_a_trailing_space_is_no_rename() -> None:
    before = {1: stored(1, "Dumbo")}
    result = plan(payload(ride(1, "Dumbo  ")), before)
    assert result.changed_rides == []


def test_a_ride_missing_longer_than_the_absence_becomes_inactive() -> None:
    before = {
        1: stored(1, "Here"),
        2: stored(2, "Gone a while", last_seen=T - timedelta(hours=25)),
        3: stored(3, "Gone briefly", last_seen=T - timedelta(hours=2)),
    }
    result = plan(payload(ride(1, "Here")), before)
    assert result.vanished_ride_ids == [2]


def test_invalid_values_become_issues_and_null_waits() -> None:
    result = plan(
        payload(
            ride(1, "A", wait=601),
            ride(2, "B", wait="Closed", is_open=False),
            {"id": 3, "name": "C", "is_open": "yes", "wait_time": 10, "last_updated": "soon"},
            {"name": "no id"},
        )
    )
    issues = {(i["ride_id"], i["issue_type"]) for i in result.issues}
    assert issues == {
        (1, "wait_too_long"),
        (2, "wait_not_a_number"),
        (3, "is_open_not_boolean"),
        (3, "last_updated_invalid"),
        (0, "ride_without_id"),
    }
    assert [s["wait_time"] for s in result.snapshots] == [None, None, 10]
    assert [s["wait_time_raw"] for s in result.snapshots] == ["601", '"Closed"', "10"]
    assert [s["state"] for s in result.snapshots] == ["open", "closed", "unknown"]


def test_single_rider_queues_are_stored_but_do_not_make_the_park_active() -> None:
    result = plan(
        payload(
            ride(1, "Velocicoaster", wait=60),
            ride(2, "Velocicoaster Single Rider", wait=20),
            ride(3, "Hagrid's Single Rider", wait=25),
            ride(4, "Hagrid's", is_open=False, wait=0),
        )
    )
    assert len(result.snapshots) == 4
    assert result.poll["is_active"] is False


def test_a_duplicated_ride_id_is_read_once_lands_first() -> None:
    document = payload(ride(1, "In a land"), land=True)
    document["rides"] = [ride(1, "At the top level")]
    result = plan(document)
    assert [s["ride_id"] for s in result.snapshots] == [1]
    assert result.new_rides[0]["name"] == "In a land"


def test_a_payload_of_the_wrong_shape_is_an_invalid_poll() -> None:
    result = plan({"lands": "none"})
    assert result.poll["outcome"] == "invalid_payload"
    assert result.snapshots == []
    assert result.issues[0]["issue_type"] == "invalid_payload"


def test_a_failed_fetch_is_a_poll_without_snapshots() -> None:
    result = plan(None, outcome="timeout")
    assert result.poll["outcome"] == "timeout" and result.snapshots == []
