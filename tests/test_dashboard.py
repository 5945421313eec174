"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright,
against the app served by waitress on a loopback port over the simulated days.

Every page is compared with what the API answers for the same question, and each test
fails on any console error. Screenshots go to build/screenshots (named in the summary).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from api_fixtures import ANAHEIM, NOW, TORONTO, app, settings
from playwright import sync_api as playwright_api
from sqlalchemy import Engine
from waitress.server import create_server

from themepark_tracker.api import create_app
from themepark_tracker.config import METRIC_SETTINGS
from themepark_tracker.demo import HistoryBuild
from themepark_tracker.web import STATIC, UPLOT

pytestmark = pytest.mark.backends("sqlite")

SCREENSHOTS = Path(__file__).parents[1] / "build" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER", "") not in ("", "0")
PERIOD = "from=2026-07-01&to=2026-07-03"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def _serve(made: Any) -> Iterator[str]:
    server = create_server(made, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(api_engine: Engine) -> Iterator[str]:
    yield from _serve(app(api_engine))


@pytest.fixture
def api(api_engine: Engine) -> Any:
    client = app(api_engine).test_client()
    return lambda url: client.get(url).get_json()


class Page:
    """A browser tab that records console errors and failed requests."""

    def __init__(self, browser: Any, base_url: str, **context: Any) -> None:
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, query: str = "") -> Any:
        self.page.goto(f"{self.base_url}/{query}")
        return self.ready()

    def ready(self) -> Any:
        self.page.wait_for_selector("main:not([aria-busy]) > :not(.loading)")
        return self.page

    def query(self) -> str:
        return str(self.page.url.split("?", 1)[1]) if "?" in self.page.url else ""

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def tab(browser: Any, base_url: str) -> Iterator[Page]:
    opened = Page(browser, base_url, viewport={"width": 1280, "height": 900})
    yield opened
    opened.context.close()
    assert opened.errors == [], "the console showed errors"


def _cells(page: Any, table: int, column: int) -> list[str]:
    rows = page.locator("main table").nth(table).locator("tbody tr")
    return [rows.nth(i).locator("td").nth(column).inner_text() for i in range(rows.count())]


def test_the_downtime_tab_shows_the_apis_rankings(tab: Page, api: Any) -> None:
    page = tab.open(f"?{PERIOD}")
    parks = api(f"/api/parks/downtime?{PERIOD}")["data"]
    rides = api(f"/api/rides/downtime?{PERIOD}&limit=50")["data"]
    assert [c.strip(" ↗") for c in _cells(page, 0, 1)] == [p["name"] for p in parks]
    assert _cells(page, 0, 3) == [f"{p['figures']['shame_score']:.2f}" for p in parks]
    assert _cells(page, 0, 4) == [f"{p['figures']['downtime_hours']:.1f} h" for p in parks]
    assert [c.strip(" ↗") for c in _cells(page, 1, 1)] == [r["name"] for r in rides]
    assert _cells(page, 1, 7) == [r["live_status"].capitalize() for r in rides]
    assert page.locator("#stat-parks").inner_text() == "2"
    assert page.locator("#stat-running").inner_text() == str(
        api("/api/live/summary")["data"]["running"]
    )
    tab.shot("downtime")


def test_the_live_period_lists_the_rides_down_now_with_their_estimate(tab: Page, api: Any) -> None:
    page = tab.open()
    down = api("/api/live/down")["data"]
    listed = page.locator("main table", has=page.locator("caption", has_text="down now"))
    assert listed.locator("tbody tr").count() == len(down) > 0
    names = listed.locator("tbody tr td:first-child").all_inner_texts()
    assert [n.strip(" ↗") for n in names] == [r["name"] for r in down]
    page.click("[data-period=yesterday]")
    tab.ready()
    assert page.locator("main table caption", has_text="down now").count() == 0


