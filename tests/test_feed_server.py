"""The feed server over real loopback HTTP: routes, clock, and each fault switch."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from themepark_tracker.feed.server import (
    POISON_RIDE_BASE,
    Fault,
    FaultDraw,
    Faults,
    FeedClock,
    Poison,
    choose_fault,
    make_server,
    malformed_body,
    poison_body,
    poison_for,
    running_server,
)
from themepark_tracker.sources.queue_times import decode_json, parse_queue_times

T0 = datetime(2025, 7, 4, 16, 0, tzinfo=UTC)
PARKS = b'[{"id":2,"name":"Walt Disney Attractions","parks":[{"id":6,"name":"Magic Kingdom"}]}]'
QUEUE = b'{"lands":[],"rides":[{"id":1,"name":"Space Mountain","is_open":true,"wait_time":45}]}'


class FixedSource:
    """Fixed bytes for park 6; remembers every instant it was asked about."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, datetime]] = []

    def parks_json(self) -> bytes:
        return PARKS

    def queue_times_json(self, park_id: int, at: datetime) -> bytes | None:
        self.asked.append((park_id, at))
        return QUEUE if park_id == 6 else None


def fixed_clock() -> datetime:
    return T0


def _get(url: str, timeout: float = 5.0) -> requests.Response:
    return requests.get(url, timeout=timeout)


def _statuses(faults: Faults, count: int) -> list[int]:
    with running_server(FixedSource(), fixed_clock, faults) as url, requests.Session() as session:
        return [
            session.get(f"{url}/parks/6/queue_times.json", timeout=5).status_code
            for _ in range(count)
        ]


# --- routes -----------------------------------------------------------------------------


def test_both_documents_are_served_as_json() -> None:
    with running_server(FixedSource(), fixed_clock) as url:
        parks = _get(f"{url}/parks.json")
        queue = _get(f"{url}/parks/6/queue_times.json")
    assert url.startswith("http://127.0.0.1:")
    assert (parks.status_code, parks.content) == (200, PARKS)
    assert (queue.status_code, queue.content) == (200, QUEUE)
    assert parks.headers["Content-Type"] == queue.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "path",
    ["/parks/7/queue_times.json", "/parks/six/queue_times.json", "/", "/parks/6", "/parks.jso"],
)
def test_anything_else_is_a_404_with_a_small_json_body(path: str) -> None:
    with running_server(FixedSource(), fixed_clock) as url:
        response = _get(url + path)
    assert response.status_code == 404
    assert "error" in response.json()


def test_a_query_string_does_not_change_the_route() -> None:
    with running_server(FixedSource(), fixed_clock) as url:
        assert _get(f"{url}/parks/6/queue_times.json?x=1").content == QUEUE


def test_missing_parks_answer_404_and_the_others_are_served() -> None:
    faults = Faults(missing_parks=frozenset({6}))
    with running_server(FixedSource(), fixed_clock, faults) as url:
        assert _get(f"{url}/parks/6/queue_times.json").status_code == 404
        assert _get(f"{url}/parks.json").status_code == 200


# --- the clock --------------------------------------------------------------------------


def test_the_source_is_asked_about_the_instant_of_the_clock() -> None:
    source = FixedSource()
    with running_server(source, fixed_clock) as url:
        _get(f"{url}/parks/6/queue_times.json")
    assert source.asked == [(6, T0)]


def test_a_feed_clock_runs_speed_times_as_fast_as_real_time() -> None:
    real = [1000.0]
    clock = FeedClock(start=T0, speed=60, real_time=lambda: real[0])
    assert clock.now() == T0
    real[0] += 1.5
    assert clock.now() == T0 + timedelta(seconds=90)
    source = FixedSource()
    with running_server(source, clock) as url:
        real[0] += 1.0
        _get(f"{url}/parks/6/queue_times.json")
    assert source.asked == [(6, T0 + timedelta(seconds=150))]


def test_a_feed_clock_defaults_to_real_speed_from_the_moment_it_is_made() -> None:
    real = [50.0]
    clock = FeedClock(start=T0, real_time=lambda: real[0])
    real[0] += 2
    assert (clock.real_start, clock.now()) == (50.0, T0 + timedelta(seconds=2))
    assert FeedClock(start=T0, speed=0, real_time=lambda: real[0] * 9).now() == T0


@pytest.mark.parametrize(
    ("start", "speed"), [(datetime(2025, 7, 4), 1.0), (T0, -1.0), (T0, float("inf"))]
)
def test_a_feed_clock_refuses_a_naive_start_or_a_bad_speed(start: datetime, speed: float) -> None:
    with pytest.raises(ValueError):
        FeedClock(start=start, speed=speed)


