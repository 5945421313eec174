"""The REST API through Flask's test client, on both databases: every endpoint, its
errors, caching, and that its numbers are the storage layer's."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from api_fixtures import ANAHEIM, DAYS, NOW, TORONTO, app, settings
from conftest import copy_rows
from sqlalchemy import Engine, delete, event, func, select, update

from themepark_tracker.api import create_app, schemas
from themepark_tracker.engine.periods import period_dates
from themepark_tracker.engine.states import is_counted
from themepark_tracker.jobs.aggregate import aggregate
from themepark_tracker.jobs.daily_stats import StatsRules, refresh_park_day
from themepark_tracker.storage.statistics import park_sums, period_sums, scope
from themepark_tracker.storage.tables import (
    parks,
    recovery_pools,
    ride_daily_stats,
    ride_outages,
    rides,
)

SPAN = f"from={DAYS[0]}&to={DAYS[1]}"


@pytest.fixture
def client(api_engine: Engine) -> Any:
    return app(api_engine).test_client()


def _ok(client: Any, url: str, model: type[schemas.Model]) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_json())
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["attribution"] in (
        {
            "text": "Data powered by Queue-Times.com",
            "url": "https://queue-times.com",
            "second_source_url": None,
        },
        {
            "text": "Data powered by Queue-Times.com and ThemeParks.wiki",
            "url": "https://queue-times.com",
            "second_source_url": "https://themeparks.wiki",
        },
    )
    model.model_validate(body)
    return body


def test_park_rankings_are_the_storage_layers_figures(client: Any, api_engine: Engine) -> None:
    body = _ok(client, f"/api/parks/downtime?{SPAN}", schemas.ParkRankingsResponse)
    with api_engine.connect() as conn:
        expected = park_sums(conn, scope(conn, lambda _tz: DAYS))
    assert [p["park_id"] for p in body["data"]] == [p.park_id for p in expected]
    assert [p["rank"] for p in body["data"]] == [1, 2]
    for shown, park in zip(body["data"], expected, strict=True):
        figures = shown["figures"]
        assert figures["downtime_hours"] == round(park.totals.downtime_hours, 2)
        assert figures["shame_score"] == park.totals.shame_score
        assert figures["uptime_pct"] == pytest.approx(park.totals.uptime_pct, abs=0.005)
        assert (figures["first"], figures["last"]) == (str(DAYS[0]), str(DAYS[1]))
        assert shown["rides_with_downtime"] == park.rides_with_downtime > 0
        assert shown["queue_times_url"] == f"https://queue-times.com/parks/{park.park_id}"
    stats = body["stats"]
    assert stats["parks_tracked"] == 2
    assert stats["peak_downtime_hours"] == max(p["figures"]["downtime_hours"] for p in body["data"])
    assert stats["parks_open_now"] == 2  # 13:00 in Toronto, 10:00 in Anaheim


def test_ride_rankings_carry_live_status_trend_and_a_seven_day_average(
    client: Any, api_engine: Engine
) -> None:
    body = _ok(client, f"/api/rides/downtime?{SPAN}&limit=5", schemas.RideRankingsResponse)
    with api_engine.connect() as conn:
        expected = period_sums(conn, scope(conn, lambda _tz: DAYS), limit=5)
        week = period_sums(conn, scope(conn, lambda _tz: (DAYS[1] - timedelta(days=6), DAYS[1])))
        ran = dict(
            conn.execute(
                select(ride_daily_stats.c.ride_id, func.count())
                .where(ride_daily_stats.c.tracked, ride_daily_stats.c.stat_date <= DAYS[1])
                .group_by(ride_daily_stats.c.ride_id)
            ).all()
        )
    assert [r["ride_id"] for r in body["data"]] == [r.ride_id for r in expected]
    downtimes = [r["figures"]["downtime_hours"] for r in body["data"]]
    assert downtimes == sorted(downtimes, reverse=True) and downtimes[0] > 0
    per_ride = {r.ride_id: r for r in week}
    for shown in body["data"]:
        assert shown["live_status"] in ("running", "down", "closed")
        ride = per_ride[shown["ride_id"]]
        assert shown["avg_downtime_7d_hours"] == pytest.approx(
            ride.totals.downtime_hours / ran[ride.ride_id], abs=0.006
        )
        assert shown["queue_times_url"] == (
            f"https://queue-times.com/parks/{shown['park_id']}/rides/{shown['ride_id']}"
        )


@pytest.mark.parametrize(
    "query",
    ["sort=uptime&order=asc", "sort=events", "sort=avg_wait", "sort=peak_wait", "sort=name"],
)
def test_ride_sorts_and_the_park_filter(client: Any, query: str) -> None:
    body = _ok(
        client, f"/api/rides/downtime?{SPAN}&park={TORONTO}&{query}", schemas.RideRankingsResponse
    )
    assert body["data"] and {r["park_id"] for r in body["data"]} == {TORONTO}
    assert body["meta"]["sort"] == query.split("&")[0].split("=")[1]


def test_disney_universal_filter_keeps_disneyland_only(client: Any) -> None:
    body = _ok(
        client,
        f"/api/parks/downtime?{SPAN}&filter=disney-universal",
        schemas.ParkRankingsResponse,
    )
    assert [p["park_id"] for p in body["data"]] == [ANAHEIM]
    parks = _ok(client, "/api/parks?filter=disney-universal", schemas.ParksResponse)
    assert [p["park_id"] for p in parks["data"]] == [ANAHEIM]


def test_named_periods_are_each_parks_own_dates(client: Any) -> None:
    body = _ok(client, "/api/parks/downtime?period=yesterday", schemas.ParkRankingsResponse)
    assert {p["figures"]["first"] for p in body["data"]} == {"2026-07-03"}
    assert body["meta"]["period"] == {"name": "yesterday", "first": None, "last": None}
    today = _ok(client, "/api/parks/downtime", schemas.ParkRankingsResponse)
    assert today["meta"]["period"]["name"] == "today"
    assert {p["figures"]["last"] for p in today["data"]} == {"2026-07-04"}
    assert period_dates("last_week", date(2026, 7, 4)) == (date(2026, 6, 22), date(2026, 6, 28))


def test_the_catalogue_lists_tiers_and_links(client: Any, api_engine: Engine) -> None:
    body = _ok(client, "/api/parks", schemas.ParksResponse)
    assert {p["park_id"] for p in body["data"]} == {TORONTO, ANAHEIM}
    with api_engine.connect() as conn:
        counted = conn.execute(
            select(func.count()).where(rides.c.park_id == TORONTO, rides.c.is_active)
        ).scalar_one()
    toronto = next(p for p in body["data"] if p["park_id"] == TORONTO)
    assert 0 < sum(toronto["tier_distribution"].values()) <= counted
    assert toronto["timezone"] == "America/Toronto"


@pytest.mark.parametrize("mode", ["live", "average", "peak"])
def test_wait_times_longest_first(client: Any, mode: str) -> None:
    period = f"&{SPAN}" if mode != "live" else ""
    ride_waits = _ok(client, f"/api/rides/waittimes?mode={mode}{period}", schemas.RideWaitsResponse)
    park_waits = _ok(client, f"/api/parks/waittimes?mode={mode}{period}", schemas.ParkWaitsResponse)
    for body in (ride_waits, park_waits):
        waits = [row["wait_minutes"] for row in body["data"]]
        assert waits and waits == sorted(waits, reverse=True)
        assert body["mode"] == mode
    if mode == "live":
        assert {row["at"] for row in ride_waits["data"]} == {"2026-07-04T17:10:00Z"}
        assert all(row["rides_reporting"] > 0 for row in park_waits["data"])


def test_trends_compare_with_the_period_before(client: Any) -> None:
    body = _ok(client, "/api/trends?period=yesterday", schemas.TrendsResponse)
    assert set(body["data"]) == {
        "parks-improving",
        "parks-declining",
        "rides-improving",
        "rides-declining",
    }
    rows = body["data"]["rides-improving"] + body["data"]["rides-declining"]
    assert rows, "a simulated day moves some ride by five points"
    for row in rows:
        change = row["current_uptime_pct"] - row["previous_uptime_pct"]
        assert abs(change - row["change_pct_points"]) < 0.02 and abs(change) >= 5
    one = _ok(
        client, "/api/trends?period=yesterday&category=rides-declining", schemas.TrendsResponse
    )
    assert one["data"]["rides-declining"] == body["data"]["rides-declining"]
    assert one["data"]["parks-improving"] is None


def test_park_page(client: Any) -> None:
    body = _ok(client, f"/api/parks/{TORONTO}?{SPAN}", schemas.ParkDetailResponse)
    data = body["data"]
    opened = [s["date"] for s in data["operating_sessions"]]
    assert opened and set(opened) <= {"2026-07-01", "2026-07-02", "2026-07-03"}
    assert set(opened) <= {d["date"] for d in data["days"]}
    assert all(s["final"] and s["operating_hours"] > 5 for s in data["operating_sessions"])
    assert data["figures"]["downtime_hours"] == pytest.approx(
        sum(d["downtime_hours"] for d in data["days"]), abs=0.02
    )
    assert data["rides_tracked"] == len(data["rides"]) > 0
    assert data["live"]["open_now"] is True
    assert data["park"]["tier_distribution"]["tier_1"] > 0
    heatmap = data["heatmap"]
    assert heatmap["dates"] == ["2026-07-01", "2026-07-02", "2026-07-03"]
    assert [r["ride_id"] for r in heatmap["rides"]] == [r["ride_id"] for r in data["rides"]]
    for row, ride in zip(heatmap["rides"], data["rides"], strict=True):
        assert len(row["downtime_hours"]) == 3
        ran = [h for h in row["downtime_hours"] if h is not None]
        assert ran and sum(ran) == pytest.approx(ride["figures"]["downtime_hours"], abs=0.03)


def test_ride_page_with_its_timeline(client: Any, api_engine: Engine) -> None:
    ranked = _ok(
        client, f"/api/rides/downtime?{SPAN}&park={TORONTO}&limit=1", schemas.RideRankingsResponse
    )
    ride_id = ranked["data"][0]["ride_id"]
    body = _ok(client, f"/api/rides/{ride_id}?{SPAN}&date=2026-07-03", schemas.RideDetailResponse)
    data = body["data"]
    assert data["figures"] == ranked["data"][0]["figures"]
    assert data["history"] and data["history"][-1]["date"] == "2026-07-03"
    assert sum(d["downtime_hours"] for d in data["history"]) == pytest.approx(
        data["figures"]["downtime_hours"], abs=0.02
    )
    timeline = data["timeline"]
    assert timeline["date"] == "2026-07-03" and timeline["session"]["final"] is True
    states = [c["to_state"] for c in timeline["changes"]]
    assert "closed" in states and all(a != b for a, b in zip(states, states[1:], strict=False))
    assert timeline["waits"], "raw polls are kept until cleanup"
    assert data["ride"]["queue_times_url"].endswith(f"/parks/{TORONTO}/rides/{ride_id}")


def test_live_summary_counts_every_active_ride(client: Any, api_engine: Engine) -> None:
    body = _ok(client, "/api/live/summary", schemas.LiveSummaryResponse)
    counts = body["data"]
    rules = settings().state_rules()
    with api_engine.connect() as conn:
        active = conn.execute(select(rides.c.name, rides.c.category).where(rides.c.is_active))
        counted = sum(1 for name, category in active if is_counted(name, category, rules))
        shows = conn.execute(
            select(rides.c.id).where(rides.c.category.is_not(None), rides.c.category != "ride")
        ).scalars()
        not_rides = set(shows)
    assert counts["running"] + counts["down"] + counts["closed"] + counts["unknown"] == counted
    assert not_rides, "the simulated parks have shows, which never count"
    live = client.get("/api/rides/waittimes?mode=live&limit=1000").get_json()["data"]
    assert live and not {w["ride_id"] for w in live} & not_rides
    assert counts["running"] > 0 and counts["parks_open"] == counts["parks"] == 2


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/parks/downtime?period=fortnight", "period"),
        ("/api/parks/downtime?from=2026-07-01", None),
        ("/api/parks/downtime?from=2026-07-03&to=2026-07-01", None),
        ("/api/parks/downtime?period=today&from=2026-07-01&to=2026-07-02", None),
        ("/api/parks/downtime?from=1999-12-31&to=2026-07-01", "from"),
        ("/api/rides/downtime?limit=0", "limit"),
        ("/api/rides/downtime?limit=ten", "limit"),
        ("/api/rides/downtime?sort=shame", "sort"),
        ("/api/rides/downtime?order=up", "order"),
        ("/api/parks/downtime?filter=disney", "filter"),
        ("/api/rides/waittimes?mode=median", "mode"),
        ("/api/parks?perod=today", "perod"),
        ("/api/trends?category=best", "category"),
        ("/api/rides/1?date=2026-02-30", "date"),
        ("/api/parks/downtime?from=1764547200&to=1764547200", "from"),
        ("/api/parks/downtime?from=2026-07-01T00:00&to=2026-07-02", "from"),
        ("/api/rides/downtime?limit=1_0", "limit"),
        ("/api/rides/downtime?park=-5", "park"),
    ],
)
def test_bad_parameters_are_400_with_a_json_error(
    client: Any, url: str, parameter: str | None
) -> None:
    response = client.get(url)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter" and error["message"]
    if parameter is not None:
        assert parameter in [d["parameter"] for d in error["details"]]


def test_a_parameter_given_twice_is_refused(client: Any) -> None:
    response = client.get("/api/rides/downtime?limit=5&limit=6")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"] == [
        {"parameter": "limit", "problem": "given more than once"}
    ]


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/parks/999999", 404),
        ("get", "/api/rides/999999", 404),
        ("get", f"/api/rides/{2**40}", 404),
        ("get", "/api/nothing-here", 404),
        ("post", "/api/parks/downtime", 405),
    ],
)
def test_unknown_ids_routes_and_methods_are_json(
    client: Any, method: str, url: str, status: int
) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert set(response.get_json()) == {"error", "attribution"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_every_answer_carries_security_headers(client: Any) -> None:
    for url in ("/api/parks", "/api/health", "/api/docs", "/api/parks?bad=1"):
        headers = client.get(url).headers
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_etags_answer_304_and_repeat_answers_come_from_memory(
    client: Any, api_engine: Engine
) -> None:
    url = f"/api/rides/downtime?{SPAN}"
    first = client.get(url)
    etag = first.headers["ETag"]
    # The newest poll is 17:10, the next is due by 17:21: fresh for 8 minutes from 17:13.
    assert first.headers["Cache-Control"] == "public, max-age=480, must-revalidate"
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(api_engine, "before_cursor_execute", count)
    try:
        again = client.get(url)
        not_modified = client.get(url, headers={"If-None-Match": etag})
    finally:
        event.remove(api_engine, "before_cursor_execute", count)
    assert again.get_data() == first.get_data() and again.headers["ETag"] == etag
    assert not_modified.status_code == 304 and not not_modified.get_data()
    assert len(statements) == 2, "only the data version is read, once per request"
    other = client.get(f"/api/rides/downtime?{SPAN}&limit=3")
    assert other.headers["ETag"] != etag


def test_conditional_requests_accept_weak_and_compressed_etags(client: Any) -> None:
    url = f"/api/parks/downtime?{SPAN}"
    etag = client.get(url).headers["ETag"].strip('"')
    for header in (f'"{etag}"', f'W/"{etag}"', f'"{etag}-gzip"', f'"other", "{etag}"'):
        assert client.get(url, headers={"If-None-Match": header}).status_code == 304, header
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/api/parks/999999", headers={"If-None-Match": "*"}).status_code == 404


def test_answers_past_the_next_collection_must_be_revalidated(api_engine: Engine) -> None:
    late = create_app(settings(), api_engine, clock=lambda: NOW + timedelta(minutes=30))
    answer = late.test_client().get("/api/parks")
    assert answer.headers["Cache-Control"] == "public, max-age=0, must-revalidate"


def test_rides_sort_by_name_the_same_way_on_every_database(client: Any) -> None:
    body = client.get(f"/api/rides/downtime?{SPAN}&sort=name&order=asc&limit=1000").get_json()
    names = [r["name"] for r in body["data"]]
    assert names == sorted(names) and any(not n[0].isascii() for n in names)


def test_a_park_no_longer_tracked_keeps_its_pages(api_engine: Engine, engine: Engine) -> None:
    copy_rows(api_engine, engine)  # its own copy: the shared one is only read
    client = app(engine).test_client()
    before = client.get(f"/api/parks/{ANAHEIM}?{SPAN}").get_json()["data"]
    ride_id = before["rides"][0]["ride_id"]
    with engine.begin() as conn:
        conn.execute(update(parks).where(parks.c.id == ANAHEIM).values(is_active=False))
    fresh = app(engine).test_client()
    after = fresh.get(f"/api/parks/{ANAHEIM}?{SPAN}").get_json()["data"]
    ride = fresh.get(f"/api/rides/{ride_id}?{SPAN}").get_json()["data"]
    ranked = fresh.get(f"/api/parks/downtime?{SPAN}").get_json()["data"]
    assert after["figures"] == before["figures"] and after["rides"] == before["rides"]
    assert after["park"]["is_active"] is False
    assert ride["figures"] is not None and ride["history"]
    assert [p["park_id"] for p in ranked] == [TORONTO], "not in the rankings any more"


def test_a_ride_s_outages_are_its_downtime_event_by_event(client: Any) -> None:
    ranked = _ok(
        client, f"/api/rides/downtime?{SPAN}&park={TORONTO}&limit=1", schemas.RideRankingsResponse
    )
    ride_id = ranked["data"][0]["ride_id"]
    page = _ok(client, f"/api/rides/{ride_id}?{SPAN}", schemas.RideDetailResponse)["data"]
    body = _ok(client, f"/api/rides/{ride_id}/outages?{SPAN}", schemas.OutagesResponse)
    outages = body["data"]
    assert body["meta"]["limit"] == 100
    assert (
        len(outages)
        == page["downtime_events"]
        == sum(day["downtime_events"] for day in page["history"])
    )
    assert sum(o["duration_minutes"] for o in outages) / 60 == pytest.approx(
        page["figures"]["downtime_hours"], abs=0.01
    )
    starts = [o["start"] for o in outages]
    assert starts == sorted(starts, reverse=True)
    assert all(not o["ongoing"] and o["end"] > o["start"] for o in outages)
    assert {o["day"] for o in outages} <= {str(DAYS[0] + timedelta(days=n)) for n in range(3)}
    gated = page["reliability"]["all"]
    assert gated["outages"] is None and gated["insufficient_data"] == "less than 20 hours observed"
    # Over the whole of its days the ride has been observed long enough.
    whole = _ok(client, f"/api/rides/{ride_id}?period=last_7_days", schemas.RideDetailResponse)
    figures = whole["data"]["reliability"]["all"]
    ended = [
        o
        for o in _ok(
            client, f"/api/rides/{ride_id}/outages?period=last_7_days", schemas.OutagesResponse
        )["data"]
        if not o["ongoing"]
    ]
    assert figures["outages"] == len(ended) >= len(outages)
    assert figures["mttr_minutes"] == pytest.approx(
        sum(o["duration_minutes"] for o in ended) / len(ended), abs=0.1
    )
    assert figures["longest_outage_minutes"] == max(o["duration_minutes"] for o in ended)
    ride_only = whole["data"]["reliability"]["ride_outages"]
    assert ride_only["outages"] == sum(1 for o in ended if not o["park_wide"])
    two = _ok(client, f"/api/rides/{ride_id}/outages?{SPAN}&limit=2", schemas.OutagesResponse)
    assert two["data"] == outages[:2]


def test_outages_of_an_unknown_ride_or_with_a_bad_limit_are_refused(client: Any) -> None:
    assert client.get("/api/rides/999999/outages").status_code == 404
    response = client.get(f"/api/rides/1/outages?{SPAN}&limit=0")
    assert response.status_code == 400 and response.get_json()["error"]


def test_rides_down_now_each_with_the_estimate_of_its_own_page(client: Any) -> None:
    body = _ok(client, "/api/live/down", schemas.DownRidesResponse)
    down = body["data"]
    summary = _ok(client, "/api/live/summary", schemas.LiveSummaryResponse)["data"]
    assert len(down) == summary["down"] > 0
    lengths = [row["down_for_minutes"] for row in down]
    assert lengths == sorted(lengths, reverse=True)
    for row in down:
        page = _ok(client, f"/api/rides/{row['ride_id']}", schemas.RideDetailResponse)["data"]
        assert page["ride"]["live_status"] == "down"
        own = _ok(client, f"/api/rides/{row['ride_id']}/recovery", schemas.RecoveryResponse)
        assert row["recovery"]["still_down"] == []  # the list leaves the curves out
        assert {**own["data"], "still_down": []} == row["recovery"]
        assert row["down_since"] < NOW.isoformat().replace("+00:00", "Z")


def test_back_soon_learns_from_the_first_pool_with_enough_outages(client: Any) -> None:
    ranked = _ok(
        client, f"/api/rides/downtime?{SPAN}&park={TORONTO}&limit=1", schemas.RideRankingsResponse
    )
    ride_id = ranked["data"][0]["ride_id"]
    found = _ok(client, f"/api/rides/{ride_id}/recovery?down_for=5", schemas.RecoveryResponse)
    data = found["data"]
    assert data["down_for_minutes"] == 5.0
    assert data["pool"] in ("ride", "park_tier", "tier")
    assert data["outages"] >= 10 and data["censored"] == 0
    chances = data["p_open_within"]
    assert set(chances) == {"15", "30", "60"}
    assert 0 <= chances["15"] <= chances["30"] <= chances["60"] <= 1
    longer = _ok(client, f"/api/rides/{ride_id}/recovery?down_for=1400", schemas.RecoveryResponse)
    assert longer["data"]["pool"] is None and longer["data"]["p_open_within"] is None


def test_back_soon_for_a_ride_that_is_not_down_needs_down_for(client: Any) -> None:
    down = {row["ride_id"] for row in client.get("/api/live/down").get_json()["data"]}
    ranked = client.get(f"/api/rides/downtime?{SPAN}&limit=50").get_json()["data"]
    up = next(row["ride_id"] for row in ranked if row["ride_id"] not in down)
    response = client.get(f"/api/rides/{up}/recovery")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "not_down"
    assert client.get(f"/api/rides/{up}/recovery?down_for=-1").status_code == 400


def test_back_soon_is_the_same_from_prepared_pools(api_engine: Engine, engine: Engine) -> None:
    """The loaded days were aggregated, which prepared the pools. A copy without them
    computes each pool from the outages and answers the same; deleting a park's outages
    behind the cache's back shows that the prepared pools are what is read."""
    ranked = app(api_engine).test_client().get(f"/api/rides/downtime?{SPAN}&limit=100")
    asks = ["/api/live/down"] + [
        f"/api/rides/{row['ride_id']}/recovery?down_for={minutes}"
        for row in ranked.get_json()["data"][::7]
        for minutes in (5, 45, 200)
    ]
    prepared = {url: _ok(app(api_engine).test_client(), url, schemas.Model) for url in asks}
    pools = [row["data"]["pool"] for url, row in prepared.items() if "recovery" in url]
    assert {"park_tier", "tier"} <= set(pools), "the asks reach the fallback pools"
    copy_rows(api_engine, engine)
    with engine.begin() as conn:
        assert conn.execute(delete(recovery_pools)).rowcount > 0
    computed = {url: app(engine).test_client().get(url).get_json() for url in asks}
    assert computed == prepared
    aggregate(engine, settings(), NOW)  # prepares them again
    with engine.begin() as conn:
        conn.execute(
            delete(ride_outages).where(
                ride_outages.c.ride_id.in_(select(rides.c.id).where(rides.c.park_id == ANAHEIM))
            )
        )
    kept = {url: app(engine).test_client().get(url).get_json() for url in asks}
    assert kept == prepared


