"""Order history: every change appends exactly one event, in the transaction of the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app import outbox
from app.columns import utcnow
from app.figures import rollups
from app.models import EVENT_TYPES, Order, OrderEvent, User
from app.money import cents_to_str
from app.web.pagination import paginate


def event_row(order_id: int, version: int, actor_id: int, type_: str, data: dict[str, Any],
              approved_by_id: int | None = None) -> dict[str, Any]:
    """Column values of one event; `data` gains the order's version after the change."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    return {"order_id": order_id, "type": type_, "actor_id": actor_id, "at": utcnow(),
            "data": {**data, "version": version}, "approved_by_id": approved_by_id}


def record(order: Order, actor: User, type_: str, *, tracked: rollups.Changes,
           approved_by: User | None = None, **data: Any) -> None:
    """Append one event for the change just made to `order` (call after its version was raised); with
    `tracked`, the changes of the rollups' tracking block, it is written with the block's rollup deltas (one
    statement on PostgreSQL). Its change-feed event is staged from the same row (app/outbox.py). Only
    app/orders/unit.py calls it."""
    rows = [event_row(order.id, order.version, actor.id, type_, data, approved_by.id if approved_by else None)]
    tracked.write_with(OrderEvent.__table__, rows)
    outbox.publish_rows([feed_row(order.location_id, rows[0])])


def record_created(actor: User, created: list[tuple[int, dict[str, Any]]], tracked: rollups.Changes,
                   locations: list[int]) -> None:
    """The `created` events of orders inserted in bulk (version 1), written with the rollup deltas, and
    their feed events (`locations`: each order's location). Only app/orders/unit.py calls it."""
    rows = [event_row(order_id, 1, actor.id, "created", data) for order_id, data in created]
    tracked.write_with(OrderEvent.__table__, rows)
    outbox.publish_rows([feed_row(location_id, row) for (location_id, row) in zip(locations, rows, strict=True)])


def feed_row(location_id: int, row: dict[str, Any]) -> dict[str, Any]:
    """The change-feed event of a history event: its type prefixed `order.`, the same data, time and people."""
    return {"location_id": location_id, "type": f"order.{row['type']}", "subject_type": "order",
            "subject_id": row["order_id"], "subject_version": row["data"]["version"], "actor_id": row["actor_id"],
            "approved_by_id": row["approved_by_id"], "occurred_at": row["at"], "data": row["data"]}


def money(cents: int | None) -> str | None:
    return None if cents is None else cents_to_str(cents)


def list_events(order: Order, args: dict[str, Any]) -> tuple[list[OrderEvent], str | None]:
    """The order's events, oldest first."""
    stmt = select(OrderEvent).where(OrderEvent.order_id == order.id)
    return paginate(stmt, (OrderEvent.id,), limit=args["limit"], cursor=args["cursor"], descending=False)