# --- faults -----------------------------------------------------------------------------


def test_error_rate_one_answers_500_every_time() -> None:
    assert _statuses(Faults(error_rate=1.0), 5) == [500] * 5


def test_rate_limit_rate_one_answers_429_with_retry_after() -> None:
    faults = Faults(rate_limit_rate=1.0, retry_after_seconds=7)
    with running_server(FixedSource(), fixed_clock, faults) as url:
        responses = [_get(f"{url}/parks/6/queue_times.json") for _ in range(3)]
    assert [r.status_code for r in responses] == [429] * 3
    assert [r.headers["Retry-After"] for r in responses] == ["7"] * 3


def test_retry_after_defaults_to_two_seconds() -> None:
    with running_server(FixedSource(), fixed_clock, Faults(rate_limit_rate=1.0)) as url:
        assert _get(f"{url}/parks/6/queue_times.json").headers["Retry-After"] == "2"


def test_malformed_rate_one_answers_200_with_a_body_that_is_not_json() -> None:
    with running_server(FixedSource(), fixed_clock, Faults(malformed_rate=1.0, seed=3)) as url:
        responses = [_get(f"{url}/parks/6/queue_times.json") for _ in range(20)]
    assert all(r.status_code == 200 for r in responses)
    for response in responses:
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
    truncated = [r.content for r in responses if r.content.startswith(b"{")]
    assert truncated and all(QUEUE.startswith(body) for body in truncated)
    assert len(truncated) < len(responses)


def test_timeout_rate_one_holds_the_request_without_an_answer() -> None:
    faults = Faults(timeout_rate=1.0, hang_seconds=1)
    with running_server(FixedSource(), fixed_clock, faults) as url:
        with pytest.raises(requests.ReadTimeout):
            _get(f"{url}/parks/6/queue_times.json", timeout=0.5)
        assert _get(f"{url}/parks.json").content == PARKS


def test_a_hanging_request_does_not_hold_up_shutdown() -> None:
    faults = Faults(timeout_rate=1.0, hang_seconds=30)
    with running_server(FixedSource(), fixed_clock, faults) as url:
        with pytest.raises(requests.ReadTimeout):
            _get(f"{url}/parks/6/queue_times.json", timeout=0.2)
        leaving = time.monotonic()
    assert time.monotonic() - leaving < 2


def test_latency_delays_each_answer() -> None:
    with running_server(FixedSource(), fixed_clock, Faults(latency_ms=300)) as url:
        started = time.monotonic()
        response = _get(f"{url}/parks/6/queue_times.json")
        elapsed = time.monotonic() - started
    assert response.content == QUEUE
    assert elapsed >= 0.3


def test_a_rate_is_the_share_of_requests_that_fail() -> None:
    statuses = _statuses(Faults(error_rate=0.3, seed=11), 200)
    assert set(statuses) == {200, 500}
    assert 0.2 <= statuses.count(500) / 200 <= 0.4


def test_the_same_seed_gives_the_same_faults_in_the_same_order() -> None:
    def faults(seed: int) -> Faults:
        return Faults(seed=seed, error_rate=0.25, rate_limit_rate=0.25, malformed_rate=0.25)

    first, again, other = (
        _statuses(faults(5), 40),
        _statuses(faults(5), 40),
        _statuses(faults(6), 40),
    )
    assert first == again
    assert first != other
    assert {500, 429, 200} <= set(first)


def test_the_catalogue_is_spared_unless_asked_for() -> None:
    spared = Faults(error_rate=1.0)
    with running_server(FixedSource(), fixed_clock, spared) as url:
        assert _get(f"{url}/parks.json").status_code == 200
    hit = Faults(error_rate=1.0, faults_on_catalogue=True)
    with running_server(FixedSource(), fixed_clock, hit) as url:
        assert _get(f"{url}/parks.json").status_code == 500


def test_a_fault_is_chosen_in_a_fixed_order_by_the_slice_the_draw_falls_in() -> None:
    faults = Faults(timeout_rate=0.1, error_rate=0.2, rate_limit_rate=0.3, malformed_rate=0.1)
    assert [choose_fault(faults, u) for u in (0.05, 0.2, 0.5, 0.65, 0.75)] == [
        Fault.TIMEOUT,
        Fault.ERROR,
        Fault.RATE_LIMIT,
        Fault.MALFORMED,
        None,
    ]
    assert choose_fault(Faults(error_rate=1.0), 0.999999) is Fault.ERROR
    assert choose_fault(Faults(), 0.0) is None


