"""The Flask application: `create_app` wires settings, database, security and the
blueprints; each blueprint is a thin layer over the storage queries and the engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from themepark_tracker import web
from themepark_tracker.api import (
    errors,
    export,
    feeds,
    health,
    live,
    openapi,
    parks,
    rides,
    schemas,
    security,
    trends,
)
from themepark_tracker.api.endpoints import Memo, Tracker
from themepark_tracker.config import Settings, load_settings
from themepark_tracker.storage.db import make_engine


def _now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    clock: Callable[[], datetime] = _now,
    limiter_prefix: str = "tpt",
    history: Callable[[], schemas.History] | None = None,
) -> Flask:
    """An app over `engine` (default: the settings' database); `history` reports a
    history being built behind it, in `/api/health`."""
    settings = settings or load_settings()
    if engine is None:
        engine = make_engine(
            settings.database_url_object(),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_recycle=settings.db_pool_recycle_seconds,
        )
    app = Flask(__name__, static_folder=None)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["tracker"] = Tracker(
        engine, settings, clock, Memo(settings.api_cache_entries), history
    )
    errors.register(app)
    limiter = app.extensions["limiter"] = security.install(app, settings, clock, limiter_prefix)
    # Feeds are public (a reader cannot send a key): limited per address, on their own.
    limiter.limit(settings.feed_rate_limits, key_func=security.client_address)(feeds.bp)
    blueprints = (
        parks.bp,
        rides.bp,
        trends.bp,
        live.bp,
        export.bp,
        health.bp,
        openapi.bp,
        feeds.bp,
        web.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    if settings.trusted_proxies:
        # Behind a reverse proxy every caller would be its address: limits and sessions
        # go by the client address the proxies report, and only theirs.
        count = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
    return app
