"""Keys, dashboard sessions, rate limits (against the real Redis), CORS, and the API's
behaviour in production mode."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import time_machine
from api_fixtures import NOW, settings
from conftest import REDIS_URL
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, update

from themepark_tracker.api import create_app
from themepark_tracker.config import ConfigError
from themepark_tracker.storage.api_keys import create_key, list_keys, revoke_key
from themepark_tracker.storage.db import writing
from themepark_tracker.storage.tables import api_keys
from themepark_tracker.storage.writes import lock_parks

SECRET = "test-secret-key-for-signing-sessions"


def _app(engine: Engine, prefix: str = "tpt", **environ: str) -> Any:
    made = create_app(
        settings(API_AUTH="required", SECRET_KEY=SECRET, **environ),
        engine,
        clock=lambda: NOW,
        limiter_prefix=prefix,
    )
    return made.test_client()


def _key(engine: Engine, name: str = "test") -> str:
    with engine.begin() as conn:
        key, _ = create_key(conn, name, datetime(2026, 7, 4, tzinfo=UTC))
    return key


def test_without_a_key_data_endpoints_are_401_and_health_is_open(engine: Engine) -> None:
    client = _app(engine)
    missing = client.get("/api/parks")
    assert missing.status_code == 401
    assert missing.get_json()["error"]["code"] == "missing_api_key"
    wrong = client.get("/api/parks", headers={"X-API-Key": "tpt_not-a-key"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "invalid_api_key"
    assert client.get("/api/health").status_code in (200, 503)
    assert client.get("/api/openapi.json").status_code == 200


def test_a_key_opens_the_api_until_it_is_revoked(engine: Engine) -> None:
    key = _key(engine)
    client = _app(engine)
    answer = client.get("/api/parks", headers={"X-API-Key": key})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"].startswith("private,")
    with engine.begin() as conn:
        (stored,) = list_keys(conn)
        assert stored.last_used_at == NOW and stored.key_prefix == key[:10]
        assert revoke_key(conn, stored.id, NOW) and not revoke_key(conn, stored.id, NOW)
    assert client.get("/api/parks", headers={"X-API-Key": key}).status_code == 401


def test_keys_are_stored_hashed(engine: Engine) -> None:
    key = _key(engine)
    with engine.connect() as conn:
        dump = repr(conn.exec_driver_sql("SELECT * FROM api_keys").all())
    assert key not in dump and key[10:] not in dump


def test_the_dashboard_gets_a_session_from_its_own_origin_only(engine: Engine) -> None:
    client = _app(engine)
    refused = client.post("/api/session", headers={"Origin": "https://elsewhere.example"})
    assert refused.status_code == 403
    assert client.get("/api/parks").status_code == 401
    given = client.post("/api/session", headers={"Sec-Fetch-Site": "same-origin"})
    assert given.status_code == 204
    cookie = given.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/api/" in cookie
    assert client.get("/api/parks").status_code == 200
    client.set_cookie("tpt_session", "forged.value", path="/api/")
    forged = client.get("/api/parks")
    assert forged.status_code == 401 and forged.get_json()["error"]["code"] == "invalid_session"
    same_origin = _app(engine).post("/api/session", headers={"Origin": "http://localhost"})
    assert same_origin.status_code == 204


def test_production_needs_a_secret_key_for_sessions(engine: Engine) -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        create_app(settings(API_AUTH="required"), engine)


def test_keys_are_limited_per_key_in_redis_and_answer_429_with_retry_after(
    engine: Engine, redis_prefix: str
) -> None:
    key, other = _key(engine, "one"), _key(engine, "two")
    environ = {"API_RATE_LIMITS": "3/hour", "RATE_LIMIT_STORAGE_URL": REDIS_URL}
    client = _app(engine, redis_prefix, **environ)
    statuses = [client.get("/api/parks", headers={"X-API-Key": key}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/live/summary", headers={"X-API-Key": key})
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 3600
    assert client.get("/api/parks", headers={"X-API-Key": other}).status_code == 200
    assert client.get("/api/health").status_code != 429
    stored = redis.Redis.from_url(REDIS_URL)
    assert any(redis_prefix in k.decode() for k in stored.scan_iter(f"*{redis_prefix}*"))
    second_process = _app(engine, redis_prefix, **environ)
    assert second_process.get("/api/parks", headers={"X-API-Key": key}).status_code == 429


def test_dashboard_sessions_are_limited_per_address(engine: Engine, redis_prefix: str) -> None:
    environ = {"DASHBOARD_RATE_LIMITS": "2/minute", "RATE_LIMIT_STORAGE_URL": REDIS_URL}
    client = _app(engine, redis_prefix, **environ)
    client.post("/api/session", headers={"Sec-Fetch-Site": "same-origin"})
    statuses = [client.get("/api/parks").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_limits_can_be_turned_off(engine: Engine) -> None:
    key = _key(engine)
    client = _app(engine, API_RATE_LIMITS="1/hour", RATE_LIMITS_ENABLED="false")
    statuses = {client.get("/api/parks", headers={"X-API-Key": key}).status_code for _ in range(3)}
    assert statuses == {200}


def test_cors_allows_the_configured_origins_only(engine: Engine) -> None:
    client = create_app(
        settings(CORS_ORIGINS="https://dashboard.example"), engine, clock=lambda: NOW
    ).test_client()
    allowed = client.options(
        "/api/parks",
        headers={
            "Origin": "https://dashboard.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-API-Key",
        },
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://dashboard.example"
    assert "x-api-key" in allowed.headers["Access-Control-Allow-Headers"].lower()
    other = client.get("/api/parks", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_without_auth_answers_are_public_and_need_no_key(engine: Engine) -> None:
    client = create_app(settings(), engine, clock=lambda: NOW).test_client()
    answer = client.get("/api/parks")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"].startswith("public,")
    assert "securitySchemes" not in client.get("/api/openapi.json").get_json()["components"]


def test_a_session_is_bound_to_the_address_it_was_made_for(engine: Engine) -> None:
    client = _app(engine)
    client.post("/api/session", headers={"Sec-Fetch-Site": "same-origin"})
    assert client.get("/api/parks").status_code == 200
    elsewhere = client.get("/api/parks", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 401
    assert elsewhere.get_json()["error"]["code"] == "invalid_session"


def test_new_sessions_are_limited_per_address(engine: Engine) -> None:
    made = create_app(settings(API_AUTH="required", SECRET_KEY=SECRET), engine, clock=lambda: NOW)
    statuses = [
        made.test_client()
        .post("/api/session", headers={"Sec-Fetch-Site": "same-origin"})
        .status_code
        for _ in range(31)
    ]
    assert statuses == [204] * 30 + [429]
    other = made.test_client().post(
        "/api/session",
        headers={"Sec-Fetch-Site": "same-origin"},
        environ_base={"REMOTE_ADDR": "2001:db8::1"},
    )
    assert other.status_code == 204


def test_ipv6_callers_share_their_64_for_limits(engine: Engine) -> None:
    client = create_app(
        settings(DASHBOARD_RATE_LIMITS="2/minute"), engine, clock=lambda: NOW
    ).test_client()
    statuses = [
        client.get("/api/parks", environ_base={"REMOTE_ADDR": f"2001:db8::{n}"}).status_code
        for n in range(1, 4)
    ]
    assert statuses == [200, 200, 429]


def test_keys_checked_in_parallel_never_wait_for_a_write(engine: Engine) -> None:
    key = _key(engine)
    made = create_app(
        settings(API_AUTH="required", SECRET_KEY=SECRET, RATE_LIMITS_ENABLED="false"),
        engine,
        clock=lambda: NOW,
    )
    statuses: list[int] = []

    def ask() -> None:
        statuses.append(
            made.test_client().get("/api/live/summary", headers={"X-API-Key": key}).status_code
        )

    for _ in range(5):
        with engine.begin() as conn:
            conn.execute(update(api_keys).values(last_used_at=None))
        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [200] * 40


def test_a_key_is_answered_at_once_while_a_job_writes(engine: Engine) -> None:
    """An import holds SQLite's write lock for seconds at a time: noting the key's use
    must not make the request wait for it (it did, up to the busy timeout). A request
    after the job notes it."""
    key = _key(engine)
    client = _app(engine, RATE_LIMITS_ENABLED="false")
    with writing(engine) as conn:
        lock_parks(conn, [1, 2], changing=True)
        started = time.monotonic()
        assert client.get("/api/parks", headers={"X-API-Key": key}).status_code == 200
        assert time.monotonic() - started < 1.0
    assert client.get("/api/parks", headers={"X-API-Key": key}).status_code == 200
    with engine.connect() as conn:
        (stored,) = list_keys(conn)
    assert stored.last_used_at == NOW


def test_behind_a_trusted_proxy_limits_go_by_the_forwarded_address(engine: Engine) -> None:
    client = create_app(
        settings(TRUSTED_PROXIES="1", DASHBOARD_RATE_LIMITS="1/minute"), engine, clock=lambda: NOW
    ).test_client()

    def ask(address: str) -> int:
        return int(client.get("/api/parks", headers={"X-Forwarded-For": address}).status_code)

    assert [ask("198.51.100.1"), ask("198.51.100.2"), ask("198.51.100.1")] == [200, 200, 429]


ATTACKER = "192.0.2.66"


def _ask(client: Any, key: str | None, address: str = ATTACKER, **headers: str) -> Any:
    if key is not None:
        headers["X-API-Key"] = key
    return client.get("/api/parks", headers=headers, environ_base={"REMOTE_ADDR": address})


def _wrong(n: int) -> str:
    return f"tpt_wrong-key-{n}"


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement sent to the database meanwhile."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _key_lookups(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT") and "api_keys" in s)


@pytest.fixture(params=["memory", "redis"])
def limit_storage(request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    """(key prefix, settings) of each storage the limits run on."""
    if request.param == "memory":
        return "tpt", {}
    return request.getfixturevalue("redis_prefix"), {"RATE_LIMIT_STORAGE_URL": REDIS_URL}


def test_failed_keys_are_limited_per_address_and_refused_without_a_lookup(
    engine: Engine, limit_storage: tuple[str, dict[str, str]]
) -> None:
    prefix, environ = limit_storage
    key = _key(engine)
    client = _app(engine, prefix, **environ)
    with _statements(engine) as tried:
        failed = [_ask(client, _wrong(n)) for n in range(20)]
    assert [r.status_code for r in failed] == [401] * 20
    assert _key_lookups(tried) == 20
    with _statements(engine) as refused_statements:
        refused = [_ask(client, _wrong(n)) for n in range(20, 25)]
        refused.append(_ask(client, key))  # a valid key from there waits too
        client.set_cookie("tpt_session", "forged.value", path="/api/")
        refused.append(_ask(client, None))
    assert refused_statements == []
    for answer in refused:
        assert answer.status_code == 429
        assert answer.get_json()["error"]["code"] == "too_many_auth_failures"
        assert 0 < int(answer.headers["Retry-After"]) <= 60
    client.delete_cookie("tpt_session", path="/api/")
    without_credentials = _ask(client, None)
    assert without_credentials.status_code == 401
    assert without_credentials.get_json()["error"]["code"] == "missing_api_key"
    assert _ask(client, key, address="192.0.2.67").status_code == 200
    assert _ask(client, _wrong(0), address="192.0.2.67").status_code == 401
    if environ:  # counters in Redis: every API process refuses the address
        assert _ask(_app(engine, prefix, **environ), key).status_code == 429


def test_after_the_window_the_address_may_try_again(engine: Engine) -> None:
    key = _key(engine)
    with time_machine.travel(NOW, tick=False) as traveller:
        client = _app(engine)
        statuses = [_ask(client, _wrong(n)).status_code for n in range(21)]
        assert statuses == [401] * 20 + [429]
        assert _ask(client, key).headers["Retry-After"] == "60"
        traveller.shift(timedelta(seconds=59))
        assert _ask(client, key).headers["Retry-After"] == "1"
        traveller.shift(timedelta(seconds=2))
        assert _ask(client, key).status_code == 200
        assert _ask(client, _wrong(0)).status_code == 401


def test_successes_are_not_counted_as_failures(engine: Engine) -> None:
    key = _key(engine)
    with time_machine.travel(NOW, tick=False):
        client = _app(engine, AUTH_FAILURE_LIMITS="3/minute")
        statuses = [_ask(client, k).status_code for k in [_wrong(1), key, _wrong(2)] + [key] * 5]
        assert statuses == [401, 200, 401] + [200] * 5
        assert [_ask(client, k).status_code for k in (_wrong(3), key)] == [401, 429]


def test_forwarded_addresses_do_not_escape_the_failure_limit(engine: Engine) -> None:
    direct = _app(engine, AUTH_FAILURE_LIMITS="2/minute")
    statuses = [
        _ask(direct, _wrong(n), **{"X-Forwarded-For": f"198.51.100.{n}"}).status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 429, 429]
    proxied = _app(engine, AUTH_FAILURE_LIMITS="2/minute", TRUSTED_PROXIES="1")
    statuses = [
        _ask(proxied, _wrong(n), **{"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.9"}).status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 429, 429]
    other = _ask(proxied, _wrong(9), **{"X-Forwarded-For": "203.0.113.10"})
    assert other.status_code == 401


def test_ipv6_failures_count_per_64(engine: Engine) -> None:
    client = _app(engine, AUTH_FAILURE_LIMITS="2/minute")
    statuses = [_ask(client, _wrong(n), address=f"2001:db8::{n}").status_code for n in range(1, 5)]
    assert statuses == [401, 401, 429, 429]
    assert _ask(client, _wrong(0), address="2001:db8:0:1::1").status_code == 401


def test_invalid_sessions_count_as_failures_and_a_valid_one_still_works(engine: Engine) -> None:
    made = create_app(
        settings(API_AUTH="required", SECRET_KEY=SECRET, AUTH_FAILURE_LIMITS="2/minute"),
        engine,
        clock=lambda: NOW,
    )
    dashboard, forger = made.test_client(), made.test_client()
    dashboard.post("/api/session", headers={"Sec-Fetch-Site": "same-origin"})
    forger.set_cookie("tpt_session", "forged.value", path="/api/")
    statuses = [forger.get("/api/parks").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert dashboard.get("/api/parks").status_code == 200


def test_unknown_paths_are_no_way_around_the_failure_limit(engine: Engine) -> None:
    client = _app(engine, AUTH_FAILURE_LIMITS="2/minute")
    statuses = [
        client.get(f"/api/nothing-{n}", headers={"X-API-Key": _wrong(n)}).status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_the_failure_limit_is_a_setting_and_turns_off_with_the_others(engine: Engine) -> None:
    with pytest.raises(ConfigError, match="AUTH_FAILURE_LIMITS"):
        settings(AUTH_FAILURE_LIMITS="often")
    client = _app(engine, AUTH_FAILURE_LIMITS="1/minute", RATE_LIMITS_ENABLED="false")
    assert {_ask(client, _wrong(n)).status_code for n in range(3)} == {401}


def test_any_mix_of_keys_looks_up_until_the_failures_run_out(engine: Engine) -> None:
    """Per address: a valid key answers 200 and a wrong one 401, each after one lookup,
    until the third failure; from then on everything is 429 without a lookup."""
    key = _key(engine)
    client = _app(engine, AUTH_FAILURE_LIMITS="3/minute", API_RATE_LIMITS="100000/hour")
    addresses = (f"10.0.{n // 250}.{n % 250 + 1}" for n in itertools.count())

    @hypothesis_settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(valid=st.lists(st.booleans(), max_size=10))
    def run(valid: list[bool]) -> None:
        address = next(addresses)
        failures, expected = 0, []
        for ok in valid:
            expected.append(429 if failures >= 3 else 200 if ok else 401)
            failures += not ok and failures < 3
        with _statements(engine) as statements:
            statuses = [
                _ask(client, key if ok else _wrong(n), address=address).status_code
                for n, ok in enumerate(valid)
            ]
        assert statuses == expected
        assert _key_lookups(statements) == sum(status != 429 for status in statuses)

    with time_machine.travel(NOW, tick=False):
        run()


def test_without_redis_failures_are_limited_in_memory(engine: Engine) -> None:
    client = _app(
        engine, AUTH_FAILURE_LIMITS="2/minute", RATE_LIMIT_STORAGE_URL="redis://127.0.0.1:1"
    )
    assert [_ask(client, _wrong(n)).status_code for n in range(3)] == [401, 401, 429]


def test_the_document_tells_of_the_failure_limit(engine: Engine) -> None:
    paths = _app(engine).get("/api/openapi.json").get_json()["paths"]
    for path, item in paths.items():
        if path not in ("/api/health", "/api/session"):
            refused = item["get"]["responses"]["429"]
            assert "failed keys" in refused["description"] and "Retry-After" in refused["headers"]
