"""The APIError family and the one handler that turns every failure into problem+json."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, g, json, request
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

log = logging.getLogger("comanda.errors")

PROBLEM_MIMETYPE = "application/problem+json"

# Stable machine-readable codes for the HTTP errors that come from routing or werkzeug.
HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
    504: "outcome_unknown",
}

DETAILS: dict[int, str] = {
    400: "The request could not be understood.",
    401: "Authentication is required.",
    403: "You are not allowed to do this.",
    404: "The resource does not exist.",
    405: "This method is not allowed on this resource.",
    413: "The request body is larger than 1 MiB.",
    415: "Send the body as application/json.",
    422: "Request body is invalid.",
    429: "Too many requests; slow down.",
    500: "An unexpected error occurred.",
    503: "The service is temporarily unavailable; retry shortly.",
}


class APIError(Exception):
    """A domain error with an HTTP status and a stable `code`."""

    status: int = 400
    code: str = "bad_request"
    detail: str = "The request could not be processed."
    default_headers: dict[str, str] = {}  # read-only; each error copies it into its own headers

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail
        self.errors = errors
        self.headers = {**self.default_headers, **(headers or {})}
        self.extra = extra


class MalformedJSON(APIError):
    status, code, detail = 400, "malformed_json", "The body is not a valid JSON object."


class InvalidCursor(APIError):
    status, code, detail = 400, "invalid_cursor", "The cursor cannot be decoded."


class InvalidQuery(APIError):
    status, code, detail = 400, "invalid_query", "A query parameter is invalid."


class Unauthorized(APIError):
    status, code, detail = 401, "unauthorized", "A valid access token is required."
    default_headers = {"WWW-Authenticate": "Bearer"}


class InvalidCredentials(APIError):
    status, code, detail = 401, "invalid_credentials", "Email or password is incorrect."


class Forbidden(APIError):
    status, code, detail = 403, "forbidden", "Your role may not do this."


class NotFound(APIError):
    status, code, detail = 404, "not_found", "The resource does not exist."


class Conflict(APIError):
    status, code = 409, "conflict"


class PreconditionFailed(APIError):
    status, code, detail = 412, "precondition_failed", "If-Match does not match the current version."


class UnsupportedMediaType(APIError):
    status, code, detail = 415, "unsupported_media_type", "Send the body as application/json."


class ValidationFailed(APIError):
    status, code, detail = 422, "validation_error", "Request body is invalid."


class PreconditionRequired(APIError):
    status, code, detail = 428, "precondition_required", "This request needs an If-Match header."


class ServiceUnavailable(APIError):
    status, code, detail = 503, "service_unavailable", "The database is unreachable; retry shortly."
    default_headers = {"Retry-After": "5"}


class OutcomeUnknown(APIError):
    """COMMIT was sent and no verdict came back: the change may or may not be stored."""

    status, code = 504, "outcome_unknown"
    detail = (
        "The database stopped answering after the commit was sent: the change may or may not be stored. "
        "Retry with the same Idempotency-Key or client_order_id."
    )
    default_headers = {"Retry-After": "5"}


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into {"items.0.quantity": [...]}."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
        return flat
    if isinstance(messages, (list, tuple)) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    if isinstance(messages, (list, tuple)):
        flat = {}
        for value in messages:
            flat.update(flatten_errors(value, prefix))
        return flat
    return {prefix or "_schema": [str(messages)]}


def _webargs_messages(exc: HTTPException) -> dict[str, list[str]] | None:
    """Validation messages webargs attached to the abort, without the location level."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if not messages:
        return None
    if isinstance(messages, dict) and set(messages) <= {"json", "query", "headers", "path", "form", "files"}:
        merged: dict = {}
        for location_messages in messages.values():
            merged.update(location_messages if isinstance(location_messages, dict) else {"_schema": location_messages})
        messages = merged
    return flatten_errors(messages)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """Build an application/problem+json response."""
    from http import HTTPStatus

    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "code": code, "detail": detail}
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    body["request_id"] = g.get("request_id")
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_api_error(exc: APIError) -> Response:
    return problem(exc.status, exc.code, exc.detail, errors=exc.errors, headers=exc.headers, extra=exc.extra)


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = {}
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    if status == 422:
        errors = _webargs_messages(exc)
        return problem(422, "validation_error", DETAILS[422], errors=errors)
    if status == 400:
        errors = _webargs_messages(exc)
        if errors:  # webargs could not read the body (invalid JSON)
            return problem(400, "malformed_json", "The body is not a valid JSON object.")
        return problem(400, HTTP_CODES[400], exc.description or DETAILS[400])
    if status == 429:
        from app.auth.throttle import retry_after_seconds

        headers["Retry-After"] = str(retry_after_seconds())
    detail = DETAILS.get(status) or exc.description or "Error."
    return problem(status, HTTP_CODES.get(status, "error"), detail, headers=headers)


def handle_validation_error(exc: ValidationError) -> Response:
    return problem(422, "validation_error", DETAILS[422], errors=flatten_errors(exc.messages))


def handle_token_error(exc: Exception) -> Response:
    """Any JWT failure flask-jwt-extended's own callbacks do not answer is a plain 401."""
    return handle_api_error(Unauthorized("The token is invalid."))


def handle_db_error(exc: DBAPIError) -> Response:
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        return handle_api_error(ServiceUnavailable())
    return handle_unexpected(exc)


def handle_pool_timeout(exc: PoolTimeout) -> Response:
    """No pooled connection came free within DB_POOL_TIMEOUT: nothing was done."""
    log.warning("database pool exhausted: %s", exc)
    return handle_api_error(ServiceUnavailable())


def handle_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, "internal_error", DETAILS[500])


def register_error_handlers(app: Flask) -> None:
    """Route every failure through problem+json."""
    app.register_error_handler(APIError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ValidationError, handle_validation_error)
    # flask-jwt-extended registers handlers for the errors it knows; these catch any other one.
    app.register_error_handler(JWTExtendedException, handle_token_error)
    app.register_error_handler(PyJWTError, handle_token_error)
    app.register_error_handler(DBAPIError, handle_db_error)
    app.register_error_handler(PoolTimeout, handle_pool_timeout)
    app.register_error_handler(Exception, handle_unexpected)
