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
from sqlalchemy import TextClause, bindparam, delete, select, text, update
from sqlalchemy.exc import OperationalError

from app.columns import utcnow
from app.database import dialect_name, insert_for_dialect
from app.errors import Conflict, ErrorCode, ValidationFailed
from app.extensions import db
from app.fields import BAD_TEXT, BAD_TEXT_MESSAGE
from app.models import IdempotencyKey

HEADER = "Idempotency-Key"
# The header's OpenAPI parameter, for blueprints outside /orders (whose routes document it the same way).
DOC = {
    "parameters": [
        {
            "in": "header",
            "name": HEADER,
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": "Retries with the same key and body replay the first answer (`Idempotent-Replayed: true`); "
            "a different body is 422 `idempotency_key_reused`; a concurrent twin waits and replays, or gets 409 "
            "`idempotency_key_in_progress`. Keys are scoped to the caller and kept at least 24 h.",
        }
    ]
}
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


def _postgres_claim(wait_ms: int) -> TextClause:
    """`SET LOCAL lock_timeout` and the INSERT in one string: one round trip, the INSERT's rows come back."""
    return text(
        f"SET LOCAL lock_timeout = {wait_ms:d}; "  # noqa: S608 - an int from the config
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) "
        "VALUES (:user_id, :key, :request_hash, :created_at) "
        "ON CONFLICT (user_id, key) DO NOTHING RETURNING id"
    ).bindparams(bindparam("created_at", type_=IdempotencyKey.__table__.c.created_at.type))


def _claim(user_id: int, key: str, fingerprint: str) -> tuple[int | None, IdempotencyKey | None]:
    """Insert the key (or wait for a concurrent holder to finish).

    Returns (the new row's id, None) when the key is ours, (None, the holder's row) when it is not.
    On PostgreSQL the wait is bounded by IDEMPOTENCY_WAIT_MS (`SET LOCAL lock_timeout`, sent in
    the same round trip as the INSERT, then reset to the default for the rest of the request);
    the new row's id comes back with RETURNING, so the row is not read again.
    """
    values = {"user_id": user_id, "key": key, "request_hash": fingerprint, "created_at": utcnow()}
    postgres = dialect_name() == "postgresql"
    try:
        if postgres:
            new_id = db.session.execute(
                _postgres_claim(int(current_app.config["IDEMPOTENCY_WAIT_MS"])), values
            ).scalar()
        else:
            stmt = (
                insert_for_dialect(IdempotencyKey.__table__)
                .on_conflict_do_nothing(index_elements=["user_id", "key"])
                .returning(IdempotencyKey.__table__.c.id)
            )
            new_id = db.session.execute(stmt, values).scalar()
    except OperationalError as exc:
        if getattr(exc.orig, "pgcode", None) == LOCK_NOT_AVAILABLE:
            raise KeyInProgress() from None
        raise
    if postgres:
        db.session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
    if new_id is not None:
        return new_id, None
    mine = select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    return None, db.session.scalars(mine).one()


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
        row_id, row = _claim(int(get_jwt_identity()), key, fingerprint)
        if row is not None:
            if row.request_hash != fingerprint:
                raise KeyReused()
            if row.response_status is None:  # only if the holder committed without an answer
                raise KeyInProgress()
            return _replay(row)
        response = make_response(view(*args, **kwargs))
        if 200 <= response.status_code < 300:
            answer = {
                "response_status": response.status_code,
                "response_body": response.get_data(as_text=True),
                "response_headers": json.dumps({h: response.headers[h] for h in KEPT_HEADERS if h in response.headers}),
            }
            db.session.execute(update(IdempotencyKey.__table__).where(IdempotencyKey.__table__.c.id == row_id), answer)
        return response

    return wrapper


def purge_expired() -> int:
    """Delete keys older than IDEMPOTENCY_TTL_HOURS (never less than 24 h)."""
    hours = max(24, int(current_app.config["IDEMPOTENCY_TTL_HOURS"]))
    result = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - timedelta(hours=hours))
    )
    return result.rowcount  # type: ignore[attr-defined]  # DML returns a CursorResult; Session.execute is typed as Result
