"""Order rules: create, append, void, patch, close, cancel. Services flush; the request commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from app.auth.permissions import OrderLocations, default_location, is_staff, scope_orders, visible_location
from app.business_time import business_date, local_hour
from app.columns import utcnow
from app.errors import Conflict, ErrorCode, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from app.extensions import db
from app.models import Location, Order, OrderItem, User
from app.orders.lines import Line, resolve_lines
from app.reports import rollups
from app.web.pagination import paginate


class OrderNotOpen(Conflict):
    code, detail = ErrorCode.ORDER_NOT_OPEN, "The order is closed or cancelled."


class DuplicateClientOrderId(Conflict):
    code, detail = ErrorCode.DUPLICATE_CLIENT_ORDER_ID, "An order with this client_order_id already exists."


def order_row(
    waiter: User, data: dict[str, Any], lines: list[Line], created_at: datetime, location: Location
) -> dict[str, Any]:
    """Column values of a new open order with its totals; its business date and local hour come from its
    location's clock and it keeps the location's tax settings, all computed once, here."""
    total_cents, item_count = totals(lines)
    return {
        "client_order_id": data.get("client_order_id"),
        "customer_name": data["customer_name"],
        "table_label": data.get("table"),
        "notes": data.get("notes"),
        "status": "open",
        "waiter_id": waiter.id,
        "location_id": location.id,
        "tax_rate_thousandths": location.tax_rate_thousandths,
        "prices_include_tax": location.prices_include_tax,
        "total_cents": total_cents,
        "item_count": item_count,
        "business_date": business_date(created_at, location.timezone, location.day_starts_at),
        "local_hour": local_hour(created_at, location.timezone),
        "created_at": created_at,
        "updated_at": utcnow(),
        "version": 1,
    }


def build_order(
    waiter: User, data: dict[str, Any], lines: list[Line], created_at: datetime, location: Location | None = None
) -> Order:
    """A new open order with its lines and totals (at the default location unless given), not yet added
    to the session and not yet in the rollups (tests and imports)."""
    row = order_row(waiter, data, lines, created_at, location or default_location())
    return Order(**row, waiter=waiter, items=[line.to_item() for line in lines])


def _insert_lines(order: Order, lines: list[Line]) -> None:
    """All lines in one INSERT whatever their number (the ORM would send one per row on SQLite),
    then the order's lines are read back once."""
    db.session.execute(insert(OrderItem.__table__), [{**line.row(), "order_id": order.id} for line in lines])
    db.session.refresh(order, attribute_names=["items"])


def totals(lines: Iterable[Line | OrderItem]) -> tuple[int, int]:
    """(total in cents, item count) of the non-voided lines: exact integer arithmetic."""
    live = [line for line in lines if not line.voided]
    return sum(line.unit_price_cents * line.quantity for line in live), sum(line.quantity for line in live)


def recompute_totals(order: Order) -> None:
    """Store the order's total and item_count from its lines."""
    order.total_cents, order.item_count = totals(order.items)


def _touch(order: Order) -> None:
    order.version += 1
    order.updated_at = utcnow()


def ids_by_client_order_id(user: User, client_order_ids: list[str]) -> dict[str, int | None]:
    """The orders that already have these client_order_ids: client_order_id -> the id, or None when
    `user` may not see that order (another waiter's, another location's), whose id must not leak."""
    if not client_order_ids:
        return {}
    wanted = Order.client_order_id.in_(client_order_ids)
    found = {cid: oid for cid, oid in db.session.execute(select(Order.client_order_id, Order.id).where(wanted))}
    visible = set(db.session.scalars(scope_orders(user, select(Order.id).where(wanted))))
    return {cid: oid if oid in visible else None for cid, oid in found.items() if cid is not None}


def resolve_or_raise(lines: list[dict[str, Any]]) -> list[Line]:
    resolved, errors = resolve_lines([lines])[0]
    if errors:
        raise ValidationFailed(errors=errors)
    return resolved


def create_order(waiter: User, data: dict[str, Any], *, created_at: datetime | None = None) -> Order:
    """Create an open order for `waiter` at the location the body names (or the caller's only one, or for
    admins the default), taken now or at `created_at` for imports and tests; a repeated
    client_order_id is 409, with the existing id when the waiter may see that order."""
    location = OrderLocations(waiter).choose(data.get("location_id"))
    lines = resolve_or_raise(data["items"])
    order = Order(**order_row(waiter, data, lines, created_at or utcnow(), location), waiter=waiter)
    with rollups.tracking() as changes:
        try:
            # Added inside the savepoint (begin_nested flushes what is already pending), so a
            # concurrent twin's unique violation rolls back only this insert.
            with db.session.begin_nested():
                db.session.add(order)
                db.session.flush()
        except IntegrityError:
            cid = data.get("client_order_id")
            existing = ids_by_client_order_id(waiter, [cid]) if cid else {}
            if cid not in existing:
                raise
            order_id = existing[cid]  # None: an order the waiter may not see, the same 409 without its id
            if order_id is None:
                raise DuplicateClientOrderId() from None
            raise DuplicateClientOrderId(order_id=order_id) from None
        _insert_lines(order, lines)
        changes.created(order)
    return order


