"""The one path every GET of the API takes: parse the query with its Pydantic model,
answer from the cache when the data has not changed, else run the view, and send JSON
with `ETag` and `Cache-Control`. Each endpoint is declared once, with the models that
`openapi` turns into the document.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine
from werkzeug.http import parse_etags

from themepark_tracker.api import schemas
from themepark_tracker.api.errors import ApiError, invalid_query
from themepark_tracker.api.params import Query
from themepark_tracker.config import Settings
from themepark_tracker.engine.outages import Gates
from themepark_tracker.engine.sessions import DayRules
from themepark_tracker.engine.states import StateRules
from themepark_tracker.storage.health import data_version


@dataclass(frozen=True)
class Endpoint:
    rule: str
    name: str
    tag: str
    summary: str
    description: str
    query: type[Query]
    response: type[BaseModel]
    not_found: bool


#: Every endpoint, in the order the document lists them.
ENDPOINTS: list[Endpoint] = []


class Memo:
    """The last answers of this process, keyed by request and data version: between two
    collections every visitor asks the same few questions."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass
class Tracker:
    """What the views share: `app.extensions['tracker']`."""

    engine: Engine
    settings: Settings
    clock: Callable[[], datetime]
    memo: Memo
    history: Callable[[], schemas.History] | None = None
    document: dict[str, Any] | None = None


@dataclass(frozen=True)
class Ask:
    """One request as a view sees it."""

    conn: Connection
    now: datetime
    settings: Settings
    data_updated_at: datetime | None

    @property
    def day_rules(self) -> DayRules:
        return self.settings.day_rules()

    @property
    def state_rules(self) -> StateRules:
        return self.settings.state_rules()

    @property
    def gates(self) -> Gates:
        return self.settings.gates()


def tracker() -> Tracker:
    found: Tracker = current_app.extensions["tracker"]
    return found


def parse(model: type[Query]) -> Any:
    repeated = sorted(name for name, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise ApiError(
            400,
            "invalid_parameter",
            f"query parameter given more than once: {', '.join(repeated)}",
            [{"parameter": name, "problem": "given more than once"} for name in repeated],
        )
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise invalid_query(exc) from None


V = TypeVar("V", bound=Callable[..., BaseModel])


def endpoint(
    blueprint: Blueprint,
    rule: str,
    *,
    query: type[Query],
    response: type[BaseModel],
    tag: str,
    summary: str,
    not_found: bool = False,
) -> Callable[[V], V]:
    """Declare `view(ask, params, **path)` as GET `rule` answering `response`."""

    def decorate(view: V) -> V:
        ENDPOINTS.append(
            Endpoint(
                (blueprint.url_prefix or "") + rule,
                view.__name__,
                tag,
                summary,
                (view.__doc__ or "").strip(),
                query,
                response,
                not_found,
            )
        )

        @functools.wraps(view)
        def handle(**path: Any) -> Response:
            return _answer(view, parse(query), path)

        blueprint.add_url_rule(rule, view.__name__, handle, methods=["GET"])
        return view

    return decorate


def _answer(view: Callable[..., BaseModel], params: Query, path: dict[str, Any]) -> Response:
    shared = tracker()
    now = shared.clock()
    interval = shared.settings.collection_interval_minutes * 60
    bucket = int(now.timestamp()) // interval
    with shared.engine.connect() as conn:
        version = data_version(conn)
        key = hashlib.sha256(
            repr((request.path, sorted(request.args.items()), version, bucket)).encode()
        ).hexdigest()[:32]
        last_poll = version[-1]
        assert last_poll is None or isinstance(last_poll, datetime)
        if _matches(key):
            return _cacheable(Response(status=304), key, now, last_poll, interval)
        body = shared.memo.get(key)
        if body is None:
            ask = Ask(conn, now, shared.settings, last_poll)
            body = view(ask, params, **path).model_dump_json(by_alias=True).encode()
            shared.memo.put(key, body)
    return _cacheable(Response(body, mimetype="application/json"), key, now, last_poll, interval)


def _matches(key: str) -> bool:
    """If-None-Match names this answer: weak or strong, and also as Apache's mod_deflate
    rewrites it (`"<key>-gzip"`). `*` is not taken: it would answer 304 for an id that
    does not exist."""
    header = request.headers.get("If-None-Match", "")
    tags = parse_etags(header).as_set(include_weak=True)
    return any(tag.removesuffix("-gzip") == key for tag in tags)


def _cacheable(
    response: Response, key: str, now: datetime, last_poll: datetime | None, interval: int
) -> Response:
    """Fresh until the next collection should have landed (the newest poll plus one
    interval and a minute's grace), then revalidated with the ETag at every use;
    private when answers need a key, so that a shared cache never hands one to a caller
    without one."""
    response.set_etag(key)
    fresh_for = 0
    if last_poll is not None:
        due = last_poll + timedelta(seconds=interval + 60)
        fresh_for = max(0, min(interval, int((due - now).total_seconds())))
    scope = "private" if tracker().settings.api_auth_required else "public"
    response.headers["Cache-Control"] = f"{scope}, max-age={fresh_for}, must-revalidate"
    response.vary.add("X-API-Key")
    return response
