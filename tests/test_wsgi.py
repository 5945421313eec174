"""The WSGI entry point mod_wsgi and gunicorn load: settings from the environment."""

from __future__ import annotations

import importlib
import sys

import pytest
from werkzeug.test import Client


def test_the_entry_point_serves_the_configured_database(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_FORMAT", "text")
    sys.modules.pop("themepark_tracker.wsgi", None)
    wsgi = importlib.import_module("themepark_tracker.wsgi")
    answer = wsgi.app.test_client().get("/api/parks")
    assert answer.status_code == 200 and answer.get_json()["data"] == []
    engine = wsgi.app.extensions["tracker"].engine
    assert engine.url.render_as_string(hide_password=False) == database_url
    mounted = Client(wsgi.application).get("/parks", base_url="http://localhost/api")
    assert mounted.status_code == 200, "mounted at /api as mod_wsgi does"
    engine.dispose()
