"""Who may call the API, how often, and the headers every answer carries.

With `API_AUTH=required`, data endpoints need a key (`X-API-Key`) or a dashboard
session. The dashboard is a page in a browser and cannot keep a secret, so it gets a
session instead of a key: `POST /api/session` from a page of the same origin (which a
browser proves with `Sec-Fetch-Site` or `Origin`, headers another site's script cannot
set) answers with a signed, HttpOnly, SameSite=Strict cookie. A script outside a
browser can forge those headers; what it gets is then the dashboard's rate limit per
address, which is why sessions are limited per address and keys per key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response, current_app, g, request
from flask_cors import CORS
from flask_limiter import Limiter
from itsdangerous import BadSignature, URLSafeTimedSerializer

from themepark_tracker.api.errors import ApiError
from themepark_tracker.config import Settings
from themepark_tracker.storage.api_keys import check_key

SESSION_COOKIE = "tpt_session"
SESSION_SECONDS = 12 * 3600
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


def _client() -> str:
    return request.remote_addr or "unknown"


def _identity() -> str:
    """The rate-limit bucket of this request: its key, else its address."""
    return str(g.get("identity") or f"address:{_client()}")


def install(
    app: Flask,
    settings: Settings,
    clock: Callable[[], datetime],
    limiter_prefix: str,
) -> Limiter:
    if settings.api_auth_required and settings.secret_key is None:
        raise ValueError("API_AUTH=required needs SECRET_KEY (it signs dashboard sessions)")

    @app.before_request
    def _authenticate() -> None:
        g.identity = None
        if not settings.api_auth_required or not request.path.startswith("/api/"):
            return
        if request.path in PUBLIC or request.method == "OPTIONS":
            return
        key = request.headers.get("X-API-Key")
        if key:
            with current_app.extensions["tracker"].engine.begin() as conn:
                key_id = check_key(conn, key, clock())
            if key_id is None:
                raise ApiError(401, "invalid_api_key", "the X-API-Key is unknown or revoked")
            g.identity = f"key:{key_id}"
            return
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            try:
                _serializer(settings).loads(cookie, max_age=SESSION_SECONDS)
            except BadSignature:
                raise ApiError(
                    401, "invalid_session", "the dashboard session expired; reload the page"
                ) from None
            g.identity = f"session:{_client()}"
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
        storage_uri=settings.rate_limit_storage,
        headers_enabled=True,
        enabled=settings.rate_limits_enabled,
        key_prefix=limiter_prefix,
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        strategy="fixed-window",
    )

    @app.post("/api/session")
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
                _serializer(settings).dumps({"v": 1}),
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