def test_period_buttons_and_the_filter_update_the_table_and_the_url(tab: Page, api: Any) -> None:
    page = tab.open()
    assert page.locator("[data-period=today]").get_attribute("aria-pressed") == "true"
    page.click("[data-period=yesterday]")
    tab.ready()
    assert "period=yesterday" in tab.query()
    yesterday = api("/api/parks/downtime?period=yesterday")["data"]
    assert _cells(page, 0, 4) == [f"{p['figures']['downtime_hours']:.1f} h" for p in yesterday]
    page.select_option("#filter", "disney-universal")
    tab.ready()
    assert "filter=disney-universal" in tab.query()
    assert [c.strip(" ↗") for c in _cells(page, 0, 1)] == ["Disneyland"]
    page.go_back()
    tab.ready()
    assert "filter" not in tab.query()
    assert len(_cells(page, 0, 1)) == 2


def test_a_custom_range_and_an_empty_period(tab: Page) -> None:
    page = tab.open()
    page.click("[data-period=custom]")
    page.fill("#custom-range input[name=from]", "2026-01-01")
    page.fill("#custom-range input[name=to]", "2026-01-02")
    page.click("#custom-range button[type=submit]")
    tab.ready()
    assert "from=2026-01-01&to=2026-01-02" in tab.query()
    assert page.locator("main .state.empty").first.inner_text() == (
        "No downtime recorded for this period."
    )
    tab.shot("empty")


def test_sorting_a_column_asks_the_api_for_that_order(tab: Page, api: Any) -> None:
    page = tab.open(f"?{PERIOD}")
    page.locator("main table").nth(1).get_by_role("button", name="Uptime").click()
    tab.ready()
    assert "rsort=uptime" in tab.query() and "rorder=desc" in tab.query()
    expected = api(f"/api/rides/downtime?{PERIOD}&limit=50&sort=uptime&order=desc")["data"]
    assert [c.strip(" ↗") for c in _cells(page, 1, 1)] == [r["name"] for r in expected]
    header = page.locator("main table").nth(1).locator("th[aria-sort=descending]")
    assert header.inner_text().startswith("UPTIME")


def test_the_wait_times_tab_in_each_mode(tab: Page, api: Any) -> None:
    page = tab.open(f"?view=waits&{PERIOD}")
    live = api("/api/rides/waittimes?mode=live")["data"]
    assert _cells(page, 0, 3) == [f"{w['wait_minutes']:.0f} min" for w in live]
    page.get_by_role("button", name="Peak").click()
    tab.ready()
    assert "mode=peak" in tab.query()
    peak = api(f"/api/parks/waittimes?mode=peak&{PERIOD}")["data"]
    assert _cells(page, 1, 2) == [f"{w['wait_minutes']:.0f} min" for w in peak]
    tab.shot("waits")


def test_the_trends_tab_has_its_four_tables(tab: Page, api: Any) -> None:
    page = tab.open("?view=trends&period=yesterday")
    body = api("/api/trends?period=yesterday")["data"]
    titles = page.locator("main .panel h2").all_inner_texts()
    assert titles == ["Parks improving", "Parks declining", "Rides improving", "Rides declining"]
    rides_declining = page.locator("main .panel").nth(3)
    assert rides_declining.locator("tbody tr").count() == len(body["rides-declining"])
    tab.shot("trends")


def test_the_park_page(tab: Page, api: Any) -> None:
    page = tab.open(f"?{PERIOD}")
    page.locator("main table").first.get_by_role("link", name="Canada's Wonderland").click()
    tab.ready()
    assert f"view=park&{PERIOD}&park={TORONTO}" in tab.query() or f"park={TORONTO}" in tab.query()
    detail = api(f"/api/parks/{TORONTO}?{PERIOD}")["data"]
    assert page.locator("main h2").first.inner_text().startswith("Canada's Wonderland")
    feed = page.locator("head link[type='application/atom+xml']")
    assert feed.count() == 1 and feed.get_attribute("href") == f"/feeds/parks/{TORONTO}.atom"
    subscribe = page.get_by_role("link", name="Subscribe")
    assert subscribe.get_attribute("href") == f"/feeds/parks/{TORONTO}.atom"
    assert page.locator(".tiers li").count() == 4
    assert page.locator("#park-chart canvas").count() == 1
    cells = page.locator(".heatmap .cell")
    assert cells.count() == len(detail["heatmap"]["rides"]) * len(detail["heatmap"]["dates"])
    rides_table = page.get_by_role("table", name="The park's rides ranked by downtime")
    assert rides_table.locator("tbody tr").count() == len(detail["rides"])
    hours = page.get_by_role("table", name="Operating hours per day: published against observed")
    assert hours.locator("tbody tr").count() == len(detail["operating_sessions"])
    quality = page.get_by_role("table", name="Data quality per day")
    quality.wait_for()
    assert quality.locator("tbody tr").count() == len(detail["days"])
    tab.shot("park")
    rides_table.get_by_role("button", name="MTBF").click()
    tab.ready()
    assert "rsort=mtbf" in tab.query()
    figures = [r["reliability"]["all"] for r in detail["rides"]]
    known = sorted((f["mtbf_hours"] for f in figures if f["mtbf_hours"] is not None), reverse=True)
    column = rides_table.locator("tbody tr td:nth-child(9)").all_inner_texts()
    assert known and column[: len(known)] == [f"{x:.1f} h" for x in known]
    unknown = [f for f in figures if f["mtbf_hours"] is None]
    assert sorted(column[len(known) :]) == sorted(
        "not enough data" if f["insufficient_data"] else "–" for f in unknown
    )


