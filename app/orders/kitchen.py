"""What an order does to the kitchen (API.md v1.2 "The kitchen"), called by the orders services inside
their unit of work: which new lines are held, where a line is routed, the tickets a send creates, the
`void` tickets a void or cancel creates, and the tickets that follow lines moved between orders.

Routing is read when a line is sent: the station naming its product, else the one naming its
product's category, else the location's default station, else none (the line is `sent` with no
ticket). Ticket changes never bump the order's version (they are feed events of their own, through
app/outbox.py); every change to a station's tickets raises its `queue_version`, the queue's ETag.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, literal, or_, select, union_all, update

from app.business_time import business_date
from app.cash import days
from app.columns import utcnow
from app.counters import take
from app.extensions import db
from app.models import (
    KitchenRoute,
    KitchenTicket,
    KitchenTicketLine,
    Location,
    Order,
    OrderItem,
    Product,
    Station,
    User,
    category_key,
)
from app.orders.lines import Line
from app.outbox import publish

COUNTER = "kitchen_ticket"


# -- holding and routing new lines -------------------------------------------------------------------------


def plan(lines: Sequence[Line], *, hold: bool) -> list[Line]:
    """New lines with their kitchen status: all held with `hold`, else course 1 sent and later courses held."""
    return [replace(line, kitchen_status="held" if hold or line.course > 1 else "sent") for line in lines]


def categories_of(product_ids: Iterable[int]) -> dict[int, str | None]:
    """product id -> its category (for lines already stored: firing reads them)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    return dict(db.session.execute(select(Product.id, Product.category).where(Product.id.in_(ids))).all())


def stations_for(location_id: int, products: dict[int, str | None],
                 day_lock: dict[str, Any] | None = None) -> dict[int, int | None]:
    """product id -> the station that receives it at this location (None: no station), in one query.
    `products`: product id -> its category. `day_lock`: the parameters of the create path's day lock
    (app/cash/days.py: `shared_lock_params`), which then rides in the same statement (a UNION ALL branch,
    read whole, so it runs even when nothing routes; its row is ignored)."""
    ids = sorted(products)
    if not ids:
        if day_lock is not None:
            db.session.execute(days.shared_lock_statement(), day_lock).all()
        return {}
    categories = {pid: category_key(c) for pid, c in products.items() if c}
    params: dict[str, Any] = {"route_location_id": location_id, "route_products": [str(pid) for pid in ids]}
    if categories:
        params["route_categories"] = sorted(set(categories.values()))
    found: dict[tuple[str, str], int] = {}
    stmt = _routing_statement(bool(categories), day_lock is not None)
    for kind, value, station_id in db.session.execute(stmt, {**params, **(day_lock or {})}).all():
        found[(kind, value)] = station_id
    fallback = found.get(("default", ""))
    return {
        pid: found.get(("product", str(pid))) or found.get(("category", categories.get(pid, "\0"))) or fallback
        for pid in ids
    }


@cache
def _routing_statement(with_categories: bool, with_day_lock: bool) -> Any:
    """The routing statement, built once per shape with bound parameters (no per-request construction)."""
    location_id: Any = bindparam("route_location_id")
    active = and_(Station.id == KitchenRoute.station_id, Station.active.is_(True))
    wanted = [and_(KitchenRoute.kind == "product",
                   KitchenRoute.value.in_(bindparam("route_products", expanding=True)))]
    if with_categories:
        wanted.append(and_(KitchenRoute.kind == "category",
                           KitchenRoute.value.in_(bindparam("route_categories", expanding=True))))
    routes = (select(KitchenRoute.kind, KitchenRoute.value, KitchenRoute.station_id).join(Station, active)
              .where(KitchenRoute.location_id == location_id, or_(*wanted)))
    default = select(literal("default"), literal(""), Station.id).where(
        Station.location_id == location_id, Station.is_default.is_(True), Station.active.is_(True))
    branches = (routes, default, days.shared_lock_statement()) if with_day_lock else (routes, default)
    return union_all(*branches)


