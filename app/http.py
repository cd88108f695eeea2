"""Request lifecycle: request ids, the JSON gate, one commit per request, access log."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix

from app.errors import (
    MalformedJSON,
    OutcomeUnknown,
    UnsupportedMediaType,
    handle_api_error,
    handle_db_error,
    handle_unexpected,
)
from app.extensions import db

access_log = logging.getLogger("comanda.request")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def register_http(app: Flask) -> None:
    """Install the proxy fix and the before/after request hooks."""
    hops = app.config["PROXY_FIX_X_FOR"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.before_request(start_request)
    app.before_request(check_json_body)
    # after_request hooks run in reverse order: commit first, then stamp and log.
    app.after_request(finish_request)
    app.after_request(commit_or_rollback)


def start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
    g.started_at = time.perf_counter()


def check_json_body() -> None:
    """Bodies must be JSON objects; the size limit is enforced by MAX_CONTENT_LENGTH (413)."""
    if request.method not in BODY_METHODS:
        return
    has_body = bool(request.content_length) or bool(request.headers.get("Transfer-Encoding"))
    if not has_body:
        return
    if not request.is_json:
        raise UnsupportedMediaType()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise MalformedJSON()


def commit_or_rollback(response: Response) -> Response:
    """The one commit of a request: only when the answer is a success.

    A failure before COMMIT is sent (the last flush included) means nothing was stored: the usual
    error answer (503 when the database is unreachable). A failure of the COMMIT itself may leave
    the outcome unknown: see `commit_failure`.
    """
    if response.status_code >= 400:
        rollback_quietly()
        return response
    try:
        db.session.flush()
    except Exception as exc:  # the response must not claim success for lost work
        rollback_quietly()
        return handle_db_error(exc) if isinstance(exc, DBAPIError) else handle_unexpected(exc)
    try:
        db.session.commit()
    except Exception as exc:
        rollback_quietly()
        return commit_failure(exc)
    return response


# -- when COMMIT fails ------------------------------------------------------------------------------
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def commit_outcome_unknown(exc: BaseException, method: str) -> bool:
    """True when COMMIT was sent to PostgreSQL and no verdict came back.

    PostgreSQL answers a COMMIT it could not do with an ERROR, and then nothing was stored. No
    answer at all (a lost connection, the client-side deadline of app/database.py) or a FATAL
    (the server ending the session, possibly after the commit record was written) leaves the
    outcome unknown. Safe methods write nothing, so for them nothing is ever in doubt; SQLite
    commits in-process and a failed COMMIT there is rolled back.
    """
    if method in SAFE_METHODS or not isinstance(exc, DBAPIError):
        return False
    if db.session.get_bind().dialect.name != "postgresql":
        return False
    diag = getattr(exc.orig, "diag", None)
    severity = getattr(diag, "severity_nonlocalized", None) or getattr(diag, "severity", None)
    return not (getattr(exc.orig, "pgcode", None) and severity == "ERROR")


def commit_failure(exc: BaseException) -> Response:
    """The answer when db.session.commit() raised: 504 outcome_unknown, or the ordinary error."""
    if commit_outcome_unknown(exc, request.method):
        access_log.warning("commit outcome unknown: %s", exc.__class__.__name__)
        return handle_api_error(OutcomeUnknown())
    if isinstance(exc, DBAPIError):
        return handle_db_error(exc)
    return handle_unexpected(exc)


def rollback_quietly() -> None:
    """Roll back; a connection that is already gone rolls back on the server by itself."""
    try:
        db.session.rollback()
    except DBAPIError as exc:
        access_log.warning("rollback failed: %s", exc.__class__.__name__)


def finish_request(response: Response) -> Response:
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers["X-Request-ID"] = request_id
    duration_ms = round((time.perf_counter() - g.get("started_at", time.perf_counter())) * 1000, 2)
    access_log.info(
        "%s %s %s %sms",
        request.method,
        request.path,
        response.status_code,
        duration_ms,
        extra={
            "request_id": request_id,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "remote_addr": request.remote_addr,
        },
    )
    return response

