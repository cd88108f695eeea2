"""Settling a check: payments and tips, close, cancel (refunding a closed order), refunds.

Each is one change under the order's row lock: version + 1 and one history event. Amounts come
from app/orders/pricing.py (balance, change, refund parts) through app/orders/checks.py.
"""

from __future__ import annotations

from typing import Any

from app import counters
from app.auth.approvals import authorize, refuse_early
from app.business_time import business_date, local_hour
from app.cash import binding
from app.columns import utcnow
from app.errors import Conflict, ErrorCode, ValidationFailed
from app.extensions import db
from app.models import DrawerSession, Location, Order, Payment, Refund, RefundItem, User
from app.orders import checks, history, kitchen, pricing
from app.orders.services import open_for_change, visible_order
from app.orders.unit import OrderNotOpen, changing


class BalanceDue(Conflict):
    code, detail = ErrorCode.BALANCE_DUE, "The order still has a balance due; pay it or close with a payment_method."


class ExceedsBalance(ValidationFailed):
    code, detail = ErrorCode.EXCEEDS_BALANCE, "The payment is more than the balance due."


class ExceedsRefundableQuantity(ValidationFailed):
    code, detail = ErrorCode.EXCEEDS_REFUNDABLE_QUANTITY, "More units than are left to refund."


def _location(order: Order) -> Location:
    location = db.session.get(Location, order.location_id)
    if location is None:  # the foreign key guarantees it
        raise LookupError(f"order {order.id} has no location")
    return location


def refund_business_date(order: Order, now: Any = None) -> Any:
    """The business date a refund or payment made now counts on: today on its order's location's clock."""
    location = _location(order)
    return business_date(now or utcnow(), location.timezone, location.day_starts_at)


def default_refund_method(order: Order) -> str:
    """The order's payment_method, or "other" when it is mixed or null."""
    return order.payment_method if order.payment_method in ("cash", "card", "other") else "other"


def describe_payment(payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.id,
        "method": payment.method,
        "amount": history.money(payment.amount_cents),
        "tip": history.money(payment.tip_cents),
        "tendered": history.money(payment.tendered_cents),
        "change": history.money(payment.change_cents),
        "drawer_session_id": payment.drawer_session_id,
    }


def describe_refund(refund: Refund) -> dict[str, Any]:
    return {
        "refund_id": refund.id,
        "items": [{"item_id": p.item_id, "quantity": p.quantity, "amount": history.money(p.amount_cents),
                   "tax": history.money(p.tax_cents)} for p in refund.items],
        "amount": history.money(refund.amount_cents),
        "tax": history.money(refund.tax_cents),
        "tip": history.money(refund.tip_cents),
        "method": refund.method,
        "reason": refund.reason,
        "drawer_session_id": refund.drawer_session_id,
    }


def _new_payment(user: User, order: Order, method: str, amount: int, tip: int, tendered: int | None,
                 reference: str | None, drawer: DrawerSession | None = None) -> Payment:
    """Record a payment on the locked order and raise its paid and tip totals (no order version change),
    taken into or recorded on the drawer session `drawer` (app/cash/binding.py) when there is one."""
    payment = Payment(
        method=method,
        amount_cents=amount,
        tip_cents=tip,
        tendered_cents=tendered,
        change_cents=pricing.change(tendered, amount, tip),
        reference=reference,
        business_date=refund_business_date(order),
        created_by_id=user.id,
        created_by=user,
        created_at=utcnow(),
    )
    binding.take_payment(drawer, order, payment)
    order.payments.append(payment)
    order.paid_total_cents += amount
    order.tip_total_cents += tip
    order.payment_method = checks.payment_method_of(order.payments, None)
    db.session.flush()
    return payment


