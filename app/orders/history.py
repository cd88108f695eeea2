"""Order history: every change appends exactly one event, in the transaction of the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from app.columns import utcnow
from app.extensions import db
from app.models import EVENT_TYPES, Order, OrderEvent, User
from app.money import cents_to_str
from app.reports import rollups
from app.web.pagination import paginate


def event_row(order_id: int, version: int, actor_id: int, type_: str, data: dict[str, Any]) -> dict[str, Any]:
    """Column values of one event; `data` gains the order's version after the change."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    return {"order_id": order_id, "type": type_, "actor_id": actor_id, "at": utcnow(),
            "data": {**data, "version": version}}


def record(order: Order, actor: User, type_: str, *, tracked: rollups.Changes | None = None, **data: Any) -> None:
    """Append one event for the change just made to `order` (call after its version was raised); with
    `tracked`, the changes of the rollups' tracking block, it is written with the block's rollup deltas (one
    statement on PostgreSQL) instead of on its own."""
    rows = [event_row(order.id, order.version, actor.id, type_, data)]
    if tracked is not None:
        tracked.write_with(OrderEvent.__table__, rows)
    else:
        record_many(rows)


def record_many(rows: list[dict[str, Any]]) -> None:
    """Append many events in one INSERT (batch sync)."""
    if rows:
        db.session.execute(insert(OrderEvent.__table__), rows)


def money(cents: int | None) -> str | None:
    return None if cents is None else cents_to_str(cents)


def list_events(order: Order, args: dict[str, Any]) -> tuple[list[OrderEvent], str | None]:
    """The order's events, oldest first."""
    stmt = select(OrderEvent).where(OrderEvent.order_id == order.id)
    return paginate(stmt, (OrderEvent.id,), limit=args["limit"], cursor=args["cursor"], descending=False)