def test_a_park_day_written_again_forgets_the_pools_it_is_in(
    api_engine: Engine, engine: Engine
) -> None:
    copy_rows(api_engine, engine)

    def prepared() -> set[tuple[str, int, int, int]]:
        with engine.connect() as conn:
            c = recovery_pools.c
            found = conn.execute(select(c.pool, c.park_id, c.tier, c.ride_id))
            return {(pool, park, tier, ride) for pool, park, tier, ride in found}

    before = prepared()
    assert ("tier", 0, 1, 0) in before and ("park_tier", TORONTO, 1, 0) in before
    assert any(pool == "ride" and park == TORONTO for pool, park, _, _ in before)
    rules = StatsRules(settings().state_rules(), settings().day_rules())
    with engine.begin() as conn:
        refresh_park_day(
            conn, TORONTO, ZoneInfo("America/Toronto"), DAYS[0], now=NOW, rules=rules, final=True
        )
    after = prepared()
    assert after == {key for key in before if key[1] == ANAHEIM}
    report = aggregate(engine, settings(), NOW)
    assert report.pools == len(before) - len(after) and prepared() == before


def test_rides_down_and_back_soon_answer_at_any_instant(api_engine: Engine) -> None:
    """The clock has a fraction of a second; stored outage starts have none."""
    later = create_app(settings(), api_engine, clock=lambda: NOW + timedelta(microseconds=250))
    client = later.test_client()
    down = _ok(client, "/api/live/down", schemas.DownRidesResponse)["data"]
    assert down
    _ok(client, f"/api/rides/{down[0]['ride_id']}/recovery", schemas.RecoveryResponse)