def add_payment(user: User, order_id: int, data: dict[str, Any]) -> Order:
    """A payment towards the balance (split checks: several); the order stays open until closed.
    Concurrent payments queue on the order's row lock, so the balance is never overpaid."""
    order = open_for_change(user, order_id)
    balance = pricing.balance_due(order.total_cents, order.paid_total_cents)
    if data["amount"] > balance:
        raise ExceedsBalance(errors={"amount": [f"Must be at most the balance due, {history.money(balance)}."]})
    drawer = binding.session_for(user, order.location_id, data["method"], data.get("drawer_session_id"))
    with changing(order, user, "payment_added") as change:  # its tip counts in the reports
        payment = _new_payment(user, order, data["method"], data["amount"], data.get("tip", 0),
                               data.get("tendered"), data.get("reference"), drawer)
        change.data.update(**describe_payment(payment), balance_due=history.money(order.balance_due_cents))
    return order


def close_order(user: User, order_id: int, payment_method: str | None = None, tip: int = 0,
                drawer_session_id: int | None = None) -> Order:
    """Close an open order. With payment_method (v1): pay the whole balance with it (or a tip-only
    payment when nothing is owed), then close. Without: only when nothing is owed (409 balance_due).
    The close gives the order its folio (gapless per location, in closing order)."""
    order = open_for_change(user, order_id)
    owed = pricing.balance_due(order.total_cents, order.paid_total_cents)
    drawer = None
    if payment_method is not None and (owed > 0 or tip > 0):  # a payment will be recorded
        drawer = binding.session_for(user, order.location_id, payment_method, drawer_session_id)
    with changing(order, user, "closed") as change:
        method = payment_method
        balance = pricing.balance_due(order.total_cents, order.paid_total_cents)
        payment = None
        if method is None:
            if balance > 0:
                raise BalanceDue(balance_due=history.money(balance))
        elif balance > 0 or tip > 0:
            payment = _new_payment(user, order, method, balance, tip, None, None, drawer)
        order.status = "closed"
        order.payment_method = checks.payment_method_of(order.payments, method)
        order.closed_at = utcnow()
        order.folio = counters.take(order.location_id, "folio")  # late: the counter row is locked until commit
        binding.folio_given(order)
        change.data.update(payment=describe_payment(payment) if payment else None,
                           payment_method=order.payment_method, folio=order.folio)
    return order


def _refund(user: User, order: Order, parts: list[tuple[Any, pricing.Refunded]], tip: int, reason: str,
            method: str, *, amount: int | None = None, drawer: DrawerSession | None = None) -> Refund:
    """Record a refund of `parts` (or of `amount` with no lines) and raise the order's refund_total."""
    now = utcnow()
    refund = Refund(
        amount_cents=sum(part.amount for _, part in parts) if amount is None else amount,
        tax_cents=sum(part.tax for _, part in parts),
        tip_cents=tip,
        method=method,
        reason=reason,
        business_date=refund_business_date(order, now),
        local_hour=local_hour(now, _location(order).timezone),
        created_by_id=user.id,
        created_by=user,
        created_at=now,
        items=[RefundItem(item_id=item.id, quantity=part.quantity, amount_cents=part.amount, tax_cents=part.tax)
               for item, part in parts],
    )
    binding.take_refund(drawer, order, refund)
    order.refunds.append(refund)
    order.refund_total_cents += refund.amount_cents
    db.session.flush()
    return refund


