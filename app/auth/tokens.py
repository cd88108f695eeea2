"""JWT wiring: who a token belongs to, whether it is revoked, and how failures look.

The signature and expiry are checked locally (flask-jwt-extended, JWT_SECRET_KEY); the revocation
list and the user (active, token version) are read from the primary. When the primary cannot be
reached at all, a report request reads them, and everything else it needs, from the reports
replica instead if that one is at most REPORTS_MAX_LAG_SECONDS behind (app/replicas.py:
read_replica_instead): reports keep answering through a failover, and a revocation older than
REPORTS_MAX_LAG_SECONDS is honoured there too. Any other request without the primary stays 503.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from flask import Response, g, request
from flask_jwt_extended import JWTManager
from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import joinedload

from app.database import STALE_RETRY
from app.errors import Unauthorized, handle_api_error
from app.extensions import db
from app.models import RevokedToken, User
from app.replicas import read_replica_instead

TOKEN_VERSION_CLAIM = "tv"  # noqa: S105 - a claim name, not a secret
_PREFETCHED = "_comanda_token_user"  # g attribute: (jti, User) read with the revocation check


def _subject_id(payload: dict) -> int | None:
    try:
        return int(payload["sub"])
    except (KeyError, TypeError, ValueError):
        return None


def is_revoked(payload: dict) -> bool:
    """Whether the token is revoked: on the primary, or on the replica when the primary is unreachable."""
    try:
        return _revoked_or_unknown(payload)
    except DBAPIError as exc:
        unreachable = isinstance(exc, OperationalError) or exc.connection_invalidated
        # A pooled connection that died idle is not an unreachable primary: the request runs again.
        if request.environ.get(STALE_RETRY) or not (unreachable and read_replica_instead()):
            raise
    return _revoked_or_unknown(payload)


def _revoked_or_unknown(payload: dict) -> bool:
    """Revocation check and user read (with the user's locations) in one round trip.

    The token's user comes back with the answer and waits on `g` for the user-lookup loader,
    which flask-jwt-extended calls right after this check (same request, same token). The
    checks and their order of failure are unchanged: revoked first, then unknown, inactive or
    of an older token version. Only an unknown user costs a second query (the revocation alone).
    """
    jti = payload.get("jti")
    if not jti:  # a token that could never be revoked is refused outright
        return True
    user_id = _subject_id(payload)
    if user_id is not None:
        params: dict[str, Any] = {"auth_jti": jti, "auth_user_id": user_id}
        riding: list[str] = []
        for key, (_, ride) in _RIDERS.items():
            rider_params = ride()
            if rider_params is not None:
                riding.append(key)
                params.update(rider_params)
        row = db.session.execute(_authentication_statement(tuple(riding)), params).unique().first()
        if row is not None:
            setattr(g, _PREFETCHED, (jti, row[0]))
            for n, key in enumerate(riding, 2):
                request.environ[key] = row[n]
            return bool(row[1])
    return db.session.scalar(_revocation_statement(), {"auth_jti": jti}) is True


@cache
def _revocation_statement() -> Any:
    """Whether a jti is revoked (`auth_jti`), built once."""
    return select(exists().where(RevokedToken.jti == bindparam("auth_jti")))


@cache
def _authentication_statement(riding: tuple[str, ...]) -> Any:
    """The user (`auth_user_id`) with their locations (one LEFT JOIN: most requests scope by them, and a
    waiter's new order needs them), whether the token (`auth_jti`) is revoked, and the `riding` riders'
    columns: built once per set of riders with bound parameters, so a request constructs no statement."""
    revoked = exists().where(RevokedToken.jti == bindparam("auth_jti"))
    columns = [_RIDERS[key][0]() for key in riding]
    return (select(User, revoked, *columns).where(User.id == bindparam("auth_user_id"))
            .options(joinedload(User.locations)))


# Reads a request will surely make, sent with the authentication statement instead of a round trip of
# their own, by request.environ key: (the scalar column, built once with bound parameters; a function of
# the request giving those parameters, or None when this request does not need the read). The column's
# value lands in request.environ[key] when the token's user exists (whatever the checks then decide).
# Registered by the blueprint that uses the value (app/orders/lines.py: the catalogue products of a POST's
# lines).
_RIDERS: dict[str, tuple[Callable[[], Any], Callable[[], dict[str, Any] | None]]] = {}


def ride_with_authentication(key: str, column: Callable[[], Any]):
    """Register the decorated function as the parameters of the rider `key` (see `_RIDERS`)."""

    def register(params: Callable[[], dict[str, Any] | None]) -> Callable[[], dict[str, Any] | None]:
        _RIDERS[key] = (column, params)
        return params

    return register


def token_user(payload: dict) -> User | None:
    """The active user a verified token belongs to, at the token's version; None refuses it."""
    user_id = _subject_id(payload)
    if user_id is None:
        return None
    prefetched = g.pop(_PREFETCHED, None)
    if prefetched is not None and prefetched[0] == payload.get("jti") and prefetched[1].id == user_id:
        user = prefetched[1]
    else:
        user = db.session.get(User, user_id)
    if user is None or not user.active or payload.get(TOKEN_VERSION_CLAIM) != user.token_version:
        return None
    return user


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
        return token_user(payload)

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        return is_revoked(payload)

    jwt.unauthorized_loader(lambda _msg: _unauthorized("A bearer token is required."))
    jwt.invalid_token_loader(lambda _msg: _unauthorized("The token is invalid."))
    jwt.expired_token_loader(lambda _h, _p: _unauthorized("The token has expired."))
    jwt.revoked_token_loader(lambda _h, _p: _unauthorized("The token has been revoked."))
    jwt.user_lookup_error_loader(lambda _h, _p: _unauthorized("The token's user is unknown or inactive."))
    jwt.token_verification_failed_loader(lambda _h, _p: _unauthorized("The token is invalid."))
    jwt.needs_fresh_token_loader(lambda _h, _p: _unauthorized("A fresh token is required."))
