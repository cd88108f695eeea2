"""Order rules: create, append, void, patch. Services flush; the request commits.

Every change goes through the one unit of work, app/orders/unit.py (version + 1, one history event, rollups);
every money figure comes from the pricing function through app/orders/checks.py."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.approvals import authorize
from app.auth.permissions import OrderLocations, default_location, scope_orders, visible_location
from app.business_time import business_date, local_hour
from app.cash import days
from app.columns import utcnow
from app.database import dialect_name, insert_returning
from app.errors import Conflict, ErrorCode, NotFound, PreconditionFailed, ValidationFailed
from app.extensions import db
from app.models import Location, Order, OrderItem, User
from app.orders import checks, history, kitchen
from app.orders.lines import Line, resolve_lines
from app.orders.unit import OrderNotOpen, changing, creating
from app.tables.services import table_for_order
from app.web.pagination import paginate


class DuplicateClientOrderId(Conflict):
    code, detail = ErrorCode.DUPLICATE_CLIENT_ORDER_ID, "An order with this client_order_id already exists."


def price_new_order(lines: list[Line], location: Location) -> tuple[list[Line], dict[str, Any]]:
    """A new order's priced lines and money columns, with the tax snapshot of its location."""
    rate, prices_include_tax = location.tax_rate_thousandths, location.prices_include_tax
    priced, figures = checks.price_lines(checks.with_tax_rates(lines, rate), [], prices_include_tax)
    money = {**checks.order_totals(figures), "tax_rate_thousandths": rate, "prices_include_tax": prices_include_tax}
    return priced, money


def order_row(
    waiter: User, data: dict[str, Any], lines: list[Line], money: dict[str, Any], created_at: datetime,
    location: Location,
) -> dict[str, Any]:
    """Column values of a new open order with its money (from price_new_order); its business date and
    local hour come from its location's clock, computed once, here."""
    return {
        "client_order_id": data.get("client_order_id"),
        "customer_name": data["customer_name"],
        "table_label": data["table_row"].name if data.get("table_row") is not None else data.get("table"),
        "table_id": data.get("table_id"),
        "guest_count": data.get("guest_count"),
        "notes": data.get("notes"),
        "status": "open",
        "waiter_id": waiter.id,
        "location_id": location.id,
        **money,
        "item_count": sum(line.quantity for line in lines),
        "business_date": business_date(created_at, location.timezone, location.day_starts_at),
        "local_hour": local_hour(created_at, location.timezone),
        "created_at": created_at,
        "updated_at": utcnow(),
        "version": 1,
    }


def build_order(
    waiter: User, data: dict[str, Any], lines: list[Line], created_at: datetime, location: Location | None = None
) -> Order:
    """A new open order with its priced lines and totals (at the default location unless given), not yet
    added to the session and not yet in the rollups (tests and imports)."""
    location = location or default_location()
    lines, money = price_new_order(lines, location)
    row = order_row(waiter, data, lines, money, created_at, location)
    return Order(**row, waiter=waiter, items=[line.to_item() for line in lines])


def _insert_lines(order: Order, lines: list[Line]) -> list[OrderItem]:
    """All lines in one `INSERT ... RETURNING` whatever their number; they join the order's loaded
    lines as the rows the database returned, so nothing is read again. Returns the new lines."""
    new = insert_returning(OrderItem, _statements(dialect_name())["lines"],
                           [{**line.row(), "order_id": order.id} for line in lines])
    new.sort(key=lambda item: item.id)
    loaded = order.__dict__.get("items", [])  # a new order's lines were never loaded: it had none
    set_committed_value(order, "items", [*loaded, *new])
    return new


@cache
def _statements(dialect: str) -> dict[str, Any]:
    """The lines' INSERT, built once, returning the whole rows (the order's: `_new_order_statement`)."""
    items = OrderItem.__table__
    return {"lines": insert(items).returning(*items.c)}


@cache
def _new_order_statement(dialect: str, columns: tuple[str, ...]) -> Any:
    """A new order's INSERT (built once per dialect and column set): `INSERT ... SELECT <the row> WHERE
    <its business date is open> ON CONFLICT (client_order_id) DO NOTHING RETURNING *`. No row back means a
    repeated client_order_id or a closed day (the caller tells which); the day's advisory lock was taken
    by an earlier statement, so this one's snapshot sees any close that went first (app/cash/days.py)."""
    orders = Order.__table__
    params = {name: bindparam(name, type_=orders.c[name].type) for name in columns}
    row = select(*params.values()).where(days.day_is_open(params["location_id"], params["business_date"]))
    on_dialect = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (on_dialect(orders).from_select(list(columns), row)
            .on_conflict_do_nothing(index_elements=["client_order_id"]).returning(*orders.c))


