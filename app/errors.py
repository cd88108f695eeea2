"""The APIError family and the one handler that turns every failure into problem+json."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
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
RETRY_AFTER_KEY = "comanda.retry_after"


class ErrorCode(StrEnum):
    """Every stable `code` a problem+json answer (or a rejected batch order) can carry: the one catalogue."""

    BAD_REQUEST = "bad_request"
    MALFORMED_JSON = "malformed_json"
    INVALID_CURSOR = "invalid_cursor"
    UNAUTHORIZED = "unauthorized"
    INVALID_CREDENTIALS = "invalid_credentials"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    DUPLICATE_EMAIL = "duplicate_email"
    CANNOT_DEACTIVATE_SELF = "cannot_deactivate_self"
    CANNOT_CHANGE_OWN_ROLE = "cannot_change_own_role"
    DUPLICATE_PRODUCT = "duplicate_product"
    ORDER_NOT_OPEN = "order_not_open"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    DUPLICATE_LOCATION = "duplicate_location"
    BALANCE_DUE = "balance_due"
    TOTAL_BELOW_PAID = "total_below_paid"
    EXCEEDS_BALANCE = "exceeds_balance"
    EXCEEDS_REFUNDABLE_QUANTITY = "exceeds_refundable_quantity"
    IDEMPOTENCY_KEY_IN_PROGRESS = "idempotency_key_in_progress"
    PRECONDITION_FAILED = "precondition_failed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    URI_TOO_LONG = "uri_too_long"
    HEADER_TOO_LARGE = "header_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    VALIDATION_ERROR = "validation_error"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    PRECONDITION_REQUIRED = "precondition_required"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    OUTCOME_UNKNOWN = "outcome_unknown"
    # v1.2: approvals, tables and split checks, the kitchen, the cash drawer and the day close
    APPROVAL_DENIED = "approval_denied"
    APPROVAL_INVALID = "approval_invalid"
    APPROVAL_REQUIRED = "approval_required"
    DUPLICATE_TABLE = "duplicate_table"
    DUPLICATE_ROUTE = "duplicate_route"
    SPLIT_NOT_ALLOWED = "split_not_allowed"
    TICKET_NOT_OPEN = "ticket_not_open"
    TICKET_NOT_READY = "ticket_not_ready"
    RECALL_EXPIRED = "recall_expired"
    DRAWER_SESSION_OPEN = "drawer_session_open"
    DRAWER_SESSION_CLOSED = "drawer_session_closed"
    NO_OPEN_DRAWER_SESSION = "no_open_drawer_session"
    ORDERS_OPEN = "orders_open"
    BUSINESS_DAY_CLOSED = "business_day_closed"
    EXCEEDS_QUANTITY = "exceeds_quantity"
    ERROR = "error"  # an HTTP status without a code of its own (none today)


# Stable machine-readable codes for the HTTP errors that come from routing or werkzeug.
HTTP_CODES: dict[int, ErrorCode] = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    412: ErrorCode.PRECONDITION_FAILED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    414: ErrorCode.URI_TOO_LONG,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.VALIDATION_ERROR,
    428: ErrorCode.PRECONDITION_REQUIRED,
    429: ErrorCode.RATE_LIMITED,
    431: ErrorCode.HEADER_TOO_LARGE,
    500: ErrorCode.INTERNAL_ERROR,
    503: ErrorCode.SERVICE_UNAVAILABLE,
    504: ErrorCode.OUTCOME_UNKNOWN,
}

DETAILS: dict[int, str] = {
    400: "The request could not be understood.",
    401: "Authentication is required.",
    403: "You are not allowed to do this.",
    404: "The resource does not exist.",
    405: "This method is not allowed on this resource.",
    413: "The request body is larger than 1 MiB.",
    414: "The request line is too long.",
    415: "Send the body as application/json.",
    422: "Request body is invalid.",
    429: "Too many requests; slow down.",
    431: "A header line, or all headers together, are too large.",
    500: "An unexpected error occurred.",
    503: "The service is temporarily unavailable; retry shortly.",
}


class APIError(Exception):
    """A domain error with an HTTP status and a stable `code`."""

    status: int = 400
    code: ErrorCode = ErrorCode.BAD_REQUEST
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
    status, code, detail = 400, ErrorCode.MALFORMED_JSON, "The body is not a valid JSON object."


class InvalidCursor(APIError):
    status, code, detail = 400, ErrorCode.INVALID_CURSOR, "The cursor cannot be decoded."


class Unauthorized(APIError):
    status, code, detail = 401, ErrorCode.UNAUTHORIZED, "A valid access token is required."
    default_headers = {"WWW-Authenticate": "Bearer"}


class InvalidCredentials(APIError):
    status, code, detail = 401, ErrorCode.INVALID_CREDENTIALS, "Email or password is incorrect."


class Forbidden(APIError):
    status, code, detail = 403, ErrorCode.FORBIDDEN, "Your role may not do this."


class NotFound(APIError):
    status, code, detail = 404, ErrorCode.NOT_FOUND, "The resource does not exist."


class Conflict(APIError):
    status, code = 409, ErrorCode.CONFLICT


class PreconditionFailed(APIError):
    status, code, detail = 412, ErrorCode.PRECONDITION_FAILED, "If-Match does not match the current version."


class UnsupportedMediaType(APIError):
    status, code, detail = 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the body as application/json."


class ValidationFailed(APIError):
    status, code, detail = 422, ErrorCode.VALIDATION_ERROR, "Request body is invalid."


class PreconditionRequired(APIError):
    status, code, detail = 428, ErrorCode.PRECONDITION_REQUIRED, "This request needs an If-Match header."


class ServiceUnavailable(APIError):
    status, code, detail = 503, ErrorCode.SERVICE_UNAVAILABLE, "The database is unreachable; retry shortly."
    default_headers = {"Retry-After": "5"}


class OutcomeUnknown(APIError):
    """COMMIT was sent and no verdict came back: the change may or may not be stored."""

    status, code = 504, ErrorCode.OUTCOME_UNKNOWN
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
    code: ErrorCode,
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
        return problem(422, ErrorCode.VALIDATION_ERROR, DETAILS[422], errors=errors)
    if status == 400:
        errors = _webargs_messages(exc)
        if errors:  # webargs could not read the body (invalid JSON)
            return problem(400, ErrorCode.MALFORMED_JSON, MalformedJSON.detail)
        return problem(400, HTTP_CODES[400], exc.description or DETAILS[400])
    retry_after = current_app.extensions.get(RETRY_AFTER_KEY, {}).get(status)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after())
    detail = DETAILS.get(status) or exc.description or "Error."
    return problem(status, HTTP_CODES.get(status, ErrorCode.ERROR), detail, headers=headers)


def handle_validation_error(exc: ValidationError) -> Response:
    return problem(422, ErrorCode.VALIDATION_ERROR, DETAILS[422], errors=flatten_errors(exc.messages))


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
    return problem(500, ErrorCode.INTERNAL_ERROR, DETAILS[500])


def register_error_handlers(app: Flask, *, retry_after: dict[int, Callable[[], int]] | None = None) -> None:
    """Route every failure through problem+json; `retry_after` gives the Retry-After seconds of an HTTP status
    (429: the limiter's reset time), supplied by the factory so this module never reaches up into a blueprint."""
    app.extensions[RETRY_AFTER_KEY] = dict(retry_after or {})
    app.register_error_handler(APIError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ValidationError, handle_validation_error)
    # flask-jwt-extended registers handlers for the errors it knows; these catch any other one.
    app.register_error_handler(JWTExtendedException, handle_token_error)
    app.register_error_handler(PyJWTError, handle_token_error)
    app.register_error_handler(DBAPIError, handle_db_error)
    app.register_error_handler(PoolTimeout, handle_pool_timeout)
    app.register_error_handler(Exception, handle_unexpected)
