"""The floor of a restaurant (API.md v1.2 "Tables, seats, transfer, merge and split checks"): hand an
order to another table or waiter, merge two checks, split one, and divide a balance evenly.

Each is one transaction and goes through the one unit of work (app/orders/unit.py): every changed
order gets version + 1 and one event (`transferred`, `merged`, `split`), every new order of a split is
made by `creating()` with `split_from` in its `created` event, and the rollups follow the lines and
the waiter (a handed-over check counts for its new waiter).

Orders are locked in id order (merge locks two), so two requests never wait on each other crosswise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.auth.permissions import scope_orders
from app.columns import utcnow
from app.errors import Conflict, ErrorCode, Forbidden, PreconditionFailed, ValidationFailed
from app.extensions import db
from app.models import Discount, Order, OrderItem, User
from app.orders import checks, history, kitchen, pricing
from app.orders.services import visible_order
from app.orders.unit import OrderNotOpen, changing, creating
from app.tables.services import table_for_order


class SplitNotAllowed(Conflict):
    code, detail = ErrorCode.SPLIT_NOT_ALLOWED, "This check cannot be split or merged."


class ExceedsQuantity(ValidationFailed):
    code, detail = ErrorCode.EXCEEDS_QUANTITY, "More units than the line has."


def even_shares(amount: int, parts: int) -> list[int]:
    """`amount` cents in `parts` shares as equal as cents allow, largest first, adding up exactly (the
    remainder's cents go one each to the first shares: largest remainder over equal parts)."""
    whole, left = divmod(amount, parts)
    return [whole + 1] * left + [whole] * (parts - left)


def _lines_moved(moves: list[tuple[OrderItem, OrderItem]], source: Order, targets: dict[int, Order]) -> None:
    """The kitchen hears of each (from line, to line) pair moved from `source` (the same line when it moved
    whole; a part split off is a new line): the open tickets of the moved lines follow them. `targets`:
    the new line's order by the new line's id."""
    kitchen.lines_moved([kitchen.Move(to, source, targets[to.id], None if to is frm else frm.id)
                         for frm, to in moves])


def _check_version(order: Order, expected: int | None) -> None:
    if expected is not None and expected != order.version:
        raise PreconditionFailed(current_version=order.version)


def _require_open(order: Order) -> None:
    if order.status != "open":
        raise OrderNotOpen()


def _refuse_if_settling(order: Order, what: str) -> None:
    """Payments and order-level discounts belong to the whole check: such a check is not split or merged."""
    if order.payments or order.paid_total_cents:
        raise SplitNotAllowed(f"Order {order.id} has payments; {what} a check with payments is not allowed.")
    if any(d.item_id is None for d in order.active_discounts):
        raise SplitNotAllowed(f"Order {order.id} has an order-level discount; remove it before {what} the check.")


# -- transfer --------------------------------------------------------------------------------------------


def _new_waiter(order: Order, waiter_id: int) -> User:
    """An active member of the order's location (admins belong to every location); else 422 on waiter_id."""
    waiter = db.session.get(User, waiter_id)
    member = waiter is not None and (waiter.role == "admin" or any(loc.id == order.location_id
                                                                   for loc in waiter.locations))
    if waiter is None or not waiter.active or not member:
        raise ValidationFailed(errors={"waiter_id": ["Unknown or inactive user, or not a member of the location."]})
    return waiter


def transfer(user: User, order_id: int, data: dict[str, Any], expected: int | None) -> Order:
    """Move an open order to another table and/or hand it to another waiter (that: managers, admins)."""
    order = visible_order(user, order_id, lock=True)
    handing = data.get("waiter_id") is not None and data["waiter_id"] != order.waiter_id
    if handing and user.role == "waiter":
        raise Forbidden("Only a manager or admin may hand an order to another waiter.")
    _check_version(order, expected)
    _require_open(order)
    table = table_for_order(order.location_id, data["table_id"]) if data.get("table_id") is not None else None
    waiter = _new_waiter(order, data["waiter_id"]) if handing else order.waiter
    with changing(order, user, "transferred", from_table_id=order.table_id,
                  to_table_id=table.id if table else order.table_id, from_waiter_id=order.waiter_id,
                  to_waiter_id=waiter.id):
        if table is not None:
            order.table_id, order.table, order.table_label = table.id, table, table.name
        order.waiter_id, order.waiter = waiter.id, waiter
        kitchen.order_transferred(order)  # its open tickets show the new table and waiter
    return order


# -- merge -----------------------------------------------------------------------------------------------


def _lock(order_ids: list[int]) -> dict[int, Order]:
    """Row-lock the orders in id order (no crosswise waits) and load them fresh."""
    stmt = (select(Order).where(Order.id.in_(order_ids)).order_by(Order.id).with_for_update(of=Order)
            .execution_options(populate_existing=True))
    return {order.id: order for order in db.session.scalars(stmt).unique()}


def _move_whole(item: OrderItem, source: Order, target: Order) -> None:
    """A line and its line discounts (removed ones too) move to `target`, keeping their ids."""
    for discount in [d for d in source.discounts if d.item_id == item.id]:
        discount.order = target
    item.order = target


def merge(user: User, order_id: int, from_order_id: int, expected: int | None) -> Order:
    """Move every non-voided line of `from_order_id` into this order; the other ends `merged`."""
    visible_order(user, order_id)  # 404 first
    if from_order_id == order_id:
        raise ValidationFailed(errors={"from_order_id": ["An order cannot be merged into itself."]})
    visible = db.session.scalar(scope_orders(user, select(Order.id).where(Order.id == from_order_id)))
    if visible is None:
        raise ValidationFailed(errors={"from_order_id": ["Unknown order, or one you may not see."]})
    locked = _lock([order_id, from_order_id])
    target, source = locked[order_id], locked[from_order_id]
    _check_version(target, expected)
    if source.location_id != target.location_id:
        raise ValidationFailed(errors={"from_order_id": ["An order of another location."]})
    _require_open(target)
    _require_open(source)
    for order in (target, source):
        _refuse_if_settling(order, "merging")
    moving = [item for item in source.items if not item.voided]
    with changing(source, user, "merged", into_order_id=target.id), \
            changing(target, user, "merged", from_order_id=source.id, item_ids=[i.id for i in moving]) as change:
        for item in moving:
            _move_whole(item, source, target)
        if source.guest_count is not None:
            target.guest_count = min(99, (target.guest_count or 0) + source.guest_count)
        source.status, source.merged_into_id = "merged", target.id
        db.session.flush()
        checks.reprice(target)
        checks.reprice(source)
        change.data["total"] = history.money(target.total_cents)
        _lines_moved([(item, item) for item in moving], source, {item.id: target for item in moving})
    return target


# -- split -----------------------------------------------------------------------------------------------


@dataclass
class Move:
    """`quantity` units of the source's line `item` go to the new order number `group`."""

    item: OrderItem
    quantity: int
    group: int


def _moves_by_items(order: Order, wanted: list[dict[str, Any]]) -> list[Move]:
    """Validate `items` (422 items.N.item_id / exceeds_quantity on items.N.quantity); one group."""
    lines = {item.id: item for item in order.items}
    errors: dict[str, list[str]] = {}
    over = False
    seen: set[int] = set()
    moves = []
    for index, line in enumerate(wanted):
        item = lines.get(line["item_id"])
        if item is None or item.voided:
            errors[f"items.{index}.item_id"] = ["Unknown line." if item is None else "The line is voided."]
        elif item.id in seen:
            errors[f"items.{index}.item_id"] = ["Name each line once."]
        elif line["quantity"] > item.quantity:
            errors[f"items.{index}.quantity"] = [f"The line has {item.quantity} unit(s)."]
            over = True
        else:
            seen.add(item.id)
            moves.append(Move(item, line["quantity"], 0))
    if errors:
        only_quantity = over and all(key.endswith(".quantity") for key in errors)
        raise (ExceedsQuantity if only_quantity else ValidationFailed)(errors=errors)
    return moves


def _moves_by_seat(order: Order) -> list[Move]:
    """Every seat (>= 1) but the lowest that has lines gets a group of its lines; shared lines stay."""
    seats = sorted({item.seat for item in order.items if not item.voided and item.seat})
    if len(seats) < 2:
        raise SplitNotAllowed("Splitting by seat needs lines on at least two seats (1 or more).")
    group_of = {seat: n for n, seat in enumerate(seats[1:])}
    return [Move(item, item.quantity, group_of[item.seat]) for item in order.items
            if not item.voided and item.seat in group_of]


def _check_split(order: Order, moves: list[Move]) -> None:
    _refuse_if_settling(order, "splitting")
    for move in moves:
        if move.quantity < move.item.quantity and any(
                d.item_id == move.item.id and d.amount_cents is not None for d in order.active_discounts):
            raise SplitNotAllowed(f"Line {move.item.id} has an amount discount; it can move only whole.")
    moved = {move.item.id: move.quantity for move in moves}
    if all(moved.get(item.id, 0) == item.quantity for item in order.items if not item.voided):
        raise SplitNotAllowed("The split would leave the order with no line.")


def _move_part(move: Move, source: Order, target: Order) -> OrderItem:
    """Move `move.quantity` units of a line: the source keeps the rest, the moved part is a new line (same
    price, modifiers, tax rate, seat, notes). Each percentage line discount applies to each part and takes
    its exact share of what it took of the whole line (pricing.split_line_discounts), so the two parts'
    discounts add up to the line's before, to the cent."""
    item = move.item
    discounts = [d for d in source.active_discounts if d.item_id == item.id]  # percentages (checked)
    kept = item.quantity - move.quantity
    shares = pricing.split_line_discounts([d.applied_cents for d in discounts],
                                          {0: item.unit_price_cents * kept, 1: item.unit_price_cents * move.quantity})
    item.quantity = kept
    part = OrderItem(product_id=item.product_id, product_name=item.product_name, unit_price_cents=item.unit_price_cents,
                     quantity=move.quantity, notes=item.notes, seat=item.seat, course=item.course,
                     kitchen_status=item.kitchen_status, station_id=item.station_id, modifiers=list(item.modifiers),
                     tax_rate_thousandths=item.tax_rate_thousandths, voided=False, created_at=item.created_at)
    target.items.append(part)
    db.session.flush()
    for discount, share in zip(discounts, shares, strict=True):
        discount.split_share_cents = share[0]
        target.discounts.append(Discount(item_id=part.id, percent_thousandths=discount.percent_thousandths,
                                         amount_cents=None, split_share_cents=share[1], reason=discount.reason,
                                         created_by_id=discount.created_by_id, created_at=discount.created_at))
    return part


def _new_order(source: Order) -> Order:
    """An open order like the source: location, waiter, table, guest name, business date and hour, taxes."""
    now = utcnow()
    order = Order(customer_name=source.customer_name, table_label=source.table_label, table_id=source.table_id,
                  table=source.table, guest_count=None, status="open", waiter_id=source.waiter_id,
                  waiter=source.waiter, location_id=source.location_id, split_from_id=source.id,
                  tax_rate_thousandths=source.tax_rate_thousandths, prices_include_tax=source.prices_include_tax,
                  business_date=source.business_date, local_hour=source.local_hour, created_at=now, updated_at=now,
                  version=1, items=[], discounts=[], payments=[], refunds=[])
    db.session.add(order)
    db.session.flush()
    return order


def split(user: User, order_id: int, data: dict[str, Any], expected: int | None) -> tuple[Order, list[Order]]:
    """Split an open order by items (one new order) or by seat (one per seat but the lowest)."""
    source = visible_order(user, order_id, lock=True)
    _check_version(source, expected)
    _require_open(source)
    _refuse_if_settling(source, "splitting")
    moves = _moves_by_items(source, data["items"]) if data["by"] == "items" else _moves_by_seat(source)
    _check_split(source, moves)
    groups = sorted({move.group for move in moves})
    new_orders: list[Order] = []
    moved_lines: list[tuple[OrderItem, OrderItem]] = []
    moved_to: dict[int, Order] = {}
    described: list[dict[str, Any]] = []
    with changing(source, user, "split") as change:
        for group in groups:
            with creating(user, split_from=source.id) as created:
                order = _new_order(source)
                for move in (m for m in moves if m.group == group):
                    if move.quantity == move.item.quantity:
                        _move_whole(move.item, source, order)
                        moved_lines.append((move.item, move.item))
                    else:
                        moved_lines.append((move.item, _move_part(move, source, order)))
                    moved_to[moved_lines[-1][1].id] = order
                    described.append({"item_id": move.item.id, "quantity": move.quantity, "to_order_id": order.id})
                db.session.flush()
                checks.reprice(order)
                created.order = order
                created.data.update(item_ids=[item.id for item in order.items],
                                    total=history.money(order.total_cents))
            new_orders.append(order)
        checks.reprice(source)
        change.data.update(order_ids=[order.id for order in new_orders], items=described,
                           total=history.money(source.total_cents))
        _lines_moved(moved_lines, source, moved_to)
    return source, new_orders


def shares(user: User, order_id: int, parts: int) -> dict[str, Any]:
    """The balance due in `parts` even shares, largest first (nothing stored)."""
    order = visible_order(user, order_id)
    balance = order.balance_due_cents
    return {"balance_due": balance, "parts": parts, "shares": even_shares(balance, parts)}
