"""Offline sync: up to 500 orders, each accepted, recognised as a duplicate or rejected on its own.

Validation and product lookup happen in Python and in bulk; the writes are a handful of bulk
statements whatever the batch size: one INSERT ... ON CONFLICT (client_order_id) DO NOTHING
RETURNING for the orders (a concurrent writer's twin is simply not inserted and reported as a
duplicate), one INSERT for the lines, one per rollup table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import insert, select

from app.auth.permissions import OrderLocations
from app.business_time import business_date
from app.cash import days
from app.columns import utcnow
from app.database import insert_for_dialect
from app.errors import APIError, ErrorCode, flatten_errors
from app.extensions import db
from app.fields import text_problems
from app.models import Order, OrderItem, User
from app.orders import history, kitchen
from app.orders.lines import Line, resolve_lines
from app.orders.schemas import BatchOrderIn
from app.orders.services import ids_by_client_order_id, order_row, price_new_order
from app.orders.unit import creating_many
from app.tables.services import tables_by_id

MAX_AHEAD = timedelta(minutes=5)
MAX_BEHIND = timedelta(days=7)


@dataclass(frozen=True)
class NewOrder:
    """A freshly inserted order, as the rollups read it."""

    waiter_id: int
    location_id: int
    business_date: date
    local_hour: datetime
    items: list[Line]
    status: str = "open"


def _rejected(
    client_order_id: Any,
    errors: dict[str, list[str]],
    code: ErrorCode = ErrorCode.VALIDATION_ERROR,
    detail: str = "The order is invalid.",
) -> dict[str, Any]:
    status = 422 if code == ErrorCode.VALIDATION_ERROR else 409
    return {
        "client_order_id": client_order_id if isinstance(client_order_id, str) else None,
        "status": "rejected",
        "error": {"status": status, "code": code, "detail": detail, "errors": errors},
    }


def _duplicate(client_order_id: str, order_id: int | None) -> dict[str, Any]:
    """A duplicate result; `id` only when the caller may see that order (never another waiter's)."""
    result: dict[str, Any] = {"client_order_id": client_order_id, "status": "duplicate"}
    if order_id is not None:
        result["id"] = order_id
    return result


def _check_created_at(created_at: datetime | None, now: datetime) -> dict[str, list[str]]:
    if created_at is None:
        return {}
    if created_at > now + MAX_AHEAD:
        return {"created_at": ["Must not be more than 5 minutes in the future."]}
    if created_at < now - MAX_BEHIND:
        return {"created_at": ["Must not be more than 7 days in the past."]}
    return {}


def _validate(
    raw_orders: list[Any], now: datetime, results: list, places: OrderLocations
) -> list[tuple[int, dict[str, Any]]]:
    """The orders that pass the schema, the time window and the location rules, each with its location."""
    valid = []
    schema = BatchOrderIn()
    for index, raw in enumerate(raw_orders):
        if not isinstance(raw, dict):
            results[index] = _rejected(None, {"_schema": ["Each order must be a JSON object."]})
            continue
        bad_text = text_problems(raw)  # the body gate leaves the orders to us, so one bad order is rejected alone
        if bad_text:
            cid = raw.get("client_order_id")
            results[index] = _rejected(cid if "client_order_id" not in bad_text else None, bad_text)
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
        try:
            data["location"] = places.choose(data.get("location_id"))
        except APIError as exc:
            results[index] = _rejected(data["client_order_id"], exc.errors or {})
            continue
        valid.append((index, data))
    return valid


def _with_tables(valid: list[tuple[int, dict[str, Any]]], results: list) -> list[tuple[int, dict[str, Any]]]:
    """The orders whose table_id (if any) is an active table of their location, each with its table;
    the others are rejected (422 on table_id), alone. One query for every table of the batch."""
    tables = tables_by_id([data["table_id"] for _, data in valid if data.get("table_id") is not None])
    kept = []
    for index, data in valid:
        if data.get("table_id") is None:
            kept.append((index, data))
            continue
        table = tables.get(data["table_id"])
        if table is None or table.location_id != data["location"].id or not table.active:
            reason = "The table is inactive and takes no new orders." if table is not None and \
                table.location_id == data["location"].id else "Unknown table, or one of another location."
            results[index] = _rejected(data["client_order_id"], {"table_id": [reason]})
            continue
        kept.append((index, {**data, "table_row": table}))
    return kept


def insert_orders(waiter: User, todo: list[tuple[int, dict[str, Any], list[Line]]], now: datetime) -> dict[str, int]:
    """Bulk-insert the orders, their lines and rollup deltas; returns client_order_id -> id of those inserted.

    Each order goes to `data["location"]` (chosen by _validate), else to the one its location_id names.
    """
    # Sorted by client_order_id, so overlapping batches racing each other lock rows in the same order.
    todo = sorted(todo, key=lambda entry: entry[1]["client_order_id"])
    places = OrderLocations(waiter) if any("location" not in data for _, data, _ in todo) else None
    chosen = [(index, data, data.get("location") or places.choose(data.get("location_id")),  # type: ignore[union-attr]
               kitchen.plan(lines, hold=data.get("hold", False))) for index, data, lines in todo]
    routed = _route(chosen)
    priced = []
    for (index, data, location, _), lines in zip(chosen, routed, strict=True):
        priced.append((index, data, location, *price_new_order(lines, location)))
    rows = [order_row(waiter, data, lines, money, data.get("created_at") or now, location)
            for _, data, location, lines, money in priced]
    orders = Order.__table__
    stmt = (
        insert_for_dialect(orders)
        .on_conflict_do_nothing(index_elements=["client_order_id"])
        .returning(orders.c.id, orders.c.client_order_id)
    )
    with creating_many(waiter) as batch:
        inserted = {cid: order_id for order_id, cid in db.session.execute(stmt, rows)}
        item_rows, created = [], []
        for row, (_, data, _location, lines, _money) in zip(rows, priced, strict=True):
            order_id = inserted.get(data["client_order_id"])
            if order_id is None:
                continue
            item_rows += [{**line.row(), "order_id": order_id} for line in lines]
            created.append((order_id, row, lines))
        item_ids: dict[int, list[int]] = {}
        if item_rows:
            items = OrderItem.__table__
            returning = insert(items).returning(items.c.id, items.c.order_id)
            for item_id, order_id in db.session.execute(returning, item_rows):
                item_ids.setdefault(order_id, []).append(item_id)
        for order_id, row, lines in created:
            batch.add(order_id, NewOrder(waiter.id, row["location_id"], row["business_date"], row["local_hour"], lines),
                      item_ids=sorted(item_ids.get(order_id, [])), total=history.money(row["total_cents"]))
        if any(line.station_id is not None for _, _, lines in created for line in lines):
            _send(waiter, [order_id for order_id, _, _ in created])
    return inserted


def _route(chosen: list[tuple[int, dict[str, Any], Any, list[Line]]]) -> list[list[Line]]:
    """Each order's lines with the station that receives the ones sent now: one query per location."""
    wanted: dict[int, dict[int, str | None]] = {}
    for _, _, location, lines in chosen:
        wanted.setdefault(location.id, {}).update(kitchen.sent_now(lines))
    stations = {location_id: kitchen.stations_for(location_id, ids) for location_id, ids in wanted.items()}
    return [[replace(line, station_id=stations[location.id].get(line.product_id))
             if line.kitchen_status == "sent" and line.product_id is not None else line for line in lines]
            for _, _, location, lines in chosen]


def _send(waiter: User, order_ids: list[int]) -> None:
    """The kitchen tickets of the new orders whose sent lines a station receives."""
    orders = {order.id: order for order in db.session.scalars(select(Order).where(Order.id.in_(order_ids)))}
    for order_id in sorted(orders):
        kitchen.send_new(orders[order_id], orders[order_id].items, waiter)


def _not_into_closed_days(todo: list, now: datetime, results: list) -> list:
    """Reject (409 business_day_closed) the orders whose business date is closed at their location."""
    dated = [(entry, (entry[1]["location"].id, business_date(entry[1].get("created_at") or now,
                                                             entry[1]["location"].timezone,
                                                             entry[1]["location"].day_starts_at)))
             for entry in todo]
    closed = days.closed_days({key for _, key in dated})
    kept = []
    for (index, data, lines), key in dated:
        if key in closed:
            results[index] = _rejected(data["client_order_id"], {}, code=ErrorCode.BUSINESS_DAY_CLOSED,
                                       detail="That business date is closed at this location.")
        else:
            kept.append((index, data, lines))
    return kept


def sync_batch(waiter: User, raw_orders: list[Any]) -> list[dict[str, Any]]:
    """Create the orders not seen before; results come back in input order."""
    now = utcnow()
    results: list[dict[str, Any] | None] = [None] * len(raw_orders)
    valid = _with_tables(_validate(raw_orders, now, results, OrderLocations(waiter)), results)

    known = ids_by_client_order_id(waiter, [data["client_order_id"] for _, data in valid])
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
    todo = _not_into_closed_days(todo, now, results)

    inserted = insert_orders(waiter, todo, now) if todo else {}
    lost = [data["client_order_id"] for _, data, _ in todo if data["client_order_id"] not in inserted]
    raced = ids_by_client_order_id(waiter, lost)  # a concurrent request stored these first
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
            results[index] = _duplicate(cid, first.get("id"))
        else:
            results[index] = _rejected(
                cid,
                {"client_order_id": ["Repeats an earlier order of this batch."]},
                code=ErrorCode.DUPLICATE_CLIENT_ORDER_ID,
                detail="Repeats an earlier order.",
            )
    return results  # type: ignore[return-value]
