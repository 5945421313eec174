"""The WSGI entry point for mod_wsgi (`WSGIScriptAlias /api .../wsgi.py`) and gunicorn
(`themepark_tracker.wsgi:application`): settings come from the environment, `.env` in the
working directory, and SSM in production."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from themepark_tracker.api import create_app
from themepark_tracker.config import load_settings
from themepark_tracker.logs import configure_logging

settings = load_settings()
configure_logging(settings.log_format, settings.log_level)
app = create_app(settings)


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The app sees the whole path: mounted at /api, mod_wsgi moves /api into
    SCRIPT_NAME, and the routes are /api/... themselves."""
    environ["PATH_INFO"] = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    environ["SCRIPT_NAME"] = ""
    return app(environ, start_response)
