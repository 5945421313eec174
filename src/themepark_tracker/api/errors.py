"""Every failure of the API is JSON `{error: {code, message, details}}`, never a page or a
stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response
from flask_limiter.errors import RateLimitExceeded
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from themepark_tracker.api.schemas import ErrorBody, ErrorDetail

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: object | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, details: object | None = None) -> Response:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, details=details))  # type: ignore[arg-type]
    return Response(body.model_dump_json(), status=status, mimetype="application/json")


def invalid_query(error: ValidationError) -> ApiError:
    details = [
        {
            "parameter": ".".join(str(part) for part in problem["loc"]) or None,
            "problem": problem["msg"].removeprefix("Value error, "),
        }
        for problem in error.errors(include_url=False, include_input=False)
    ]
    names = ", ".join(str(d["parameter"]) for d in details if d["parameter"])
    problems = "; ".join(str(d["problem"]) for d in details)
    message = f"invalid query parameter: {names}" if names else problems
    return ApiError(400, "invalid_parameter", message, details)


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message, error.details)

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(error: RateLimitExceeded) -> Response:
        if isinstance(error.response, Response):  # made by the limit's own `on_breach`
            return error.response
        return error_response(
            429, "rate_limited", f"rate limit exceeded: {error.description}", None
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "_")
        response = error_response(status, code, error.description or error.name)
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(DBAPIError)
    def _database_down(error: DBAPIError) -> Response:
        log.error("database error answering a request", exc_info=error)
        return error_response(503, "database_unavailable", "the database did not answer")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.error("unexpected error answering a request", exc_info=error)
        return error_response(500, "internal_error", "internal error; it has been logged")