def cancel_order(user: User, order_id: int, reason: str, drawer_session_id: int | None = None) -> Order:
    """Cancel an order: waiters their own open ones; a closed order needs a manager or admin and
    refunds every unit not refunded yet, with the payments' tips. Money already paid on an open
    order is refunded as it was paid (no lines, no tax)."""
    order = visible_order(user, order_id, lock=True)
    if order.status == "cancelled":
        raise OrderNotOpen("The order is already cancelled.")
    live = [item for item in order.items if not item.voided]
    approver = None
    if order.status == "closed":
        refuse_early(user, "cancel_closed_order")
    elif any(kitchen.on_ticket(item) for item in live):
        # Lines on a kitchen ticket: a waiter cancelling their own open order needs a void_sent_item approval.
        approver = authorize(user, "void_sent_item", location_id=order.location_id, order_id=order.id)

    def drawer() -> DrawerSession | None:  # only when a refund is made (a cash one needs an open session)
        return binding.session_for(user, order.location_id, default_refund_method(order), drawer_session_id)

    with changing(order, user, "cancelled", approved_by=approver, require_open=False, reason=reason) as change:
        kitchen.void_lines(order, live, user)  # one void ticket per station for what was cooking
        refund = None
        tip = order.tip_total_cents - sum(r.tip_cents for r in order.refunds)
        if order.status == "closed":
            done = checks.refunded_so_far(order)
            parts = []
            for item in order.items:
                already = done.get(item.id, pricing.Refunded())
                if not item.voided and item.quantity > already.quantity:
                    parts.append((item, checks.refund_line(item, item.quantity - already.quantity, already)))
            if parts or tip > 0:
                refund = _refund(user, order, parts, tip, reason, default_refund_method(order), drawer=drawer())
            change.approved_by = authorize(user, "cancel_closed_order", location_id=order.location_id,
                                           order_id=order.id, amount_cents=refund.amount_cents if refund else 0)
        elif order.paid_total_cents > 0 or tip > 0:
            paid_back = order.paid_total_cents - order.refund_total_cents
            refund = _refund(user, order, [], tip, reason, default_refund_method(order), amount=paid_back,
                             drawer=drawer())
        order.status = "cancelled"
        order.cancelled_at = utcnow()
        order.cancel_reason = reason
        change.data["refund"] = describe_refund(refund) if refund else None
    return order


def _refund_parts(order: Order, wanted: list[dict[str, Any]]) -> list[tuple[Any, pricing.Refunded]]:
    """Validate the requested lines and price each part; errors keyed items.N.<field>."""
    items = {item.id: item for item in order.items}
    done = checks.refunded_so_far(order)
    errors: dict[str, list[str]] = {}
    over = False
    seen: set[int] = set()
    parts = []
    for index, line in enumerate(wanted):
        item = items.get(line["item_id"])
        if item is None or item.voided:
            errors[f"items.{index}.item_id"] = ["Unknown line." if item is None else "The line is voided."]
            continue
        if item.id in seen:
            errors[f"items.{index}.item_id"] = ["Refund each line once per request."]
            continue
        seen.add(item.id)
        already = done.get(item.id, pricing.Refunded())
        left = item.quantity - already.quantity
        if line["quantity"] > left:
            errors[f"items.{index}.quantity"] = [f"At most {left} unit(s) of this line are left to refund."]
            over = True
            continue
        parts.append((item, checks.refund_line(item, line["quantity"], already)))
    if errors:
        only_quantity = over and all(key.endswith(".quantity") for key in errors)
        raise (ExceedsRefundableQuantity if only_quantity else ValidationFailed)(errors=errors)
    return parts


def refund(user: User, order_id: int, data: dict[str, Any]) -> Order:
    """Refund units of a closed order's lines (managers and admins; anyone else with a `refund` token for
    the order and, with `max_amount`, at least the refund's amount); tips are never returned here."""
    refuse_early(user, "refund")
    order = visible_order(user, order_id, lock=True)
    if order.status != "closed":
        raise OrderNotOpen("Only a closed order can be refunded.")
    parts = _refund_parts(order, data["items"])
    method = data.get("method") or default_refund_method(order)
    drawer = binding.session_for(user, order.location_id, method, data.get("drawer_session_id"))
    with changing(order, user, "refunded", require_open=False) as change:  # counts on its own business date
        change.approved_by = authorize(user, "refund", location_id=order.location_id, order_id=order.id,
                                       amount_cents=sum(part.amount for _, part in parts))
        made = _refund(user, order, parts, 0, data["reason"], method, drawer=drawer)
        change.data.update(describe_refund(made))
    return order
