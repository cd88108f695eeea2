"""The single commit-or-rollback of each request: services flush, this commits once."""

from __future__ import annotations

from flask import Flask, Response
from sqlalchemy.exc import DBAPIError

from app.errors import handle_db_error, handle_unexpected
from app.extensions import db


def commit_or_rollback(response: Response) -> Response:
    """The one commit of a request: only when the answer is a success."""
    if response.status_code >= 400:
        db.session.rollback()
        return response
    try:
        db.session.commit()
    except Exception as exc:  # the response must not claim success for lost work
        db.session.rollback()
        return handle_db_error(exc) if isinstance(exc, DBAPIError) else handle_unexpected(exc)
    return response


def register_transaction(app: Flask) -> None:
    """Commit (or roll back) after the view; registered last so it runs before the access log."""
    app.after_request(commit_or_rollback)
