"""Manager approvals at the tablet (API.md v1.2 "Manager approvals"): the one place that decides
whether the caller may do an action a waiter may not do alone.

Every route that needs a manager's "yes" asks `authorize()` once, before it changes anything:

    approver = authorize(user, "void_sent_item", location_id=order.location_id, order_id=order.id)
    with changing(order, user, "item_voided", approved_by=approver, ...):

- a manager or admin (of that location) acting directly: returns None (no token needed);
- anyone else with a valid `X-Approval-Token` for that action, order or session, and amount: the
  token is used up in the current transaction (so a request that fails later leaves it usable,
  the rollback undoes the use) and the approver is returned, for the event's `approved_by`;
- without a token: 403 `forbidden` for what v1.1 already reserved for managers (discount, refund,
  cancel_closed_order), 403 `approval_required` for what v1.2 newly reserves (void_sent_item,
  pay_out, drawer_variance);
- a token that is unknown, expired, used, or for another action, order, session or a smaller
  `max_amount`: 403 `approval_invalid`, nothing written.
"""

from __future__ import annotations

from flask import has_request_context, request

from app.errors import APIError, ErrorCode, Forbidden
from app.models import User

ACTIONS = ("discount", "void_sent_item", "refund", "cancel_closed_order", "pay_out", "drawer_variance")
ORDER_ACTIONS = ACTIONS[:4]
SESSION_ACTIONS = ACTIONS[4:]
V11_MANAGER_ONLY = ("discount", "refund", "cancel_closed_order")
HEADER = "X-Approval-Token"


class ApprovalDenied(APIError):
    status, code, detail = 403, ErrorCode.APPROVAL_DENIED, "The approver or the PIN is not valid."


class ApprovalInvalid(APIError):
    status, code = 403, ErrorCode.APPROVAL_INVALID
    detail = "The approval token is unknown, expired, used, or for another action, order, session or amount."


class ApprovalRequired(APIError):
    status, code, detail = 403, ErrorCode.APPROVAL_REQUIRED, "This needs a manager's approval (X-Approval-Token)."


def sent_token() -> str | None:
    """The X-Approval-Token of this request, if any."""
    if not has_request_context():
        return None
    return request.headers.get(HEADER) or None


def may_act_alone(user: User, location_id: int) -> bool:
    """Managers of the location and admins need no approval."""
    if user.role == "admin":
        return True
    return user.role == "manager" and any(loc.id == location_id for loc in user.locations)


def authorize(user: User, action: str, *, location_id: int, order_id: int | None = None,
              drawer_session_id: int | None = None, amount_cents: int | None = None) -> User | None:
    """The approver whose token lets `user` do `action` (None: the user may act alone); see the module."""
    if action not in ACTIONS:
        raise ValueError(f"unknown approval action {action!r}")
    if may_act_alone(user, location_id):
        return None
    token = sent_token()
    if token is None:
        raise Forbidden() if action in V11_MANAGER_ONLY else ApprovalRequired()
    return use_token(token, action, location_id=location_id, order_id=order_id,
                     drawer_session_id=drawer_session_id, amount_cents=amount_cents)


def use_token(token: str, action: str, *, location_id: int, order_id: int | None,
              drawer_session_id: int | None, amount_cents: int | None) -> User:
    """Use up a valid token in this transaction and return its approver, else ApprovalInvalid.
    (Issued by POST /auth/approvals: the tables-and-approvals work fills this in.)"""
    raise ApprovalInvalid()
