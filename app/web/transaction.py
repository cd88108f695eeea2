"""The single commit-or-rollback of each request: services flush, this commits once.

A failure before COMMIT is sent means nothing was stored (503 when the database is unreachable);
a COMMIT that got no verdict leaves the outcome unknown (504 `outcome_unknown`).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from sqlalchemy.exc import DBAPIError

from app.errors import OutcomeUnknown, handle_api_error, handle_db_error, handle_unexpected
from app.extensions import db

log = logging.getLogger("comanda.transaction")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


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


def commit_failure(exc: Exception) -> Response:
    """The answer when db.session.commit() raised: 504 outcome_unknown, or the ordinary error."""
    if commit_outcome_unknown(exc, request.method):
        log.warning("commit outcome unknown: %s", exc.__class__.__name__)
        return handle_api_error(OutcomeUnknown())
    if isinstance(exc, DBAPIError):
        return handle_db_error(exc)
    return handle_unexpected(exc)


def rollback_quietly() -> None:
    """Roll back; a connection that is already gone rolls back on the server by itself."""
    try:
        db.session.rollback()
    except DBAPIError as exc:
        log.warning("rollback failed: %s", exc.__class__.__name__)


def register_transaction(app: Flask) -> None:
    """Commit (or roll back) after the view; registered last so it runs before the access log."""
    app.after_request(commit_or_rollback)
