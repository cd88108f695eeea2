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

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import has_request_context, request
from sqlalchemy import or_, select, update

from app.auth.passwords import verify_dummy, verify_password
from app.auth.permissions import STAFF, scope_orders
from app.columns import utcnow
from app.errors import APIError, ErrorCode, Forbidden, NotFound
from app.extensions import db
from app.models import ApprovalToken, DrawerSession, Order, User

ACTIONS = ("discount", "void_sent_item", "refund", "cancel_closed_order", "pay_out", "drawer_variance")
ORDER_ACTIONS = ACTIONS[:4]
SESSION_ACTIONS = ACTIONS[4:]
V11_MANAGER_ONLY = ("discount", "refund", "cancel_closed_order")
HEADER = "X-Approval-Token"
LIFETIME = timedelta(seconds=120)


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


def refuse_early(user: User, action: str) -> None:
    """Before anything is loaded: someone who may never act alone and sent no token is refused at once
    (so a waiter without a token gets 403 whoever's order it is, as in v1.1)."""
    if user.role not in STAFF and sent_token() is None:
        raise Forbidden() if action in V11_MANAGER_ONLY else ApprovalRequired()


def digest(token: str) -> str:
    """What is stored of a token: its sha256 (a leaked table holds no usable token)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def use_token(token: str, action: str, *, location_id: int, order_id: int | None,
              drawer_session_id: int | None, amount_cents: int | None) -> User:
    """Use up a valid token in this transaction and return its approver, else ApprovalInvalid.

    One conditional UPDATE ... WHERE used_at IS NULL AND <every binding>: of any number of concurrent
    uses exactly one finds the row unused (the others wait for its row lock, then see it used, or take
    it if the first rolled back). The use commits or rolls back with the request."""
    table = ApprovalToken.__table__
    now = utcnow()
    approvers = select(User.id).where(User.active.is_(True), User.role.in_(STAFF))
    conditions = [
        table.c.token_hash == digest(token),
        table.c.used_at.is_(None),
        table.c.expires_at > now,
        table.c.action == action,
        table.c.location_id == location_id,
        table.c.order_id.is_(None) if order_id is None else table.c.order_id == order_id,
        table.c.drawer_session_id.is_(None) if drawer_session_id is None
        else table.c.drawer_session_id == drawer_session_id,
        table.c.approver_id.in_(approvers),
    ]
    if amount_cents is not None:
        conditions.append(or_(table.c.max_amount_cents.is_(None), table.c.max_amount_cents >= amount_cents))
    stmt = update(table).where(*conditions).values(used_at=now).returning(table.c.approver_id)
    approver_id = db.session.execute(stmt).scalar_one_or_none()
    if approver_id is None:
        raise ApprovalInvalid()
    approver = db.session.get(User, approver_id)
    if approver is None:  # the foreign key guarantees it
        raise ApprovalInvalid()
    return approver


def drawer_session_location(user: User, drawer_session_id: int) -> int:
    """The location of a drawer session `user` may see (a member of its location, or an admin); 404 for an
    unknown or invisible one."""
    location_id = db.session.scalar(select(DrawerSession.location_id).where(DrawerSession.id == drawer_session_id))
    if location_id is None or not (user.role == "admin" or any(loc.id == location_id for loc in user.locations)):
        raise NotFound("No such drawer session.")
    return location_id


def _order_location(user: User, order_id: int) -> int:
    location_id = db.session.scalar(scope_orders(user, select(Order.location_id).where(Order.id == order_id)))
    if location_id is None:
        raise NotFound("No such order.")
    return location_id


def _may_approve(approver: User | None, location_id: int) -> bool:
    if approver is None or not approver.active or approver.role not in STAFF or approver.pin_hash is None:
        return False
    return approver.role == "admin" or any(loc.id == location_id for loc in approver.locations)


def issue(caller: User, data: dict[str, Any]) -> dict[str, Any]:
    """POST /auth/approvals: a token for `data["action"]` when the approver's PIN is right.

    404 for an order or session the caller may not see; then a wrong PIN, a non-approver and an
    unknown approver are the same 403 approval_denied, in comparable time (one PIN verification)."""
    action = data["action"]
    order_id, session_id = data.get("order_id"), data.get("drawer_session_id")
    if action in ORDER_ACTIONS:
        location_id = _order_location(caller, order_id)  # type: ignore[arg-type]  # required by the schema
    else:
        location_id = drawer_session_location(caller, session_id)  # type: ignore[arg-type]
    approver = db.session.get(User, data["approver_id"])
    if approver is None or not _may_approve(approver, location_id):
        verify_dummy(data["pin"])
        raise ApprovalDenied()
    if not verify_password(approver.pin_hash or "", data["pin"]):
        raise ApprovalDenied()
    token = secrets.token_urlsafe(32)
    row = ApprovalToken(
        token_hash=digest(token), action=action, approver_id=approver.id, requested_by_id=caller.id,
        location_id=location_id, order_id=order_id, drawer_session_id=session_id,
        max_amount_cents=data.get("max_amount"), expires_at=utcnow() + LIFETIME, created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return {"approval_token": token, "action": action, "approver": approver, "order_id": order_id,
            "drawer_session_id": session_id, "max_amount": row.max_amount_cents, "expires_at": row.expires_at}