@pytest.mark.parametrize("cut", [0.0, 0.5, 0.999999])
def test_a_truncated_body_is_never_valid_json(cut: float) -> None:
    body, content_type = malformed_body(QUEUE + b"\n", FaultDraw(Fault.MALFORMED, cut, False))
    assert content_type == "application/json"
    assert 0 < len(body) < len(QUEUE) and QUEUE.startswith(body)
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


@pytest.mark.parametrize(
    "faults",
    [
        {"error_rate": 1.5},
        {"timeout_rate": -0.1},
        {"error_rate": 0.6, "malformed_rate": 0.6},
        {"latency_ms": -1},
        {"hang_seconds": float("nan")},
        {"poison_rate": 1.5},
        {"poison_rate": -0.5},
    ],
)
def test_impossible_fault_settings_are_refused(faults: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Faults(**faults)  # type: ignore[arg-type]


# --- poison -----------------------------------------------------------------------------


def test_a_poisoned_answer_carries_one_hostile_ride_beside_the_normal_ones() -> None:
    faults = Faults(poison_rate=1.0, seed=3)
    with running_server(FixedSource(), fixed_clock, faults) as url:
        answers = [_get(f"{url}/parks/6/queue_times.json") for _ in range(3)]
        catalogue = _get(f"{url}/parks.json")
    kind = poison_for(faults, 6, T0)
    assert kind is not None and catalogue.content == PARKS
    assert all(a.content == poison_body(QUEUE, kind, 6, T0) for a in answers)
    rides = decode_json(answers[0].content)["rides"]
    assert rides[0] == json.loads(QUEUE)["rides"][0] and len(rides) == 2


@pytest.mark.parametrize(
    ("kind", "ride_id", "issue"),
    [
        (Poison.HUGE_ID, 0, "ride_id_out_of_range"),
        (Poison.LONE_SURROGATE, POISON_RIDE_BASE + 6, "ride_name_not_unicode"),
        (Poison.LONG_NAME, POISON_RIDE_BASE + 6, "ride_name_too_long"),
        (Poison.DEEP_NESTING, POISON_RIDE_BASE + 6, None),
        (Poison.ABSURD_WAIT, POISON_RIDE_BASE + 6, None),
    ],
)
def test_each_poison_is_a_document_whose_hostile_ride_the_parser_refuses_or_repairs(
    kind: Poison, ride_id: int, issue: str | None
) -> None:
    rides, problems = parse_queue_times(decode_json(poison_body(QUEUE, kind, 6, T0)))
    assert [ride.id for ride in rides] == ([1] if ride_id == 0 else [1, ride_id])
    found = problems + [problem for ride in rides for problem in ride.problems]
    assert [problem for problem, _ in found if problem != "last_updated_invalid"] == (
        [issue] if issue else []
    )


def test_a_poison_rate_poisons_that_share_of_answers_the_same_way_for_a_seed() -> None:
    instants = [T0 + timedelta(minutes=k) for k in range(2000)]
    faults = Faults(poison_rate=0.2, seed=1)
    drawn = [poison_for(faults, 6, at) for at in instants]
    assert 0.15 < sum(kind is not None for kind in drawn) / len(drawn) < 0.25
    assert set(drawn) == {None, *Poison}
    assert drawn == [poison_for(Faults(poison_rate=0.2, seed=1), 6, at) for at in instants]
    assert drawn != [poison_for(Faults(poison_rate=0.2, seed=2), 6, at) for at in instants]
    assert all(poison_for(Faults(), 6, at) is None for at in instants)


def test_a_body_that_is_not_a_payload_is_served_as_it_is() -> None:
    for body in (b"<html>", b"[1, 2]", b'{"rides": 5}'):
        assert poison_body(body, Poison.HUGE_ID, 6, T0) == body


# --- binding ----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", ""])
def test_a_host_other_than_loopback_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        make_server(FixedSource(), fixed_clock, host=host)


def test_localhost_binds_the_loopback_address() -> None:
    with running_server(FixedSource(), fixed_clock, host="localhost") as url:
        assert url.startswith("http://127.0.0.1:")
        assert _get(f"{url}/parks.json").content == PARKS


def test_a_failing_source_is_logged_as_an_error(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenSource(FixedSource):
        def queue_times_json(self, park_id: int, at: datetime) -> bytes | None:
            raise RuntimeError("model bug")

    with running_server(BrokenSource(), fixed_clock) as url:
        with pytest.raises(requests.ConnectionError):
            _get(f"{url}/parks/6/queue_times.json")
        assert _get(f"{url}/parks.json").content == PARKS
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records)
