"""Contract tests: schemathesis generates requests from the served OpenAPI document
(every endpoint, every parameter; values that fit it and values that do not) and checks
each answer against it: no 5xx, status codes, headers and bodies as documented, on both
databases.

Cases are drawn with hypothesis from each operation's strategy rather than through the
schemathesis pytest plugin, whose lazy fixtures do not run on pytest 9.2.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import schemathesis
from api_fixtures import NOW, app
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from sqlalchemy import Engine

from themepark_tracker.storage.api_keys import create_key

PATHS = [
    "/api/parks",
    "/api/parks/downtime",
    "/api/parks/waittimes",
    "/api/parks/{park_id}",
    "/api/parks/{park_id}/data-quality",
    "/api/export/rides.csv",
    "/api/export/parks.csv",
    "/api/export/outages.csv",
    "/api/rides/downtime",
    "/api/rides/waittimes",
    "/api/rides/{ride_id}",
    "/api/rides/{ride_id}/outages",
    "/api/rides/{ride_id}/recovery",
    "/api/live/down",
    "/api/trends",
    "/api/live/summary",
    "/api/health",
    "/api/session",
]


def _operation(made: Any, path: str) -> Any:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", made)
    operations = {result.ok().path: result.ok() for result in schema.get_all_operations()}
    assert set(operations) == set(PATHS), "a new endpoint needs its contract test"
    return operations[path]


def _one_kind_of_period(query: dict[str, Any] | None) -> None:
    """What the document cannot say of parameters taken together (its descriptions do):
    `from` and `to` come as a pair, in order, instead of `period`."""
    if not query or ("from" not in query and "to" not in query):
        return
    first, last = sorted(
        str(query.get(k) or query.get("from") or query["to"]) for k in ("from", "to")
    )
    query.update({"from": first, "to": last})
    query.pop("period", None)


def _at_most_a_year(query: dict[str, Any] | None) -> None:
    """An export's `to` is at most 365 days after `from`: the document says it in words."""
    if query and "from" in query and "to" in query:
        first = date.fromisoformat(str(query["from"]))
        last = date.fromisoformat(str(query["to"]))
        query["to"] = min(last, first + timedelta(days=365)).isoformat()


def _check(operation: Any, mode: GenerationMode, examples: int, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if mode is GenerationMode.POSITIVE:
            _one_kind_of_period(case.query)
            if operation.path.startswith("/api/export/"):
                _at_most_a_year(case.query)
        case.call_and_validate(headers=headers)

    run()


@pytest.mark.parametrize(
    ("path", "mode"),
    [(path, GenerationMode.POSITIVE) for path in PATHS]
    # /api/health and /api/session take no parameters: there is nothing to get wrong.
    + [
        (path, GenerationMode.NEGATIVE)
        for path in PATHS
        if path not in ("/api/health", "/api/session")
    ],
)
def test_every_answer_matches_the_document(
    api_engine: Engine, path: str, mode: GenerationMode
) -> None:
    _check(_operation(app(api_engine), path), mode, 30, {})


@pytest.mark.parametrize("path", PATHS)
def test_with_keys_required_answers_still_match(api_engine: Engine, path: str) -> None:
    with api_engine.begin() as conn:
        key, _ = create_key(conn, f"contract {path}", NOW)
    made = app(api_engine, API_AUTH="required", SECRET_KEY="contract-test-secret")
    _check(_operation(made, path), GenerationMode.POSITIVE, 8, {"X-API-Key": key})
