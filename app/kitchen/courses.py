"""Firing courses and serving lines: order changes, each through the orders' one unit of work."""

from __future__ import annotations

from collections.abc import Sequence

from app.errors import ValidationFailed
from app.models import Order, User
from app.orders import kitchen
from app.orders.services import open_for_change
from app.orders.unit import changing


def fire(user: User, order_id: int, course: int | None) -> Order:
    """Send every held line of `course` (all held lines without it), with their tickets; event `fired`.
    Nothing held: the order as it is (no version bump, no ticket)."""
    order = open_for_change(user, order_id)
    if not kitchen.held(order, course):
        return order
    with changing(order, user, "fired", course=course) as change:
        items, tickets = kitchen.fire(order, user, course)
        change.data.update(item_ids=[item.id for item in items], ticket_ids=[ticket.id for ticket in tickets])
    return order


def serve(user: User, order_id: int, item_ids: Sequence[int] | None) -> Order:
    """Mark sent or ready lines served (every one without `item_ids`); event `served`. Nothing to mark:
    the order as it is."""
    order = open_for_change(user, order_id)
    if item_ids is not None:
        by_id = {item.id: item for item in order.items}
        errors = {}
        for index, item_id in enumerate(item_ids):
            item = by_id.get(item_id)
            if item is None or item.voided:
                errors[f"item_ids.{index}"] = ["No such line on this order." if item is None else "The line is voided."]
            elif item.kitchen_status == "held":
                errors[f"item_ids.{index}"] = ["The line is held: fire it first."]
        if errors:
            raise ValidationFailed(errors=errors)
    if not [item for item in order.items if (item_ids is None or item.id in item_ids) and not item.voided
            and item.kitchen_status in ("sent", "ready")]:
        return order
    with changing(order, user, "served") as change:
        done = kitchen.served(order, item_ids)
        change.data["item_ids"] = [item.id for item in done]
    return order
