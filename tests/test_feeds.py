"""The Atom feeds of a park's and a ride's events: valid Atom 1.0 as a feed parser reads
it, newest first, conditional (ETag, Last-Modified, 304), public, limited per address."""

from __future__ import annotations

from typing import Any

import feedparser
from api_fixtures import ANAHEIM, NOW, settings
from conftest import REDIS_URL
from sqlalchemy import Engine
from test_api_security import SECRET

from themepark_tracker.api import create_app
from themepark_tracker.storage import events


def _client(engine: Engine, prefix: str = "feeds", **environ: str) -> Any:
    made = create_app(settings(**environ), engine, clock=lambda: NOW, limiter_prefix=prefix)
    made.testing = True
    return made.test_client()


def test_a_park_feed_is_valid_atom_of_its_latest_events_newest_first(api_engine: Engine) -> None:
    response = _client(api_engine).get(f"/feeds/parks/{ANAHEIM}.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    with api_engine.connect() as conn:
        stored = events.recent(conn, park_id=ANAHEIM)
    assert stored, "the simulated days have events"
    assert [entry.id for entry in parsed.entries] == [
        f"urn:themepark-tracker:event:{event.id}" for event in stored
    ]
    assert len(parsed.entries) <= events.RECENT
    assert "Queue-Times.com" in parsed.feed.rights
    titles = {entry.title for entry in parsed.entries}
    assert any(title.endswith(" is down") for title in titles)
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"].endswith(f"/feeds/parks/{ANAHEIM}.atom")
    assert f"park={ANAHEIM}" in links["alternate"]


def test_a_ride_feed_holds_only_that_ride_s_events(api_engine: Engine) -> None:
    with api_engine.connect() as conn:
        ride_id = next(e.ride_id for e in events.recent(conn, park_id=ANAHEIM) if e.ride_id)
        stored = events.recent(conn, ride_id=ride_id)
    parsed = feedparser.parse(_client(api_engine).get(f"/feeds/rides/{ride_id}.atom").data)
    assert not parsed.bozo
    assert [entry.id.rsplit(":", 1)[1] for entry in parsed.entries] == [e.id for e in stored]


def test_an_unchanged_feed_answers_304(api_engine: Engine) -> None:
    client = _client(api_engine)
    first = client.get(f"/feeds/parks/{ANAHEIM}.atom")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(
        f"/feeds/parks/{ANAHEIM}.atom", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and not again.data
    since = client.get(
        f"/feeds/parks/{ANAHEIM}.atom",
        headers={"If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert since.status_code == 304


def test_feeds_are_public_and_limited_per_address(api_engine: Engine, redis_prefix: str) -> None:
    client = _client(
        api_engine,
        redis_prefix,
        API_AUTH="required",
        SECRET_KEY=SECRET,
        FEED_RATE_LIMITS="2/minute",
        RATE_LIMIT_STORAGE_URL=REDIS_URL,
    )
    statuses = [client.get(f"/feeds/parks/{ANAHEIM}.atom").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/api/parks").status_code == 401  # the API still wants its key


def test_unknown_parks_and_rides_are_404(api_engine: Engine) -> None:
    client = _client(api_engine)
    assert client.get("/feeds/parks/999.atom").status_code == 404
    assert client.get("/feeds/rides/999999.atom").get_json()["error"]["code"] == "not_found"