def test_the_ride_page_with_its_timeline_and_waits(tab: Page, api: Any) -> None:
    ride = api(f"/api/rides/downtime?{PERIOD}&park={ANAHEIM}&limit=1")["data"][0]
    page = tab.open(f"?view=ride&ride={ride['ride_id']}&{PERIOD}")
    detail = api(f"/api/rides/{ride['ride_id']}?{PERIOD}")["data"]
    assert page.locator("main h2").first.inner_text().startswith(ride["name"])
    assert page.locator(".timeline .band.open").count() >= 1
    day = next(d for d in detail["history"] if d["date"] == detail["timeline"]["date"])
    assert page.locator(".timeline .band.closed").count() == day["downtime_events"] > 0
    assert page.locator("#wait-chart canvas").count() == 1
    history = page.locator("main table").last.locator("tbody tr")
    assert history.count() == len(detail["history"])
    outages = api(f"/api/rides/{ride['ride_id']}/outages?{PERIOD}&limit=1000")["data"]
    reliability = page.locator("main table", has=page.locator("caption", has_text="Reliability"))
    assert reliability.locator("tbody tr").count() == 7
    listed = page.locator("main table", has=page.locator("caption", has_text="Outages, newest"))
    assert listed.locator("tbody tr").count() == min(50, len(outages)) > 0
    curve = api(f"/api/rides/{ride['ride_id']}/recovery?down_for=0")["data"]["still_down"]
    assert page.locator("#recovery-chart canvas").count() == (1 if curve else 0)
    bars = page.locator(".histogram li .count").all_inner_texts()
    assert sum(int(n) for n in bars) == sum(1 for o in outages if not o["ongoing"])
    tab.shot("ride")


def test_an_unknown_ride_shows_an_error_with_a_retry(browser: Any, base_url: str) -> None:
    opened = Page(browser, base_url)
    page = opened.open("?view=ride&ride=999999999")
    alert = page.get_by_role("alert")
    assert "no ride 999999999" in alert.inner_text()
    assert alert.get_by_role("button", name="Try again").is_visible()
    opened.context.close()
    assert all("404" in error for error in opened.errors), "only the expected 404"


def test_the_about_modal_closes_three_ways(tab: Page) -> None:
    page = tab.open()
    dialog = page.locator("#about")
    for close in ("button", "escape", "outside"):
        page.click("#about-open")
        assert dialog.is_visible()
        if close == "button":
            page.click("#about-close")
        elif close == "escape":
            page.keyboard.press("Escape")
        else:
            page.mouse.click(5, 5)
        assert not dialog.is_visible(), close
    page.click("#about-open")
    tab.shot("about")
    page.keyboard.press("Escape")


def test_how_we_count_opens_the_methodology_from_the_footer_and_the_about_text(
    tab: Page,
) -> None:
    page = tab.open()
    page.click("#about-open")
    about = page.locator("#about a[href='methodology.html']")
    assert about.count() == 1
    page.keyboard.press("Escape")
    page.locator("footer").get_by_role("link", name="how we count").click()
    page.wait_for_url("**/methodology.html")
    assert page.locator("h1").last.inner_text() == "How the tracker counts downtime"
    settings = page.locator("#settings + p + table tbody tr")
    assert settings.count() == len(METRIC_SETTINGS)
    assert page.locator("a[href='#settings']").count() >= 1, "links between sections"
    tab.shot("methodology")
    page.get_by_role("link", name="Back to the rankings").click()
    page.wait_for_selector("main:not([aria-busy]) > :not(.loading)")


