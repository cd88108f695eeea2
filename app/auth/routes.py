"""Auth routes: login, refresh, logout, me."""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import get_jwt

from app.auth import approvals, services
from app.auth.permissions import auth_required, current_user
from app.auth.schemas import ApprovalIn, ApprovalOut, LoginIn, LogoutIn, MyPinIn, TokenOut, UserOut
from app.auth.throttle import throttle_approvals, throttle_login
from app.models import User
from app.web import idempotency
from app.web.idempotency import idempotent
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


@blp.route("/me/pin", methods=["PUT"])
@auth_required()
@blp.arguments(MyPinIn, example={"current_password": "correct horse battery", "pin": "4821"})
@blp.response(204)
@blp.alt_response(422, **problem_doc("`validation_error`: a wrong current password, a malformed `pin`, or a "
                                     "waiter's `pin` (waiters have none)."))
@blp.doc(operationId="setMyPin")
def set_my_pin(args: dict[str, Any]) -> None:
    """Set (or, with `"pin": null`, clear) your own approval PIN (managers, admins).

    The PIN is 4-8 ASCII digits sent as a JSON string, stored only as a slow hash, never answered.
    """
    services.set_own_pin(current_user(), args["current_password"], args["pin"])


@blp.route("/approvals", methods=["POST"])
@auth_required()
@throttle_approvals(approvals.ApprovalDenied)
@idempotent
@blp.arguments(ApprovalIn, example={"approver_id": 2, "pin": "4821", "action": "discount", "order_id": 41,
                                    "max_amount": "50.00"})
@blp.response(201, ApprovalOut, example={
    "approval_token": "Xq2v0mJ6cY3o1bXk1wq3QpT4d2Q9b6cZkq0v8e7m5aE", "action": "discount",
    "approver": {"id": 2, "name": "Marta"}, "order_id": 41, "drawer_session_id": None, "max_amount": "50.00",
    "expires_at": "2026-11-21T20:17:03Z"})
@blp.alt_response(403, **problem_doc("`approval_denied`: a wrong PIN, an approver who is not an active manager or "
                                     "admin with a PIN of the order's (session's) location, or an unknown one: "
                                     "one answer for all."))
@blp.alt_response(404, **problem_doc("`not_found`: an order or drawer session you may not see, or none."))
@blp.alt_response(429, **problem_doc(ERROR_DESCRIPTIONS[429] + " After LOGIN_FAILURES_PER_EMAIL failed PINs of one "
                                     "approver within the window, also for the right PIN.",
                                     headers=ERROR_HEADERS[429]))
@blp.doc(operationId="createApproval", **idempotency.DOC)
def create_approval(args: dict[str, Any]) -> dict[str, Any]:
    """A manager's "yes" at the tablet: an approval token for one action.

    The token is valid for 120 seconds and one use, only for that action on that order (`discount`,
    `void_sent_item`, `refund`, `cancel_closed_order`) or drawer session (`pay_out`, `drawer_variance`),
    and with `max_amount` only up to that amount. Send it as `X-Approval-Token` on the request it
    approves; an unknown, expired, used or mismatched token there is 403 `approval_invalid` and a
    request refused for any reason leaves it usable.
    """
    return approvals.issue(current_user(), args)