@pytest.mark.parametrize(
    ("sort", "figure", "order"),
    [
        ("outages_per_100h", "outages_per_100h", "desc"),
        ("mtbf", "mtbf_hours", "asc"),
        ("mttr", "mttr_minutes", "desc"),
    ],
)
def test_rides_rank_by_outage_figures_only_past_the_gates(
    client: Any, sort: str, figure: str, order: str
) -> None:
    every = _ok(
        client, "/api/rides/downtime?period=last_7_days&limit=1000", schemas.RideRankingsResponse
    )["data"]
    ranked = _ok(
        client,
        f"/api/rides/downtime?period=last_7_days&limit=1000&sort={sort}&order={order}",
        schemas.RideRankingsResponse,
    )["data"]
    values = [row["reliability"]["all"][figure] for row in ranked]
    assert ranked and None not in values
    assert values == sorted(values, reverse=order == "desc")
    passing = {
        row["ride_id"]
        for row in every
        if row["reliability"]["all"]["outages"] is not None
        and (sort == "outages_per_100h" or row["reliability"]["all"]["outages"] > 0)
    }
    assert {row["ride_id"] for row in ranked} == passing
    assert len(passing) < len(every), "some rides are below the gates"


def test_park_rows_carry_the_reliability_of_their_park_s_page(client: Any) -> None:
    """Each park row's outage figures are those of the park's page, which are its rides'
    outages (the next test); both read the park days' outage lengths."""
    for period in (SPAN, "period=last_7_days", "period=today"):
        ranked = _ok(client, f"/api/parks/downtime?{period}", schemas.ParkRankingsResponse)
        assert ranked["data"]
        for row in ranked["data"]:
            page = _ok(client, f"/api/parks/{row['park_id']}?{period}", schemas.ParkDetailResponse)
            assert row["reliability"] == page["data"]["reliability"]
    week = _ok(client, "/api/parks/downtime?period=last_7_days", schemas.ParkRankingsResponse)
    assert all(row["reliability"]["all"]["outages"] > 5 for row in week["data"])


def test_a_park_s_outages_are_those_of_its_rides(client: Any) -> None:
    page = _ok(client, f"/api/parks/{TORONTO}?period=last_7_days", schemas.ParkDetailResponse)
    figures = page["data"]["reliability"]
    lengths = []
    for ride in page["data"]["rides"]:
        listed = _ok(
            client,
            f"/api/rides/{ride['ride_id']}/outages?period=last_7_days&limit=1000",
            schemas.OutagesResponse,
        )["data"]
        lengths += [o["duration_minutes"] for o in listed if not o["ongoing"]]
    assert figures["all"]["outages"] == len(lengths) > 5
    assert figures["all"]["longest_outage_minutes"] == max(lengths)
    assert figures["all"]["mttr_minutes"] == pytest.approx(sum(lengths) / len(lengths), abs=0.1)
    ordered = sorted(lengths)
    assert figures["all"]["median_outage_minutes"] == ordered[(len(ordered) + 1) // 2 - 1]
