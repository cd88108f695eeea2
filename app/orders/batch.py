"""Offline sync: up to 500 orders, each accepted, recognised as a duplicate or rejected on its own."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import flatten_errors
from app.extensions import db
from app.models import Order, User
from app.models.types import utcnow
from app.orders.lines import Line, resolve_lines
from app.orders.schemas import BatchOrderIn
from app.orders.services import build_order, existing_order_id
from app.reports import rollups

MAX_AHEAD = timedelta(minutes=5)
MAX_BEHIND = timedelta(days=7)


def _rejected(
    client_order_id: Any,
    errors: dict[str, list[str]],
    code: str = "validation_error",
    detail: str = "The order is invalid.",
) -> dict[str, Any]:
    return {
        "client_order_id": client_order_id if isinstance(client_order_id, str) else None,
        "status": "rejected",
        "error": {
            "status": 422 if code == "validation_error" else 409,
            "code": code,
            "detail": detail,
            "errors": errors,
        },
    }


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
        cid = raw.get("client_order_id") if isinstance(raw, dict) else None
        if not isinstance(raw, dict):
            results[index] = _rejected(None, {"_schema": ["Each order must be a JSON object."]})
            continue
        try:
            data = schema.load(raw)
        except ValidationError as exc:
            results[index] = _rejected(cid, flatten_errors(exc.messages))
            continue
        errors = _check_created_at(data.get("created_at"), now)
        if errors:
            results[index] = _rejected(cid, errors)
            continue
        valid.append((index, data))
    return valid


def _insert_all(waiter: User, todo: list[tuple[int, dict, list[Line]]], now: datetime) -> dict[int, Order]:
    """One bulk flush; if a concurrent writer took a client_order_id meanwhile, fall back to one savepoint each."""
    orders = {i: build_order(waiter, data, lines, data.get("created_at") or now) for i, data, lines in todo}
    try:
        with db.session.begin_nested():
            db.session.add_all(orders.values())
            db.session.flush()
        return orders
    except IntegrityError:
        pass
    created: dict[int, Order] = {}
    for index, data, lines in todo:
        order = build_order(waiter, data, lines, data.get("created_at") or now)
        try:
            with db.session.begin_nested():
                db.session.add(order)
                db.session.flush()
            created[index] = order
        except IntegrityError:
            continue  # reported as a duplicate by the caller
    return created


def sync_batch(waiter: User, raw_orders: list[Any]) -> list[dict[str, Any]]:
    """Create the orders not seen before; results come back in input order."""
    now = utcnow()
    results: list[dict[str, Any] | None] = [None] * len(raw_orders)
    valid = _validate(raw_orders, now, results)

    cids = [data["client_order_id"] for _, data in valid]
    known = (
        dict(db.session.execute(select(Order.client_order_id, Order.id).where(Order.client_order_id.in_(cids))).all())
        if cids
        else {}
    )
    first_in_batch: dict[str, int] = {}
    fresh: list[tuple[int, dict[str, Any]]] = []
    repeats: list[tuple[int, str]] = []
    for index, data in valid:
        cid = data["client_order_id"]
        if cid in known:
            results[index] = {"client_order_id": cid, "status": "duplicate", "id": known[cid]}
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

    created = _insert_all(waiter, todo, now) if todo else {}
    rollups.record([(None, rollups.contribution(order)) for order in created.values()])
    for index, data, _ in todo:
        cid = data["client_order_id"]
        if index in created:
            results[index] = {"client_order_id": cid, "status": "created", "id": created[index].id}
        else:
            results[index] = {"client_order_id": cid, "status": "duplicate", "id": existing_order_id(cid)}
    for index, cid in repeats:
        first = results[first_in_batch[cid]]
        if first and first["status"] in ("created", "duplicate"):
            results[index] = {"client_order_id": cid, "status": "duplicate", "id": first["id"]}
        else:
            results[index] = _rejected(
                cid,
                {"client_order_id": ["Repeats an earlier order of this batch."]},
                code="duplicate_client_order_id",
                detail="Repeats an earlier order.",
            )
    return results  # type: ignore[return-value]
