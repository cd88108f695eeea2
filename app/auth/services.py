"""Login, token rotation and revocation. Services flush; the request commits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError
from sqlalchemy import delete, select

from app.auth.passwords import hash_password, needs_rehash, set_pin, verify_dummy, verify_password
from app.columns import utcnow
from app.database import insert_for_dialect
from app.emails import normalize_email
from app.errors import InvalidCredentials, Unauthorized, ValidationFailed
from app.extensions import db
from app.models import RevokedToken, User


def login(email: str, password: str) -> dict[str, Any]:
    """A token pair for valid credentials; one answer for every failure, in comparable time."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        verify_dummy(password)
        raise InvalidCredentials()
    if not verify_password(user.password_hash, password) or not user.active:
        raise InvalidCredentials()
    if needs_rehash(user.password_hash):  # the ARGON2_* settings changed since this hash was made
        user.password_hash = hash_password(password)
    return issue_tokens(user)


def refresh(user: User, refresh_payload: dict[str, Any]) -> dict[str, Any]:
    """Rotate: revoke the presented refresh token and issue a new pair. A token is good for one use."""
    if not revoke(refresh_payload):  # a concurrent refresh with the same token won the race
        raise Unauthorized("The token has been revoked.")
    return issue_tokens(user)


def logout(user: User, access_payload: dict[str, Any], refresh_token: str | None) -> None:
    """Revoke the caller's access token and, when given, one of the caller's refresh tokens."""
    if refresh_token is not None:
        revoke(_own_refresh_token(user, refresh_token))
    revoke(access_payload)


def issue_tokens(user: User) -> dict[str, Any]:
    """A fresh access and refresh token for `user`, in the login/refresh answer shape."""
    expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": create_access_token(identity=user),
        "refresh_token": create_refresh_token(identity=user),
        "token_type": "Bearer",
        "expires_in": int(expires.total_seconds()),
        "user": user,
    }


def revoke(payload: dict[str, Any]) -> bool:
    """Put a decoded token on the blocklist; False when it was already there."""
    stmt = (
        insert_for_dialect(RevokedToken.__table__)
        .values(
            jti=payload["jti"],
            token_type=payload["type"],
            user_id=int(payload["sub"]),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            revoked_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["jti"])
    )
    return db.session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]  # DML returns a CursorResult; Session.execute is typed as Result


def purge_expired_tokens(now: datetime | None = None) -> int:
    """Delete blocklist rows of tokens that have expired anyway; returns how many."""
    result = db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < (now or utcnow())))
    return result.rowcount  # type: ignore[attr-defined]  # DML returns a CursorResult; Session.execute is typed as Result


def _own_refresh_token(user: User, token: str) -> dict[str, Any]:
    """The decoded refresh token if it is genuine (expired is fine) and belongs to `user`; else 422."""
    try:
        payload = decode_token(token, allow_expired=True)
    except (PyJWTError, JWTExtendedException):
        payload = {}
    if payload.get("type") != "refresh" or payload.get("sub") != str(user.id):
        raise ValidationFailed(errors={"refresh_token": ["Not a refresh token of the authenticated user."]})
    return payload


def set_own_pin(user: User, current_password: str, pin: str | None) -> None:
    """PUT /auth/me/pin: set or clear the caller's PIN; a wrong current_password is 422, nothing changed."""
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed(errors={"current_password": ["Wrong password."]})
    set_pin(user, pin)
    db.session.flush()
