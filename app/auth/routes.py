"""Auth routes: login, refresh, logout, me."""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import get_jwt

from app.auth import services
from app.auth.permissions import auth_required, current_user
from app.auth.schemas import LoginIn, LogoutIn, TokenOut, UserOut
from app.auth.throttle import throttle_login
from app.models import User
from app.web.json_body import Blueprint
from app.web.openapi import ERROR_DESCRIPTIONS, ERROR_HEADERS, problem_doc

blp = Blueprint("auth", __name__, description="Log in, rotate tokens, log out.")


@blp.route("/login", methods=["POST"])
@throttle_login
@blp.arguments(LoginIn)
@blp.response(200, TokenOut)
@blp.alt_response(401, **problem_doc("`invalid_credentials`: unknown email, wrong password or inactive user."))
@blp.alt_response(429, **problem_doc(ERROR_DESCRIPTIONS[429], headers=ERROR_HEADERS[429]))
@blp.doc(operationId="login")
def login(args: dict[str, Any]) -> dict[str, Any]:
    """Log in with email and password.

    Email is case-insensitive. The 6th failed login for one email within a minute (and, loosely,
    too many failures from one address) is 429 `rate_limited` with `Retry-After`.
    """
    return services.login(args["email"], args["password"])


@blp.route("/refresh", methods=["POST"])
@auth_required(refresh=True)
@blp.response(200, TokenOut)
@blp.doc(operationId="refreshToken")
def refresh() -> dict[str, Any]:
    """Trade a refresh token for a new token pair.

    Send `Authorization: Bearer <refresh_token>`. The presented refresh token is revoked: using it
    again is 401.
    """
    return services.refresh(current_user(), get_jwt())


@blp.route("/logout", methods=["POST"])
@auth_required()
@blp.arguments(LogoutIn, required=False)
@blp.response(204)
@blp.doc(operationId="logout")
def logout(args: dict[str, Any]) -> None:
    """Revoke the access token and, optionally, a refresh token.

    A `refresh_token` that is not a genuine refresh token of the caller is 422 and nothing is revoked.
    """
    services.logout(current_user(), get_jwt(), args.get("refresh_token"))


@blp.route("/me", methods=["GET"])
@auth_required()
@blp.response(200, UserOut)
@blp.doc(operationId="getCurrentUser")
def me() -> User:
    """The authenticated user."""
    return current_user()
