"""Who may call the API, how often, and the headers every answer carries.

With `API_AUTH=required`, data endpoints need a key (`X-API-Key`) or a dashboard
session. The dashboard is a page in a browser and cannot keep a secret, so it gets a
session instead of a key: `POST /api/session` from a page of the same origin (which a
browser proves with `Sec-Fetch-Site` or `Origin`, headers another site's script cannot
set) answers with a signed, HttpOnly, SameSite=Strict cookie. A script outside a
browser can forge those headers: what the dashboard shows is public by nature, and
`API_AUTH=required` keeps unkeyed scripts to the dashboard's pace, not out. So a session
is bound to the address it was made for, new ones are limited per address
(`SESSION_LIMIT`), requests with one are limited per address (IPv6 per /64), and keys
are limited per key.

Checking a key costs a database lookup, so failures are limited per address too
(`AUTH_FAILURE_LIMITS`): past the limit, every request of that address that brings a key
or an invalid session is refused before the lookup, until the window ends.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_cors import CORS
from flask_limiter import Limiter, RequestLimit
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import OperationalError

from themepark_tracker.api.errors import ApiError, error_response
from themepark_tracker.config import Settings
from themepark_tracker.storage.api_keys import check_key, note_use

log = logging.getLogger(__name__)
SESSION_COOKIE = "tpt_session"
SESSION_SECONDS = 12 * 3600
#: New sessions per address: a page asks once per visit, and keeps a valid one free.
SESSION_LIMIT = "30/hour"
#: Paths anyone may call: monitoring, the documentation, and getting a dashboard session.
PUBLIC = frozenset({"/api/health", "/api/openapi.json", "/api/docs", "/api/session"})
UNLIMITED = frozenset({"/api/health", "/api/openapi.json", "/api/docs"})

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    assert settings.secret_key is not None
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt="dashboard")


def client_address() -> str:
    """The caller's address; an IPv6 caller by its /64, which one host usually holds
    whole, so that a new address per request is not a new rate-limit bucket."""
    address = request.remote_addr or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address) + "/64"
    return address


def _client_tag() -> str:
    """What a session cookie binds to: a cookie copied to another address is refused."""
    return hashlib.sha256(client_address().encode()).hexdigest()[:16]


def _valid_session(settings: Settings) -> bool | None:
    """None without a cookie, else whether it is ours, recent and for this address."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or settings.secret_key is None:
        return None
    try:
        payload = _serializer(settings).loads(cookie, max_age=SESSION_SECONDS)
    except BadSignature:
        return False
    return isinstance(payload, dict) and payload.get("client") == _client_tag()


def _identity() -> str:
    """The rate-limit bucket of this request: its key, else its address."""
    return str(g.get("identity") or f"address:{client_address()}")


def _failures_bucket() -> str:
    return f"auth-failures:{client_address()}"


def _failures_exceeded(limit: RequestLimit) -> Response:
    """The 429 of an address past its failures. The limits library times windows by
    `time.time()`, so Retry-After does too."""
    wait = max(1, math.ceil(limit.window.reset_time - time.time()))
    response = error_response(
        429,
        "too_many_auth_failures",
        f"too many failed keys or sessions from this address; retry in {wait} s",
    )
    response.headers["Retry-After"] = str(wait)
    return response


def install(
    app: Flask,
    settings: Settings,
    clock: Callable[[], datetime],
    limiter_prefix: str,
) -> Limiter:
    if settings.api_auth_required and settings.secret_key is None:
        raise ValueError("API_AUTH=required needs SECRET_KEY (it signs dashboard sessions)")

    def _guarded() -> bool:
        return (
            settings.api_auth_required
            and request.path.startswith("/api/")
            and request.path not in PUBLIC
            and request.method != "OPTIONS"
        )

    def _nothing_to_check() -> bool:
        """Exempt from the failure limit: no key to look up, and no session or a valid one
        (a request without either costs no lookup, and is refused anyway)."""
        if not _guarded():
            return True
        return not request.headers.get("X-API-Key") and _valid_session(settings) is not False

    # Both limiters count in one store, the same way; Redis down, they count in memory.
    shared: dict[str, Any] = {
        "storage_uri": settings.rate_limit_storage,
        "enabled": settings.rate_limits_enabled,
        "key_prefix": limiter_prefix,
        "swallow_errors": True,
        "in_memory_fallback_enabled": True,
        "strategy": "fixed-window",
    }
    # A limiter of its own, so that its check comes before `_authenticate` (the other's
    # needs the identity `_authenticate` finds). Only a 401 costs a hit. Its request
    # identifier is fixed: Flask-Limiter skips requests without an endpoint, and a key
    # sent to an unknown path is looked up too. No headers of its own (they would double
    # the other's); its 429 says Retry-After. It must agree with the other limiter on
    # `enabled`: the first one sets the app's config for both.
    Limiter(
        _failures_bucket,
        app=app,
        application_limits=[settings.auth_failure_limits],
        application_limits_exempt_when=_nothing_to_check,
        application_limits_deduct_when=lambda response: response.status_code == 401,
        on_breach=_failures_exceeded,
        request_identifier=lambda: "authentication",
        headers_enabled=False,
        **shared,
    )

    @app.before_request
    def _authenticate() -> None:
        g.identity = None
        if not _guarded():
            return
        key = request.headers.get("X-API-Key")
        if key:
            engine = current_app.extensions["tracker"].engine
            with engine.connect() as conn:
                found = check_key(conn, key)
            if found is None:
                raise ApiError(401, "invalid_api_key", "the X-API-Key is unknown or revoked")
            try:
                note_use(engine, found, clock())
            except OperationalError as exc:  # e.g. a read-only database: the note can wait
                log.info("could not note the key's use", extra={"error": str(exc.orig)})
            g.identity = f"key:{found.id}"
            return
        session = _valid_session(settings)
        if session is False:
            raise ApiError(401, "invalid_session", "the dashboard session expired; reload the page")
        if session:
            g.identity = f"session:{client_address()}"
            return
        raise ApiError(401, "missing_api_key", "this endpoint needs an X-API-Key header")

    def _limits() -> str:
        identity = g.get("identity") or ""
        return (
            settings.api_rate_limits
            if identity.startswith("key:")
            else (settings.dashboard_rate_limits)
        )

    limiter = Limiter(
        _identity,
        app=app,
        application_limits=[_limits],
        application_limits_exempt_when=lambda: (
            request.path in UNLIMITED or not request.path.startswith("/api/")
        ),
        headers_enabled=True,
        **shared,
    )

    @app.post("/api/session")
    @limiter.limit(
        SESSION_LIMIT,
        key_func=client_address,
        exempt_when=lambda: bool(_valid_session(settings)),
    )
    def _session() -> Response:
        same_site = request.headers.get("Sec-Fetch-Site") == "same-origin"
        origin = request.headers.get("Origin")
        if not same_site and origin != request.host_url.rstrip("/"):
            raise ApiError(
                403, "cross_origin", "dashboard sessions are for pages of this site only"
            )
        response = Response(status=204)
        if settings.api_auth_required:
            response.set_cookie(
                SESSION_COOKIE,
                _serializer(settings).dumps({"client": _client_tag()}),
                max_age=SESSION_SECONDS,
                secure=request.is_secure,
                httponly=True,
                samesite="Strict",
                path="/api/",
            )
        return response

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response

    origins = settings.cors_origin_list()
    if origins:
        CORS(
            app,
            resources={r"/api/*": {"origins": origins}},
            allow_headers=["X-API-Key", "If-None-Match", "Content-Type"],
            expose_headers=["ETag", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining"],
            max_age=600,
        )
    return limiter
