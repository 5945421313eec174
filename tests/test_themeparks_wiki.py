"""ThemeParks.wiki answers read at the edge: real captures (tests/fixtures/themeparks_wiki,
see its SOURCES.md), the quirks they carry, and documents that are partly wrong."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from themepark_tracker.sources.http import FetchError, HttpClient
from themepark_tracker.sources.themeparks_wiki import (
    parse_children,
    parse_destinations,
    parse_live,
    parse_schedule,
)

FIXTURES = Path(__file__).parent / "fixtures" / "themeparks_wiki"
MAGIC_KINGDOM = "75ea578a-adc8-4116-a54d-dccb60765ef9"


def capture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_every_park_of_every_destination() -> None:
    parks, problems = parse_destinations(capture("destinations_2026-04-14.json"))
    assert problems == [] and len(parks) == 127
    magic = next(park for park in parks if park.id == MAGIC_KINGDOM)
    assert magic.name == "Magic Kingdom Park"
    assert magic.destination_name == "Walt Disney World® Resort"
    names = Counter(park.name for park in parks)
    assert names["Disneyland Park"] == 2  # Anaheim and Paris share a name


def test_a_park_s_children() -> None:
    children, problems = parse_children(capture("wdw_magic_kingdom_children.json"))
    kinds = Counter(child.entity_type for child in children)
    assert problems == [] and kinds == {"ATTRACTION": 35, "RESTAURANT": 21, "SHOW": 17}
    assert all(child.parent_id for child in children)


def test_live_statuses_and_waits_while_open() -> None:
    live, problems = parse_live(capture("wdw_magic_kingdom_live_2026-04-14T22Z.json"))
    assert problems == [] and len(live) == 61
    rides = Counter(entry.status for entry in live if entry.entity_type == "ATTRACTION")
    assert rides == {"OPERATING": 32, "CLOSED": 2, "REFURBISHMENT": 1}
    tron = next(entry for entry in live if entry.name == "TRON Lightcycle / Run")
    assert (tron.status, tron.standby_wait) == ("OPERATING", 65)
    park = next(entry for entry in live if entry.entity_type == "PARK")
    assert park.last_updated == datetime(2024, 5, 14, 13, 36, 4, tzinfo=UTC)  # kept as sent


def test_before_opening_every_wait_is_null() -> None:
    live, problems = parse_live(capture("wdw_magic_kingdom_live_2026-04-15T10Z.json"))
    rides = [entry for entry in live if entry.entity_type == "ATTRACTION"]
    assert problems == [] and all(entry.standby_wait is None for entry in rides)
    assert sum(entry.status == "CLOSED" for entry in rides) == 32


def test_a_schedule_in_utc_with_its_kinds_and_a_night_past_midnight() -> None:
    hours, problems = parse_schedule(capture("wdw_magic_kingdom_schedule_2026-04-14.json"))
    assert problems == [] and len(hours) == 69
    kinds = Counter((h.kind, h.description) for h in hours)
    assert kinds[("OPERATING", None)] == 31
    assert kinds[("TICKETED_EVENT", "Early Entry")] == 31
    first = [h for h in hours if h.day == date(2026, 4, 14)]
    assert [(h.kind, h.opens.hour, h.closes.hour) for h in first] == [
        ("TICKETED_EVENT", 12, 13),  # 08:30-09:00 EDT
        ("OPERATING", 13, 2),  # 09:00-22:00 EDT, closing on the next UTC date
    ]
    late = [h for h in hours if h.description == "Special Ticketed Event"]
    assert late and all(h.closes.date() > h.day for h in late)


def test_a_bad_entry_is_a_problem_and_the_rest_is_kept() -> None:
    document = capture("wdw_magic_kingdom_live_2026-04-14T22Z.json")
    entries = document["liveData"]
    entries[0]["lastUpdated"] = "yesterday"
    entries[1]["status"] = "BROKEN"
    entries[2]["queue"] = {"STANDBY": {"waitTime": 99_999}}
    entries[3]["somethingNew"] = {"nested": [1, 2]}  # unknown fields are nobody's problem
    live, problems = parse_live(document)
    assert [p.where for p in problems] == ["liveData[0]", "liveData[1]", "liveData[2]"]
    assert len(live) == 60  # an unknown status or wait is dropped, not the entry
    assert live[0].status is None and live[1].standby_wait is None
    schedule = {"schedule": [{"date": "2026-04-14", "type": "OPERATING",
                              "openingTime": "2026-04-14T22:00:00-04:00",
                              "closingTime": "2026-04-14T09:00:00-04:00"}]}  # fmt: skip
    assert parse_schedule(schedule)[1][0].detail == "closes before it opens"
    assert parse_live([])[1][0].detail == "not a JSON object"
    assert parse_children({"children": "none"})[1][0].detail == "missing or not a list"


class _Budget(BaseHTTPRequestHandler):
    """Answers `{}` saying the rate-limit window is spent for 30 s; `cached` answers say
    so from a shared cache (an `Age`), which tells nothing of the caller's budget."""

    cached = False
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook
        type(self).seen.append(self.path)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("RateLimit-Remaining", "0")
        self.send_header("RateLimit-Reset", "30")
        if type(self).cached:
            self.send_header("Age", "9")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("cached", [False, True])
def test_a_spent_rate_limit_window_holds_the_next_request(cached: bool) -> None:
    """It would wait 30 s, past the cycle's deadline: so it fails at once, unsent. From a
    cache, the same headers hold nothing back."""
    _Budget.cached, _Budget.seen = cached, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Budget)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = HttpClient(
        f"http://127.0.0.1:{server.server_address[1]}/v1",
        timeout=5,
        user_agent="test",
        deadline=time.monotonic() + 10,
    )
    try:
        assert client.get("/destinations").body == b"{}"
        if cached:
            assert client.get("/destinations").status == 200
        else:
            with pytest.raises(FetchError) as failed:
                client.get("/destinations")
            assert failed.value.outcome == "timeout"
        assert len(_Budget.seen) == (2 if cached else 1)
    finally:
        client.close()
        server.shutdown()
        server.server_close()
