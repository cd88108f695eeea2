"""Idempotency-Key for POSTs: the first answer is stored with the work, in the same transaction.

A concurrent request with the same key waits on the unique index until the first commits, then
replays its answer; if it waits longer than IDEMPOTENCY_WAIT_MS it gets 409 in progress.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import Response, current_app, make_response, request
from flask_jwt_extended import get_jwt_identity
from sqlalchemy import delete, select, text
from sqlalchemy.exc import OperationalError

from app.columns import utcnow
from app.database import dialect_name, insert_for_dialect
from app.errors import Conflict, ErrorCode, ValidationFailed
from app.extensions import db
from app.fields import BAD_TEXT, BAD_TEXT_MESSAGE
from app.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEPT_HEADERS = ("Location", "ETag")
LOCK_NOT_AVAILABLE = "55P03"


class KeyReused(ValidationFailed):
    code, detail = ErrorCode.IDEMPOTENCY_KEY_REUSED, "This Idempotency-Key was used with a different request."


class KeyInProgress(Conflict):
    code, detail = ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS, "A request with this Idempotency-Key is still running; retry."
    default_headers = {"Retry-After": "1"}


def request_fingerprint() -> str:
    """sha256 of method, path and the canonical JSON body."""
    body = request.get_json(silent=True)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{canonical}".encode()).hexdigest()


def _claim(user_id: int, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """Insert the key (or wait for a concurrent holder to finish); return the row and whether it is ours."""
    stmt = insert_for_dialect(IdempotencyKey.__table__).on_conflict_do_nothing(index_elements=["user_id", "key"])
    values = {"user_id": user_id, "key": key, "request_hash": fingerprint, "created_at": utcnow()}
    postgres = dialect_name() == "postgresql"
    if postgres:
        db.session.execute(text(f"SET LOCAL lock_timeout = {int(current_app.config['IDEMPOTENCY_WAIT_MS'])}"))
    try:
        inserted = db.session.execute(stmt, values).rowcount == 1  # type: ignore[attr-defined]  # DML returns a CursorResult; Session.execute is typed as Result
    except OperationalError as exc:
        if getattr(exc.orig, "pgcode", None) == LOCK_NOT_AVAILABLE:
            raise KeyInProgress() from None
        raise
    if postgres:
        db.session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
    mine = select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    row = db.session.scalars(mine).one()
    return row, inserted


def _replay(row: IdempotencyKey) -> Response:
    response = current_app.response_class(row.response_body, status=row.response_status, mimetype="application/json")
    for name, value in json.loads(row.response_headers or "{}").items():
        response.headers[name] = value
    response.headers[REPLAYED] = "true"
    return response


def idempotent(view: Callable) -> Callable:
    """Honour an optional Idempotency-Key header (1-255 chars) scoped to the caller (inside auth_required)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255:
            raise ValidationFailed(errors={HEADER: ["Must be 1-255 characters."]})
        if BAD_TEXT.search(key):  # stored in a text column: NUL and lone surrogates cannot be
            raise ValidationFailed(errors={HEADER: [BAD_TEXT_MESSAGE]})
        fingerprint = request_fingerprint()
        row, ours = _claim(int(get_jwt_identity()), key, fingerprint)
        if not ours:
            if row.request_hash != fingerprint:
                raise KeyReused()
            if row.response_status is None:  # only if the holder committed without an answer
                raise KeyInProgress()
            return _replay(row)
        response = make_response(view(*args, **kwargs))
        if 200 <= response.status_code < 300:
            row.response_status = response.status_code
            row.response_body = response.get_data(as_text=True)
            row.response_headers = json.dumps({h: response.headers[h] for h in KEPT_HEADERS if h in response.headers})
            db.session.flush()
        return response

    return wrapper


def purge_expired() -> int:
    """Delete keys older than IDEMPOTENCY_TTL_HOURS (never less than 24 h)."""
    hours = max(24, int(current_app.config["IDEMPOTENCY_TTL_HOURS"]))
    result = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - timedelta(hours=hours))
    )
    return result.rowcount  # type: ignore[attr-defined]  # DML returns a CursorResult; Session.execute is typed as Result