def test_links_point_to_queue_times_and_the_attribution_is_in_view(tab: Page) -> None:
    page = tab.open(f"?{PERIOD}")
    links = page.locator("a.qt").evaluate_all("els => els.map(e => e.href)")
    assert links and all(
        re.match(r"https://queue-times\.com/parks/\d+(/rides/\d+)?$", h) for h in links
    )
    attribution = page.get_by_role("link", name="Queue-Times.com").first
    box = attribution.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900


def test_the_keyboard_reaches_the_controls(tab: Page) -> None:
    page = tab.open()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.locator("[data-period=last_7_days]").focus()
    page.keyboard.press("Enter")
    tab.ready()
    assert "period=last_7_days" in tab.query()


def test_a_phone_sized_screen(browser: Any, base_url: str) -> None:
    phone = Page(browser, base_url, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.open(f"?{PERIOD}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "nothing wider than the screen"
    assert page.locator("main table thead").first.is_hidden(), "rows become cards"
    phone.shot("phone")
    phone.context.close()
    assert phone.errors == []


def test_in_production_mode_the_dashboard_works_through_a_session(
    browser: Any, api_engine: Engine
) -> None:
    secured = app(api_engine, API_AUTH="required", SECRET_KEY="browser-test-secret")
    for url in _serve(secured):
        opened = Page(browser, url)
        page = opened.open(f"?{PERIOD}")
        assert len(_cells(page, 0, 1)) == 2
        cookies = opened.context.cookies()
        assert [c["name"] for c in cookies] == ["tpt_session"] and cookies[0]["httpOnly"]
        opened.context.close()
        assert opened.errors == [], "no request was refused"


def test_a_history_being_built_is_shown_until_it_is_done(browser: Any, api_engine: Engine) -> None:
    build = HistoryBuild(
        datetime(2026, 7, 1, 7, tzinfo=UTC), datetime(2026, 7, 4, 7, tzinfo=UTC), [57, 16]
    )
    build.advance(0.8 * build.cycles)  # simulated all of it, imported 40 %
    made = create_app(settings(), api_engine, clock=lambda: NOW, history=build.status)
    for url in _serve(made):
        opened = Page(browser, url)
        page = opened.open(f"?{PERIOD}")
        line = page.locator("#history-build")
        expect = playwright_api.expect
        expect(line).to_contain_text("Building 3 days of history: 40 %")
        assert len(_cells(page, 0, 1)) == 2, "what is imported already shows"
        opened.shot("history-building")
        build.imported(datetime(2026, 7, 3, 7, tzinfo=UTC))
        build.finish()
        expect(line).to_be_hidden(timeout=10_000)
        opened.context.close()
        assert opened.errors == []


def test_the_vendored_chart_library_is_the_pinned_release() -> None:
    source = (STATIC / "vendor" / UPLOT / "SOURCE.txt").read_text(encoding="utf-8")
    for name in ("uPlot.iife.min.js", "uPlot.min.css"):
        digest = hashlib.sha256((STATIC / "vendor" / UPLOT / name).read_bytes()).hexdigest()
        assert re.search(rf"{re.escape(name)}\s+sha256 {digest}", source), name
    assert "MIT License" in (STATIC / "vendor" / UPLOT / "LICENSE").read_text(encoding="utf-8")


def test_the_page_and_its_assets_are_cached_as_they_should(base_url: str) -> None:

    page = requests.get(f"{base_url}/", timeout=5)
    assert page.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    script = re.search(r'src="(/static/[0-9a-f]+/app\.js)"', page.text)
    assert script is not None
    asset = requests.get(f"{base_url}{script.group(1)}", timeout=5)
    assert asset.status_code == 200
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = requests.get(f"{base_url}/static/000000000000/app.js", timeout=5)
    assert stale.status_code == 404