def sent_now(lines: Sequence[Line]) -> dict[int, str | None]:
    """product id -> category of the lines to be sent now."""
    return {line.product_id: line.category for line in lines
            if line.kitchen_status == "sent" and line.product_id is not None}


def route(location_id: int, lines: Sequence[Line], day_lock: dict[str, Any] | None = None) -> list[Line]:
    """The lines, those to be sent now with the station that receives them (before they are inserted);
    `day_lock` rides in the routing statement (`stations_for`)."""
    stations = stations_for(location_id, sent_now(lines), day_lock)
    return [replace(line, station_id=stations.get(line.product_id)) if line.kitchen_status == "sent"
            and line.product_id is not None else line for line in lines]


# -- tickets -------------------------------------------------------------------------------------------------


def _location(location_id: int) -> Location:
    location = db.session.get(Location, location_id)
    assert location is not None
    return location


def _ticket_line(item: OrderItem, quantity: int | None = None) -> KitchenTicketLine:
    return KitchenTicketLine(item_id=item.id, product_name=item.product_name,
                             quantity=item.quantity if quantity is None else quantity,
                             modifiers=list(item.modifiers or []), notes=item.notes,
                             seat=getattr(item, "seat", None), course=item.course)


def bump_queues(station_ids: Iterable[int]) -> None:
    """Raise the queue version (the ETag) of these stations: their tickets changed."""
    ids = sorted(set(station_ids))
    if ids:
        db.session.execute(update(Station).where(Station.id.in_(ids))
                           .values(queue_version=Station.queue_version + 1)
                           .execution_options(synchronize_session=False))


def make_tickets(order: Order, items: Sequence[OrderItem], actor: User, *, kind: str = "new",
                 quantities: dict[int, int] | None = None) -> list[KitchenTicket]:
    """One ticket of `kind` per station among `items` (those with a station), numbered gapless per location
    and business date, published to the feed. `quantities` (item id -> units) for void tickets."""
    by_station: dict[int, list[OrderItem]] = defaultdict(list)
    for item in items:
        if item.station_id is not None:
            by_station[item.station_id].append(item)
    if not by_station:
        return []
    location = _location(order.location_id)
    day = business_date(utcnow(), location.timezone, location.day_starts_at)
    bump_queues(by_station)
    last = take(location.id, COUNTER, day=day, count=len(by_station))  # late: the row lock lasts until commit
    now = utcnow()  # after the number: tickets of a location are created in the order of their numbers
    tickets = []
    for number, station_id in enumerate(sorted(by_station), start=last - len(by_station) + 1):
        lines = [_ticket_line(item, (quantities or {}).get(item.id)) for item in by_station[station_id]]
        tickets.append(KitchenTicket(location_id=location.id, station_id=station_id, order_id=order.id,
                                     number=number, business_date=day, kind=kind, status="open",
                                     created_at=now, version=1, lines=lines))
    db.session.add_all(tickets)
    db.session.flush()
    for ticket in tickets:
        publish(location_id=ticket.location_id, type="kitchen_ticket.created",
                subject=("kitchen_ticket", ticket.id, ticket.version), actor=actor, occurred_at=now,
                data=describe(ticket, order))
    return tickets


def describe(ticket: KitchenTicket, order: Order | None = None) -> dict[str, Any]:
    """A ticket's feed data."""
    return {"number": ticket.number, "station_id": ticket.station_id, "order_id": ticket.order_id,
            "kind": ticket.kind, "status": ticket.status,
            "table": (order or ticket.order).table_label,
            "lines": [{"item_id": line.item_id, "quantity": line.quantity} for line in ticket.lines]}


def send_new(order: Order, items: Sequence[OrderItem], actor: User) -> list[KitchenTicket]:
    """Tickets for the new lines just inserted with status `sent` (create, append, batch sync)."""
    return make_tickets(order, [item for item in items if item.kitchen_status == "sent"], actor)


def fire(order: Order, actor: User, course: int | None) -> tuple[list[OrderItem], list[KitchenTicket]]:
    """Send the held lines of `course` (all held lines without it): route them now and make their tickets.
    Call inside `changing(order, actor, "fired")`, only when something is held."""
    items = held(order, course)
    stations = stations_for(order.location_id, categories_of(item.product_id for item in items))
    for item in items:
        item.kitchen_status = "sent"
        item.station_id = stations.get(item.product_id)
    db.session.flush()
    return items, make_tickets(order, items, actor)


