"""The OpenAPI 3.1 document, made from the same Pydantic models that parse queries and
build answers, and a plain HTML page of it for people."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic.json_schema import models_json_schema

from themepark_tracker import __version__
from themepark_tracker.api import schemas
from themepark_tracker.api.endpoints import ENDPOINTS, tracker
from themepark_tracker.api.params import MAX_ID, ExportQuery
from themepark_tracker.storage import export

bp = Blueprint("docs", __name__, url_prefix="/api")
REF = "#/components/schemas/{model}"


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}},
    }


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null branch."""
    options = schema.get("anyOf")
    if options:
        kept = [option for option in options if option.get("type") != "null"]
        schema = {k: v for k, v in schema.items() if k != "anyOf"}
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    # Bounds on an optional field come out as Pydantic's `ge`/`le`, which JSON Schema does
    # not know: numbers get them as minimum/maximum, dates as the pattern they also have.
    if schema.get("type") == "integer":
        for bound, keyword in (("ge", "minimum"), ("le", "maximum")):
            if bound in schema:
                schema[keyword] = schema[bound]
    return {k: v for k, v in schema.items() if k not in ("title", "description", "ge", "le")}


def _parameters(endpoint: Any) -> list[dict[str, Any]]:
    found = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
        }
        for name in re.findall(r"<int:(\w+)>", endpoint.rule)
    ]
    query = endpoint.query.model_json_schema(by_alias=True)
    required = set(query.get("required", []))
    for name, schema in query.get("properties", {}).items():
        parameter = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _query_schema(schema),
        }
        if schema.get("description"):
            parameter["description"] = schema["description"]
        found.append(parameter)
    return found


def document() -> dict[str, Any]:
    """Built once per app: it depends on the code and on API_AUTH only."""
    shared = tracker()
    if shared.document is None:
        shared.document = _build(shared.settings.api_auth_required)
    return shared.document


def _too_many(auth: bool) -> dict[str, Any]:
    return {
        **_error(
            "rate limit exceeded, or too many failed keys or sessions from this "
            "address (AUTH_FAILURE_LIMITS); wait Retry-After seconds"
            if auth
            else "rate limit exceeded"
        ),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    }