def visible_order(user: User, order_id: int, *, lock: bool = False) -> Order:
    """The order if `user` may see it (app/auth/permissions.py; others' are 404), optionally row-locked."""
    stmt = scope_orders(user, select(Order).where(Order.id == order_id).execution_options(populate_existing=True))
    if lock:
        stmt = stmt.with_for_update(of=Order)
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFound("No such order.")
    return order


def _open_for_change(user: User, order_id: int) -> Order:
    order = visible_order(user, order_id, lock=True)
    if order.status != "open":
        raise OrderNotOpen()
    return order


def list_orders(user: User, args: dict[str, Any]) -> tuple[list[Order], str | None]:
    """Orders newest first; waiters see their own, managers their locations' (a foreign location_id is 404)."""
    stmt = scope_orders(user, select(Order))
    if args.get("location_id") is not None:
        stmt = stmt.where(Order.location_id == visible_location(user, args["location_id"]).id)
    if args.get("waiter_id") is not None:
        stmt = stmt.where(Order.waiter_id == args["waiter_id"])
    if args.get("status"):
        stmt = stmt.where(Order.status == args["status"])
    if args.get("start_date"):
        stmt = stmt.where(Order.business_date >= args["start_date"])
    if args.get("end_date"):
        stmt = stmt.where(Order.business_date <= args["end_date"])
    if args.get("client_order_id"):
        stmt = stmt.where(Order.client_order_id == args["client_order_id"])
    return paginate(stmt, (Order.created_at, Order.id), limit=args["limit"], cursor=args["cursor"])


def append_items(user: User, order_id: int, lines: list[dict[str, Any]]) -> Order:
    """Add lines to an open order. Concurrent appends queue on the row lock; none is lost."""
    order = _open_for_change(user, order_id)
    resolved = resolve_or_raise(lines)
    with rollups.tracking(order):
        _insert_lines(order, resolved)
        recompute_totals(order)
        _touch(order)
    return order


def void_item(user: User, order_id: int, item_id: int) -> Order:
    """Void a line (kept, flagged, excluded from totals). Voiding a voided line changes nothing."""
    order = _open_for_change(user, order_id)
    item = next((item for item in order.items if item.id == item_id), None)
    if item is None:
        raise NotFound("No such line on this order.")
    if item.voided:
        return order
    with rollups.tracking(order):
        item.voided = True
        item.voided_at = utcnow()
        recompute_totals(order)
        _touch(order)
    return order


def patch_order(user: User, order_id: int, data: dict[str, Any], expected: int | None) -> Order:
    """Change customer_name, table or notes, only if `expected` is the current version (None: any version)."""
    order = visible_order(user, order_id, lock=True)
    if expected is not None and expected != order.version:
        raise PreconditionFailed(current_version=order.version)
    if order.status != "open":
        raise OrderNotOpen()
    with rollups.tracking(order):  # changes no figure today; every order change goes through it all the same
        for field, attr in (("customer_name", "customer_name"), ("table", "table_label"), ("notes", "notes")):
            if field in data:
                setattr(order, attr, data[field])
        _touch(order)
    return order


def close_order(user: User, order_id: int, payment_method: str) -> Order:
    """Close (pay) an open order."""
    order = _open_for_change(user, order_id)
    with rollups.tracking(order):
        order.status = "closed"
        order.payment_method = payment_method
        order.closed_at = utcnow()
        _touch(order)
    return order


def cancel_order(user: User, order_id: int, reason: str) -> Order:
    """Cancel an order: waiters their own open ones; a closed order needs a manager or admin."""
    order = visible_order(user, order_id, lock=True)
    if order.status == "cancelled":
        raise OrderNotOpen("The order is already cancelled.")
    if order.status == "closed" and not is_staff(user):
        raise Forbidden("Only a manager or admin may cancel a closed order.")
    with rollups.tracking(order):
        order.status = "cancelled"
        order.cancelled_at = utcnow()
        order.cancel_reason = reason
        _touch(order)
    return order
