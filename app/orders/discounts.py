"""Discounts on a line or on the whole order: managers and admins, open orders only."""

from __future__ import annotations

from typing import Any

from app.auth.approvals import authorize, refuse_early
from app.columns import utcnow
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Discount, Order, User
from app.orders import checks, history
from app.orders.services import open_for_change
from app.orders.unit import changing


def describe(discount: Discount) -> dict[str, Any]:
    """What an event says about a discount."""
    percent = checks.percent_from_thousandths(discount.percent_thousandths)
    return {
        "discount_id": discount.id,
        "item_id": discount.item_id,
        "percent": None if percent is None else format(percent, "f"),
        "amount": history.money(discount.amount_cents),
        "applied": history.money(discount.applied_cents),
        "reason": discount.reason,
    }


def add_discount(user: User, order_id: int, data: dict[str, Any]) -> Order:
    """Add a line or order discount and price the order again; 409 total_below_paid if it would owe
    less than was paid. Managers and admins; anyone else with a `discount` approval token for the
    order (and, with `max_amount`, for at least the discount's `applied`)."""
    refuse_early(user, "discount")
    order = open_for_change(user, order_id)
    item_id = data.get("item_id")
    if item_id is not None:
        item = next((item for item in order.items if item.id == item_id), None)
        if item is None or item.voided:
            raise ValidationFailed(errors={"item_id": ["Unknown line." if item is None else "The line is voided."]})
    with changing(order, user, "discount_added") as change:
        discount = Discount(
            item_id=item_id,
            percent_thousandths=checks.thousandths_from_percent(data.get("percent")),
            amount_cents=data.get("amount"),
            reason=data["reason"],
            created_by_id=user.id,
            created_by=user,
            created_at=utcnow(),
        )
        order.discounts.append(discount)
        db.session.flush()
        checks.reprice_not_below_paid(order)
        change.approved_by = authorize(user, "discount", location_id=order.location_id, order_id=order.id,
                                       amount_cents=discount.applied_cents)
        change.data.update(**describe(discount), total=history.money(order.total_cents))
    return order


def remove_discount(user: User, order_id: int, discount_id: int) -> Order:
    """Remove a discount (kept, marked removed: it takes nothing off) and price the order again; like
    adding one, with a `discount` token for anyone else (amount: the applied it had)."""
    refuse_early(user, "discount")
    order = open_for_change(user, order_id)
    discount = next((d for d in order.active_discounts if d.id == discount_id), None)
    if discount is None:
        raise NotFound("No such discount on this order.")
    with changing(order, user, "discount_removed") as change:
        change.approved_by = authorize(user, "discount", location_id=order.location_id, order_id=order.id,
                                       amount_cents=discount.applied_cents)
        discount.removed_at = utcnow()
        discount.removed_by_id = user.id
        checks.reprice(order)
        change.data.update(**describe(discount), total=history.money(order.total_cents))
    return order
