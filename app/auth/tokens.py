"""JWT wiring: who a token belongs to, whether it is revoked, and how failures look."""

from __future__ import annotations

from flask import Response
from flask_jwt_extended import JWTManager
from sqlalchemy import select

from app.errors import Unauthorized, handle_api_error
from app.extensions import db
from app.models import RevokedToken, User

TOKEN_VERSION_CLAIM = "tv"  # noqa: S105 - a claim name, not a secret


def _unauthorized(detail: str) -> Response:
    return handle_api_error(Unauthorized(detail))


def register_jwt_callbacks(jwt: JWTManager) -> None:
    """Tokens carry the user id as a string subject and the user's token version."""

    @jwt.user_identity_loader
    def _identity(user: User | int | str) -> str:
        return str(user.id if isinstance(user, User) else user)

    @jwt.additional_claims_loader
    def _claims(user: User | int | str) -> dict:
        return {TOKEN_VERSION_CLAIM: user.token_version} if isinstance(user, User) else {}

    @jwt.user_lookup_loader
    def _lookup(_header: dict, payload: dict) -> User | None:
        try:
            user_id = int(payload["sub"])
        except (KeyError, TypeError, ValueError):
            return None
        user = db.session.get(User, user_id)
        if user is None or not user.active or payload.get(TOKEN_VERSION_CLAIM) != user.token_version:
            return None
        return user

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        jti = payload.get("jti")
        if not jti:  # a token that could never be revoked is refused outright
            return True
        return db.session.scalar(select(RevokedToken.id).where(RevokedToken.jti == jti)) is not None

    jwt.unauthorized_loader(lambda _msg: _unauthorized("A bearer token is required."))
    jwt.invalid_token_loader(lambda _msg: _unauthorized("The token is invalid."))
    jwt.expired_token_loader(lambda _h, _p: _unauthorized("The token has expired."))
    jwt.revoked_token_loader(lambda _h, _p: _unauthorized("The token has been revoked."))
    jwt.user_lookup_error_loader(lambda _h, _p: _unauthorized("The token's user is unknown or inactive."))
    jwt.token_verification_failed_loader(lambda _h, _p: _unauthorized("The token is invalid."))
    jwt.needs_fresh_token_loader(lambda _h, _p: _unauthorized("A fresh token is required."))
