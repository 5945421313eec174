"""The simulated feed's ThemeParks.wiki answers: read by the tracker's own parser,
consistent with the model's truth and with its Queue-Times answers, and served over
loopback beside them."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from feed_fixtures import catalogue

from themepark_tracker.feed.model import FeedConfig, FeedModel
from themepark_tracker.feed.server import running_server
from themepark_tracker.feed.wiki import WikiFeed
from themepark_tracker.sources.http import FetchError, HttpClient
from themepark_tracker.sources.themeparks_wiki import (
    ScheduledHours,
    parse_children,
    parse_destinations,
    parse_live,
    parse_schedule,
)
from themepark_tracker.wiki_mapping import shipped_parks

MAGIC_KINGDOM, CEDAR_POINT = 6, 50
DAY_START = datetime(2026, 7, 3, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def wiki() -> WikiFeed:
    config = FeedConfig(seed=11, refurbishment=0.05)
    return WikiFeed(FeedModel(catalogue(MAGIC_KINGDOM, CEDAR_POINT), config))


def test_mapped_parks_keep_their_real_ids_and_every_document_parses(wiki: WikiFeed) -> None:
    parks, problems = parse_destinations(wiki.destinations())
    assert problems == []
    assert {park.id for park in parks} == {
        shipped_parks()[MAGIC_KINGDOM].wiki_id,
        shipped_parks()[CEDAR_POINT].wiki_id,
    }
    children, problems = parse_children(wiki.children(MAGIC_KINGDOM))
    assert problems == [] and children
    live, problems = parse_live(wiki.live(MAGIC_KINGDOM, DAY_START))
    assert problems == [] and {entry.id for entry in live} > {child.id for child in children}
    hours, problems = parse_schedule(wiki.schedule(MAGIC_KINGDOM, DAY_START))
    assert problems == [] and hours


def test_statuses_follow_the_truth_minute_by_minute(wiki: WikiFeed) -> None:
    """Over a day of each park, every 10 minutes: DOWN exactly in breakdowns and storms
    (CLOSED where the park's feed never says DOWN), OPERATING exactly while truly open,
    REFURBISHMENT on a refurbishment day, waits only while operating."""
    model = wiki.model
    seen: Counter[str] = Counter()
    for park_id in (MAGIC_KINGDOM, CEDAR_POINT):
        park = model.parks[park_id]
        rides = {wiki.ride_id(ride): ride for ride in park.rides}
        day = model.schedule_day(park_id, DAY_START)
        plan = model.day_plan(park_id, day)
        for step in range(0, 24 * 6):
            at = DAY_START + timedelta(minutes=10 * step)
            t = int(at.timestamp())
            live, _ = parse_live(wiki.live(park_id, at))
            for entry in live:
                if entry.entity_type == "PARK":
                    continue
                ride = rides[entry.id]
                seen[entry.status or "none"] += 1
                in_hours = plan.opens is not None and plan.opens <= t < (plan.closes or 0)
                running = any(a <= t < b for a, b in plan.windows.get(ride.id, ()))
                broken = any(a <= t < b for a, b in plan.breakdowns.get(ride.id, ()))
                if not in_hours:
                    assert entry.status == "CLOSED"
                elif model.refurbishing(ride, day):
                    assert entry.status == "REFURBISHMENT"
                elif running:
                    assert entry.status == "OPERATING"
                elif broken:
                    assert entry.status == ("CLOSED" if wiki.never_down(park_id) else "DOWN")
                if entry.status != "OPERATING":
                    assert entry.standby_wait is None
    assert seen["DOWN"] > 0 and seen["OPERATING"] > 0 and seen["CLOSED"] > 0


def test_schedules_publish_the_true_hours_with_disney_s_early_entry(wiki: WikiFeed) -> None:
    """Over 30 days: OPERATING hours are the true ones but on the days the park opened
    late or closed early against them; closed days and a few others are not published."""
    model = wiki.model
    for park_id in (MAGIC_KINGDOM, CEDAR_POINT):
        hours, _ = parse_schedule(wiki.schedule(park_id, DAY_START))
        by_day: dict[date, list[ScheduledHours]] = {}
        for entry in hours:
            by_day.setdefault(entry.day, []).append(entry)
        kinds = Counter(entry.kind for entry in hours)
        if park_id == MAGIC_KINGDOM:
            assert kinds["TICKETED_EVENT"] >= kinds["OPERATING"] > 20
        else:
            assert set(kinds) == {"OPERATING"}
        differ = 0
        first = model.schedule_day(park_id, DAY_START)
        for n in range(31):
            day = first + timedelta(days=n)
            plan = model.day_plan(park_id, day)
            published = [e for e in by_day.get(day, []) if e.kind == "OPERATING"]
            if plan.opens is None:
                assert published == []
                continue
            if not published:
                continue  # not published
            (entry,) = published
            true = (plan.opens, plan.closes)
            shown = (int(entry.opens.timestamp()), int(entry.closes.timestamp()))
            differ += true != shown
            assert shown[0] <= true[0] and shown[1] >= (true[1] or 0)
        assert differ <= 8


def test_the_server_answers_both_apis_with_the_same_faults(wiki: WikiFeed) -> None:
    clock = lambda: DAY_START  # noqa: E731 - a clock that stands still
    with running_server(wiki.model, clock, wiki=wiki) as url:
        client = HttpClient(url + "/v1", timeout=5, user_agent="test", attempts=1)
        park = shipped_parks()[MAGIC_KINGDOM].wiki_id
        try:
            document = json.loads(client.get(f"/entity/{park}/live").body)
            assert document == wiki.live(MAGIC_KINGDOM, DAY_START)
            assert json.loads(client.get(f"/entity/{park}/schedule/2026/07").body)["schedule"]
            for path in (f"/entity/{park}/schedule/2026/7", "/entity/nobody/live", "/parks"):
                with pytest.raises(FetchError) as failed:
                    client.get(path)
                assert failed.value.status == 404
        finally:
            client.close()
