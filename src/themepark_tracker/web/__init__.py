"""The Hall of Shame dashboard: one HTML page and its static files, served by Flask here
and by Apache in production; the page reads everything from `/api`. Beside it, the
methodology (docs/methodology.md, shipped in the package) as a page of its own.

Assets are addressed by a tag made from their content (`/static/<tag>/app.js`), so
they can be cached for a year while the page itself is revalidated on every visit.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import markdown
from flask import Blueprint, Response, abort, send_from_directory
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

STATIC = Path(__file__).parent / "static"
#: docs/methodology.md (a link to it in the repository, a copy in a built package).
METHODOLOGY = Path(__file__).parent / "methodology.md"
UPLOT = "uplot-1.6.32"

#: The page may load its own scripts, styles and data, nothing else.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

bp = Blueprint("web", __name__)


@cache
def asset_tag() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def asset(name: str) -> str:
    return f"/static/{asset_tag()}/{name}"


#: The page's one template, rendered without an app: `deploy web` writes it for Apache.
PAGES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)


def render_index() -> str:
    return PAGES.get_template("index.html").render(asset=asset, uplot=UPLOT)


@cache
def render_methodology() -> str:
    """The methodology as a page: the same Markdown a reader of the repository sees, with
    an id on each heading so that its links between sections work."""
    text = METHODOLOGY.read_text(encoding="utf-8")
    body = markdown.markdown(text, extensions=["tables", "toc", "fenced_code"])
    return PAGES.get_template("methodology.html").render(asset=asset, body=Markup(body))  # noqa: S704 (our own document)


def _page(html: str) -> Response:
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


@bp.get("/")
def index() -> Response:
    return _page(render_index())


@bp.get("/methodology.html")
def methodology() -> Response:
    return _page(render_methodology())


@bp.get("/static/<tag>/<path:name>")
def static_file(tag: str, name: str) -> Response:
    if tag != asset_tag():
        abort(404)
    response = send_from_directory(STATIC, name, max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