def held(order: Order, course: int | None = None) -> list[OrderItem]:
    """The order's held lines (of `course`)."""
    return [item for item in order.items if not item.voided and item.kitchen_status == "held"
            and (course is None or item.course == course)]


def on_ticket(item: OrderItem) -> bool:
    """Whether the line was sent to a station (voiding it then needs a manager's approval)."""
    return item.station_id is not None


def void_lines(order: Order, items: Sequence[OrderItem], actor: User) -> list[KitchenTicket]:
    """Lines being voided (a void, or a cancel): each becomes `voided`; those on a ticket and not yet served
    are listed, with all their units, on one `void` ticket per station."""
    tell = [item for item in items if on_ticket(item) and item.kitchen_status in ("sent", "ready")]
    for item in items:
        if item.kitchen_status != "served":
            item.kitchen_status = "voided"
    return make_tickets(order, tell, actor, kind="void")


def served(order: Order, item_ids: Sequence[int] | None) -> list[OrderItem]:
    """Mark sent or ready lines served (all of them without `item_ids`); the lines changed."""
    wanted = None if item_ids is None else set(item_ids)
    done = []
    for item in order.items:
        if (wanted is None or item.id in wanted) and not item.voided and item.kitchen_status in ("sent", "ready"):
            item.kitchen_status = "served"
            done.append(item)
    return done


# -- split, merge and transfer -------------------------------------------------------------------------------


class Move(NamedTuple):
    """A line that moved between orders: `item` (a line moved whole keeps its id; a part split off a line is
    a new line whose `source_item_id` names the line it came from), `from_order`, `to_order`."""

    item: OrderItem
    from_order: Order
    to_order: Order
    source_item_id: int | None = None


def lines_moved(moves: Sequence[Move]) -> list[KitchenTicket]:
    """After a split or merge (in the same transaction): the open tickets of the moved lines follow them.

    A part split off a line takes its source's kitchen state (status, station). An open ticket all of
    whose lines now sit on one other order takes that order's id (and so its table and waiter); a ticket
    whose lines went to several orders keeps its order (a split of one table). Each changed ticket gets
    version + 1 and its station's queue a new ETag. Returns the tickets changed."""
    by_id = {move.item.id: move for move in moves}
    for move in moves:
        if move.source_item_id is not None:
            source = db.session.get(OrderItem, move.source_item_id)
            if source is not None:
                move.item.kitchen_status, move.item.station_id = source.kitchen_status, source.station_id
    db.session.flush()
    source_ids = {move.source_item_id for move in moves if move.source_item_id is not None}
    ids = set(by_id) | source_ids
    if not ids:
        return []
    tickets = db.session.scalars(
        select(KitchenTicket).join(KitchenTicketLine).where(KitchenTicketLine.item_id.in_(ids),
                                                            KitchenTicket.status == "open").distinct()
    ).all()
    changed = []
    for ticket in tickets:
        owners = {by_id[line.item_id].to_order.id if line.item_id in by_id else ticket.order_id
                  for line in ticket.lines}
        if len(owners) == 1 and (owner := owners.pop()) != ticket.order_id:
            ticket.order_id = owner
            ticket.order = next(m.to_order for m in moves if m.to_order.id == owner)
            ticket.version += 1
            changed.append(ticket)
    bump_queues(ticket.station_id for ticket in changed)
    db.session.flush()
    return changed


def order_transferred(order: Order) -> list[KitchenTicket]:
    """After a transfer (new table or waiter): the order's open tickets show it, version + 1 each."""
    tickets = db.session.scalars(select(KitchenTicket).where(KitchenTicket.order_id == order.id,
                                                             KitchenTicket.status == "open")).all()
    for ticket in tickets:
        ticket.version += 1
    bump_queues(ticket.station_id for ticket in tickets)
    db.session.flush()
    return list(tickets)