def recompute_totals(order: Order) -> None:
    """Price the order again from its lines and discounts and store every figure (app/orders/checks.py)."""
    checks.reprice(order)


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
    client_order_id is 409, with the existing id when the waiter may see that order.

    Lean by design (bench/README.md): the order is one `INSERT ... ON CONFLICT (client_order_id) DO
    NOTHING RETURNING`, its lines one multi-row `INSERT ... RETURNING`, and both come back as ORM
    objects with everything the answer needs, so nothing is read again."""
    location = OrderLocations(waiter).choose(data.get("location_id"))
    table = table_for_order(location.id, data.get("table_id"))
    data = {**data, "table_row": table}
    created_at = created_at or utcnow()
    day = business_date(created_at, location.timezone, location.day_starts_at)
    # The day's shared lock rides in the routing statement (the INSERT below checks the day is open).
    lock = days.shared_lock_params(location.id, day)
    lines = kitchen.route(location.id, kitchen.plan(resolve_or_raise(data["items"]), hold=data.get("hold", False)),
                          day_lock=lock)
    lines, money = price_new_order(lines, location)
    row = order_row(waiter, data, lines, money, created_at, location)
    if lock is None:
        days.lock_day(location.id, day)
    with creating(waiter) as change:
        # The unique index decides a race between twins: the loser inserts nothing (after waiting for
        # the winner's commit) and answers 409 like any other repeat.
        inserted = insert_returning(Order, _new_order_statement(dialect_name(), tuple(row)), row)
        if not inserted:
            days.ensure_open_day(location.id, row["business_date"])  # 409 business_day_closed comes first
            raise _duplicate(waiter, data["client_order_id"])
        order = inserted[0]
        # The new order's other collections as they are in the database: the waiter, no discounts,
        # payments or refunds; answering it loads nothing more.
        for name, value in (("waiter", waiter), ("table", table), ("discounts", []), ("payments", []),
                            ("refunds", [])):
            set_committed_value(order, name, value)
        kitchen.send_new(order, _insert_lines(order, lines), waiter)
        change.order = order
        change.data.update(item_ids=[item.id for item in order.items], total=history.money(order.total_cents))
    return order


def _duplicate(waiter: User, client_order_id: str) -> DuplicateClientOrderId:
    """The 409 for a repeated client_order_id: with the existing id only when the waiter may see it."""
    order_id = ids_by_client_order_id(waiter, [client_order_id]).get(client_order_id)
    return DuplicateClientOrderId() if order_id is None else DuplicateClientOrderId(order_id=order_id)


def visible_order(user: User, order_id: int, *, lock: bool = False) -> Order:
    """The order if `user` may see it (app/auth/permissions.py; others' are 404), optionally row-locked."""
    stmt = scope_orders(user, select(Order).where(Order.id == order_id).execution_options(populate_existing=True))
    if lock:
        stmt = stmt.with_for_update(of=Order)
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFound("No such order.")
    return order


def open_for_change(user: User, order_id: int) -> Order:
    """The visible order, row-locked, refused early when it is not open (changing() checks again)."""
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


def append_items(user: User, order_id: int, lines: list[dict[str, Any]], *, hold: bool = False) -> Order:
    """Add lines to an open order (sending course 1 unless `hold`). Concurrent appends queue on the row lock;
    none is lost."""
    order = open_for_change(user, order_id)
    resolved = checks.with_tax_rates(resolve_or_raise(lines), order.tax_rate_thousandths)  # the order's snapshot
    resolved = kitchen.route(order.location_id, kitchen.plan(resolved, hold=hold))
    with changing(order, user, "items_added") as change:
        added = _insert_lines(order, resolved)
        checks.reprice(order)
        kitchen.send_new(order, added, user)
        change.data.update(item_ids=[item.id for item in added], total=history.money(order.total_cents))
    return order


def void_item(user: User, order_id: int, item_id: int) -> Order:
    """Void a line (kept, flagged, excluded from totals). Voiding a voided line changes nothing."""
    order = open_for_change(user, order_id)
    item = next((item for item in order.items if item.id == item_id), None)
    if item is None:
        raise NotFound("No such line on this order.")
    if item.voided:
        return order
    # A line on a kitchen ticket needs a manager, or a waiter with a void_sent_item approval token.
    approver = (authorize(user, "void_sent_item", location_id=order.location_id, order_id=order.id)
                if kitchen.on_ticket(item) else None)
    with changing(order, user, "item_voided", approved_by=approver, item_id=item.id) as change:
        item.voided = True
        item.voided_at = utcnow()
        kitchen.void_lines(order, [item], user)
        checks.reprice_not_below_paid(order)
        change.data["total"] = history.money(order.total_cents)
    return order


def patch_order(user: User, order_id: int, data: dict[str, Any], expected: int | None) -> Order:
    """Change customer_name, table or notes, only if `expected` is the current version (None: any version)."""
    order = visible_order(user, order_id, lock=True)
    if expected is not None and expected != order.version:
        raise PreconditionFailed(current_version=order.version)
    with changing(order, user, "updated", changes=dict(data)):
        for field, attr in (("customer_name", "customer_name"), ("table", "table_label"), ("notes", "notes")):
            if field in data:
                setattr(order, attr, data[field])
    return order


def calculate(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """Price a create body with optional discounts, storing nothing (not even an ad-hoc product)."""
    location = OrderLocations(user).choose(data.get("location_id"))
    lines, errors = resolve_lines([data["items"]], create_missing=False)[0]
    if errors:
        raise ValidationFailed(errors=errors)
    return checks.calculate(location, lines, data.get("discounts", []))
