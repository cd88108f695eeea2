"""Offline sync: up to 500 orders, each accepted, recognised as a duplicate or rejected on its own.

Validation and product lookup happen in Python and in bulk; the writes are a handful of bulk
statements whatever the batch size: one INSERT ... ON CONFLICT (client_order_id) DO NOTHING
RETURNING for the orders (a concurrent writer's twin is simply not inserted and reported as a
duplicate), one INSERT for the lines, one per rollup table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import insert

from app.database import insert_for_dialect
from app.errors import flatten_errors
from app.extensions import db
from app.models import Order, OrderItem, User
from app.models.types import utcnow
from app.orders import history
from app.orders.lines import Line, resolve_lines
from app.orders.schemas import BatchOrderIn
from app.orders.services import ids_by_client_order_id, order_row, price_new_order
from app.reports import rollups

MAX_AHEAD = timedelta(minutes=5)
MAX_BEHIND = timedelta(days=7)


@dataclass(frozen=True)
class NewOrder:
    """A freshly inserted order as rollups.contribution() reads it."""

    waiter_id: int
    business_date: date
    local_hour: datetime
    items: list[Line]
    status: str = "open"


def _rejected(
    client_order_id: Any,
    errors: dict[str, list[str]],
    code: str = "validation_error",
    detail: str = "The order is invalid.",
) -> dict[str, Any]:
    status = 422 if code == "validation_error" else 409
    return {
        "client_order_id": client_order_id if isinstance(client_order_id, str) else None,
        "status": "rejected",
        "error": {"status": status, "code": code, "detail": detail, "errors": errors},
    }


def _duplicate(client_order_id: str, order_id: int | None) -> dict[str, Any]:
    return {"client_order_id": client_order_id, "status": "duplicate", "id": order_id}


def _check_created_at(created_at: datetime | None, now: datetime) -> dict[str, list[str]]:
    if created_at is None:
        return {}
    if created_at > now + MAX_AHEAD:
        return {"created_at": ["Must not be more than 5 minutes in the future."]}
    if created_at < now - MAX_BEHIND:
        return {"created_at": ["Must not be more than 7 days in the past."]}
    return {}


def _validate(raw_orders: list[Any], now: datetime, results: list) -> list[tuple[int, dict[str, Any]]]:
    valid = []
    schema = BatchOrderIn()
    for index, raw in enumerate(raw_orders):
        if not isinstance(raw, dict):
            results[index] = _rejected(None, {"_schema": ["Each order must be a JSON object."]})
            continue
        try:
            data = schema.load(raw)
        except ValidationError as exc:
            results[index] = _rejected(raw.get("client_order_id"), flatten_errors(exc.messages))
            continue
        errors = _check_created_at(data.get("created_at"), now)
        if errors:
            results[index] = _rejected(data["client_order_id"], errors)
            continue
        valid.append((index, data))
    return valid


def _insert(waiter: User, todo: list[tuple[int, dict[str, Any], list[Line]]], now: datetime) -> dict[str, int]:
    """Bulk-insert the orders, their lines and rollup deltas; returns client_order_id -> id of those inserted."""
    # Sorted by client_order_id, so overlapping batches racing each other lock rows in the same order.
    todo = sorted(todo, key=lambda entry: entry[1]["client_order_id"])
    todo = [(index, data, *price_new_order(waiter, data, lines)) for index, data, lines in todo]
    rows = [order_row(waiter, data, lines, money, data.get("created_at") or now) for _, data, lines, money in todo]
    orders = Order.__table__
    stmt = (
        insert_for_dialect(orders)
        .on_conflict_do_nothing(index_elements=["client_order_id"])
        .returning(orders.c.id, orders.c.client_order_id)
    )
    inserted = {cid: order_id for order_id, cid in db.session.execute(stmt, rows)}
    item_rows, created, events = [], [], []
    for row, (_, data, lines, _money) in zip(rows, todo, strict=True):
        order_id = inserted.get(data["client_order_id"])
        if order_id is None:
            continue
        item_rows += [{**line.row(), "order_id": order_id} for line in lines]
        created.append(NewOrder(waiter.id, row["business_date"], row["local_hour"], lines))
        events.append((order_id, row["total_cents"]))
    if item_rows:
        items = OrderItem.__table__
        item_ids: dict[int, list[int]] = {}
        for item_id, order_id in db.session.execute(insert(items).returning(items.c.id, items.c.order_id), item_rows):
            item_ids.setdefault(order_id, []).append(item_id)
        history.record_many([
            history.event_row(order_id, 1, waiter.id, "created",
                              {"item_ids": sorted(item_ids[order_id]), "total": history.money(total)})
            for order_id, total in events
        ])
    rollups.record([(None, rollups.contribution(order)) for order in created])
    return inserted


def sync_batch(waiter: User, raw_orders: list[Any]) -> list[dict[str, Any]]:
    """Create the orders not seen before; results come back in input order."""
    now = utcnow()
    results: list[dict[str, Any] | None] = [None] * len(raw_orders)
    valid = _validate(raw_orders, now, results)

    known = ids_by_client_order_id([data["client_order_id"] for _, data in valid])
    first_in_batch: dict[str, int] = {}
    fresh: list[tuple[int, dict[str, Any]]] = []
    repeats: list[tuple[int, str]] = []
    for index, data in valid:
        cid = data["client_order_id"]
        if cid in known:
            results[index] = _duplicate(cid, known[cid])
        elif cid in first_in_batch:
            repeats.append((index, cid))
        else:
            first_in_batch[cid] = index
            fresh.append((index, data))

    todo = []
    for (index, data), (lines, errors) in zip(fresh, resolve_lines([d["items"] for _, d in fresh]), strict=True):
        if errors:
            results[index] = _rejected(data["client_order_id"], errors)
        else:
            todo.append((index, data, lines))

    inserted = _insert(waiter, todo, now) if todo else {}
    lost = [data["client_order_id"] for _, data, _ in todo if data["client_order_id"] not in inserted]
    raced = ids_by_client_order_id(lost)  # a concurrent request stored these first
    for index, data, _ in todo:
        cid = data["client_order_id"]
        results[index] = (
            {"client_order_id": cid, "status": "created", "id": inserted[cid]}
            if cid in inserted
            else _duplicate(cid, raced.get(cid))  # a concurrent request stored it first
        )
    for index, cid in repeats:
        first = results[first_in_batch[cid]]
        if first and first["status"] in ("created", "duplicate"):
            results[index] = _duplicate(cid, first["id"])
        else:
            results[index] = _rejected(
                cid,
                {"client_order_id": ["Repeats an earlier order of this batch."]},
                code="duplicate_client_order_id",
                detail="Repeats an earlier order.",
            )
    return results  # type: ignore[return-value]
