"""`/feeds/parks/{id}.atom` and `/feeds/rides/{id}.atom`: a park's or a ride's latest
events (`storage.events`) as Atom 1.0, newest first.

Public like the API's documents (a feed reader cannot send a key), limited per address
(`FEED_RATE_LIMITS`), and conditional: `ETag` and `Last-Modified` follow the newest
event, so a reader polling an unchanged feed gets a 304.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, request

from themepark_tracker.api.endpoints import tracker
from themepark_tracker.api.errors import error_response
from themepark_tracker.api.schemas import QUEUE_TIMES, THEMEPARKS_WIKI
from themepark_tracker.storage import details, events
from themepark_tracker.storage.events import StoredEvent

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
ATOM = "application/atom+xml"


@bp.get("/parks/<int:park_id>.atom")
def park_feed(park_id: int) -> Response:
    shared = tracker()
    with shared.engine.connect() as conn:
        found = details.park_infos(conn, park_id)
        if not found:
            return error_response(404, "not_found", f"no park {park_id}")
        latest = events.recent(conn, park_id=park_id)
        paired = details.is_paired(conn, park_id)
    page = f"{request.host_url}?view=park&park={park_id}"
    title = f"{found[0].name}: rides down and back"
    return _feed(title, page, latest, paired, shared.clock())


@bp.get("/rides/<int:ride_id>.atom")
def ride_feed(ride_id: int) -> Response:
    shared = tracker()
    with shared.engine.connect() as conn:
        ride = details.ride_info(conn, ride_id)
        if ride is None:
            return error_response(404, "not_found", f"no ride {ride_id}")
        latest = events.recent(conn, ride_id=ride_id)
        paired = details.is_paired(conn, ride.park_id)
    page = f"{request.host_url}?view=ride&ride={ride_id}"
    title = f"{ride.name}: down and back"
    return _feed(title, page, latest, paired, shared.clock())


def _feed(
    title: str,
    page: str,
    found: Sequence[StoredEvent],
    paired: bool,
    now: datetime,
) -> Response:
    newest = found[0] if found else None
    tag = hashlib.sha256(f"{request.path}|{newest.id if newest else ''}".encode()).hexdigest()
    updated = newest.recorded_at.replace(microsecond=0) if newest else None
    feed = FeedGenerator()
    feed.id(request.base_url)
    feed.title(title)
    feed.link(href=request.base_url, rel="self", type=ATOM)
    feed.link(href=page, rel="alternate", type="text/html")
    feed.author({"name": "Theme Park Hall of Shame"})
    sources = f"Queue-Times.com ({QUEUE_TIMES})"
    if paired:
        sources += f" and ThemeParks.wiki ({THEMEPARKS_WIKI})"
    feed.rights(f"Data powered by {sources}")
    feed.updated(updated or now.replace(microsecond=0))
    for event in found:
        entry = feed.add_entry(order="append")
        entry.id(f"urn:themepark-tracker:event:{event.id}")
        entry.title(_title(event))
        entry.updated(event.recorded_at.replace(microsecond=0))
        entry.published(event.confirmed_at)
        entry.link(href=page, rel="alternate", type="text/html")
        entry.content(_summary(event), type="text")
    response = Response(feed.atom_str(pretty=True), mimetype=ATOM)
    response.set_etag(tag)
    if updated is not None:
        response.last_modified = updated
    response.cache_control.public = True
    response.cache_control.max_age = 60
    response.make_conditional(request)
    return response


_TITLES = {
    "outage.started": "{ride} is down",
    "outage.ended": "{ride} is running again",
    "outage.retracted": "{ride}: the outage announced earlier did not happen",
    "ride.refurbishment_started": "{ride} is closed for refurbishment",
    "ride.refurbishment_ended": "{ride} is back from refurbishment",
    "park.opened": "The park opened",
    "park.closed": "The park closed",
    "event.retracted": "An earlier notice is withdrawn",
}


def _title(event: StoredEvent) -> str:
    ride = event.ride_name or f"ride {event.ride_id}"
    text = _TITLES.get(event.kind, event.kind).format(ride=ride)
    if event.kind == "outage.ended" and "duration_minutes" in event.data:
        text += f" after {event.data['duration_minutes']:g} min"
    if event.corrects and not event.kind.endswith(".retracted"):
        text += " (corrected)"
    return text


def _summary(event: StoredEvent) -> str:
    at = event.occurred_at.strftime("%Y-%m-%d %H:%M UTC")
    facts = ", ".join(f"{key}: {value}" for key, value in sorted(event.data.items()))
    corrects = f" Corrects event {event.corrects}." if event.corrects else ""
    return f"{event.kind} at {at} (park day {event.park_date}).{corrects} {facts}".strip()