def _export_operation(table: str, auth: bool) -> dict[str, Any]:
    columns = ", ".join(f"`{c.name}` ({c.meaning})" for c in export.TABLES[table])
    responses: dict[str, Any] = {
        "200": {
            "description": "the rows, by date, as CSV with a header line",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        "400": _error("a query parameter is invalid, or more than 366 days"),
        "429": _too_many(auth),
        "503": _error("the database did not answer"),
    }
    if auth:
        responses["401"] = _error("X-API-Key missing, unknown or revoked, or session invalid")
    operation: dict[str, Any] = {
        "operationId": f"export_{table}",
        "tags": ["open data"],
        "summary": f"Daily {table} as CSV" if table != "outages" else "Outages as CSV",
        "description": f"The rows `export` writes, for local dates from..to. Columns: {columns}.",
        "parameters": _parameters(
            SimpleNamespace(rule=f"/api/export/{table}.csv", query=ExportQuery)
        ),
        "responses": responses,
    }
    if auth:
        operation["security"] = [{"ApiKey": []}]
    return operation


def _build(auth: bool) -> dict[str, Any]:
    models = [endpoint.response for endpoint in ENDPOINTS] + [schemas.ErrorBody, schemas.Health]
    _, definitions = models_json_schema(
        [(model, "serialization") for model in models], ref_template=REF, by_alias=True
    )
    paths: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        responses: dict[str, Any] = {
            "200": {
                "description": "OK",
                "headers": {
                    "ETag": {"schema": {"type": "string"}},
                    "Cache-Control": {"schema": {"type": "string"}},
                },
                "content": {
                    "application/json": {
                        "schema": {"$ref": REF.format(model=endpoint.response.__name__)}
                    }
                },
            },
            "304": {"description": "not modified since the ETag given in If-None-Match"},
            "400": _error("a query parameter is invalid"),
            "429": _too_many(auth),
            "503": _error("the database did not answer"),
        }
        if endpoint.not_found:
            responses["404"] = _error("no such park or ride")
        if auth:
            responses["401"] = _error("X-API-Key missing, unknown or revoked, or session invalid")
        operation: dict[str, Any] = {
            "operationId": f"{endpoint.tag.replace(' ', '_')}_{endpoint.name}",
            "tags": [endpoint.tag],
            "summary": endpoint.summary,
            "description": endpoint.description,
            "parameters": _parameters(endpoint),
            "responses": responses,
        }
        if auth:
            operation["security"] = [{"ApiKey": []}]
        paths[re.sub(r"<int:(\w+)>", r"{\1}", endpoint.rule)] = {"get": operation}
    for table in export.TABLES:
        paths[f"/api/export/{table}.csv"] = {"get": _export_operation(table, auth)}
    paths["/api/health"] = {
        "get": {
            "operationId": "health",
            "tags": ["health"],
            "summary": "Database, collection and aggregation status",
            "responses": {
                status: {
                    "description": description,
                    "content": {
                        "application/json": {"schema": {"$ref": REF.format(model="Health")}}
                    },
                }
                for status, description in (("200", "healthy or degraded"), ("503", "unhealthy"))
            },
        }
    }
    paths["/api/session"] = {
        "post": {
            "operationId": "dashboard_session",
            "tags": ["security"],
            "summary": "A session for the dashboard's own page",
            "description": "For a page of this origin only (Sec-Fetch-Site: same-origin, or "
            "an Origin equal to this site's): answers 204 and, when keys are required, a "
            "signed HttpOnly cookie that stands in for a key from the same address.",
            "responses": {
                "204": {"description": "session given (a cookie when keys are required)"},
                "403": _error("not a page of this site"),
                "429": _error("too many new sessions from this address"),
            },
        }
    }
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Theme Park Downtime Tracker API",
            "version": __version__,
            "description": "Ride downtime, uptime and waits per park day, as docs/methodology.md "
            "defines them. Data powered by Queue-Times.com (https://queue-times.com).",
        },
        "paths": paths,
        "components": {"schemas": definitions.get("$defs", {})},
    }
    if auth:
        spec["components"]["securitySchemes"] = {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
        }
    return spec


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(document())


@bp.get("/docs")
def docs() -> Response:
    """The document as one readable page: no script, so it passes the strict CSP."""
    spec = document()
    sections = []
    for path, item in spec["paths"].items():
        ((method, operation),) = item.items()
        rows = "".join(
            f"<tr><td><code>{html.escape(p['name'])}</code></td><td>{p['in']}</td>"
            f"<td><code>{html.escape(_describe(p['schema']))}</code></td>"
            f"<td>{html.escape(p.get('description', ''))}</td></tr>"
            for p in operation.get("parameters", [])
        )
        table = (
            f"<table><tr><th>name</th><th>in</th><th>values</th><th>meaning</th></tr>{rows}</table>"
            if rows
            else ""
        )
        sections.append(
            f"<section><h2><code>{method.upper()} {html.escape(path)}</code></h2>"
            f"<p><strong>{html.escape(operation['summary'])}</strong></p>"
            f"<p>{html.escape(operation.get('description', ''))}</p>{table}"
            f"<p>Answers: {', '.join(sorted(operation['responses']))}</p></section>"
        )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(spec['info']['title'])}</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:.2rem .5rem;text-align:left}</style></head><body>"
        f"<h1>{html.escape(spec['info']['title'])}</h1>"
        f"<p>{html.escape(spec['info']['description'])} Machine-readable: "
        "<a href='/api/openapi.json'>/api/openapi.json</a>.</p>"
        f"{''.join(sections)}"
        "<footer><p>Data powered by <a href='https://queue-times.com'>Queue-Times.com</a>"
        "</p></footer></body></html>"
    )
    return Response(page, mimetype="text/html")


def _describe(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    kind = schema.get("format") or schema.get("type") or "value"
    bounds = [f"{k} {schema[k]}" for k in ("minimum", "maximum") if k in schema]
    default = f", default {schema['default']}" if schema.get("default") is not None else ""
    return f"{kind}{' (' + ', '.join(bounds) + ')' if bounds else ''}{default}"
