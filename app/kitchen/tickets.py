"""Kitchen tickets: the station queue (with its ETag), ready, recall, and the printer's text rendering.

A ticket change never bumps its order's version: it raises the ticket's own `version`, the station's
`queue_version` (the queue's ETag) and is published to the change feed (app/outbox.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import defaultload, lazyload

from app.auth.permissions import member_location_ids
from app.columns import utcnow
from app.errors import Conflict, ErrorCode, NotFound
from app.extensions import db
from app.models import KitchenTicket, Location, Order, OrderItem, Station, User
from app.orders.kitchen import bump_queues, describe
from app.outbox import publish

RECALL_WINDOW = timedelta(minutes=10)
ETAG_SECONDS = 60  # `late` and the ready window move with time: the ETag changes at least this often


class TicketNotOpen(Conflict):
    code, detail = ErrorCode.TICKET_NOT_OPEN, "The ticket is already ready."


class TicketNotReady(Conflict):
    code, detail = ErrorCode.TICKET_NOT_READY, "The ticket is not ready."


class RecallExpired(Conflict):
    code, detail = ErrorCode.RECALL_EXPIRED, "The ticket was made ready more than 10 minutes ago."


def is_late(ticket: KitchenTicket, now: datetime | None = None) -> bool:
    """Open longer than the station's alert_minutes, or made ready later than that after creation."""
    limit = timedelta(minutes=ticket.station.alert_minutes)
    end = ticket.ready_at or now or utcnow()
    return end - ticket.created_at > limit


def with_late(tickets: list[KitchenTicket]) -> list[KitchenTicket]:
    now = utcnow()
    for ticket in tickets:
        ticket.late = is_late(ticket, now)  # answered, not stored
    return tickets


# A ticket answers its order's table and waiter only: the order's collections load only if touched.
ORDER_ONLY = defaultload(KitchenTicket.order).options(*(lazyload(rel) for rel in (
    Order.items, Order.discounts, Order.payments, Order.refunds)))


def visible_ticket(user: User, ticket_id: int, *, lock: bool = False) -> KitchenTicket:
    """A ticket of one of the caller's locations (members); anything else is 404."""
    stmt = (select(KitchenTicket).where(KitchenTicket.id == ticket_id).options(ORDER_ONLY)
            .execution_options(populate_existing=True))
    if lock:
        stmt = stmt.with_for_update(of=KitchenTicket)
    ticket = db.session.scalar(stmt)
    ids = member_location_ids(user)
    if ticket is None or (ids is not None and ticket.location_id not in ids):
        raise NotFound("No such ticket.")
    return with_late([ticket])[0]


def queue_tag(user: User, station_id: int, status: str) -> str:
    """The queue's ETag, in one indexed read (the station's primary key): station, queue version, status
    and the current minute. Another location's or an unknown station is 404."""
    row = db.session.execute(select(Station.location_id, Station.queue_version).where(Station.id == station_id)).first()
    ids = member_location_ids(user)
    if row is None or (ids is not None and row.location_id not in ids):
        raise NotFound("No such station.")
    minute = int(utcnow().timestamp()) // ETAG_SECONDS
    return f'"{station_id}-{row.queue_version}-{status}-{minute}"'


def queue(station_id: int, status: str) -> list[KitchenTicket]:
    """The station's open tickets (or those made ready in the last 10 minutes), oldest first."""
    stmt = (select(KitchenTicket).options(ORDER_ONLY)
            .where(KitchenTicket.station_id == station_id, KitchenTicket.status == status))
    if status == "ready":
        stmt = stmt.where(KitchenTicket.ready_at >= utcnow() - RECALL_WINDOW)
    return with_late(list(db.session.scalars(stmt.order_by(KitchenTicket.created_at, KitchenTicket.id))))


def _set_lines(ticket: KitchenTicket, old: str, new: str) -> None:
    """The ticket's lines go from `old` to `new` (a new ticket only; void tickets change no line)."""
    if ticket.kind != "new":
        return
    ids = [line.item_id for line in ticket.lines]
    db.session.execute(update(OrderItem).where(OrderItem.id.in_(ids), OrderItem.kitchen_status == old,
                                               OrderItem.station_id == ticket.station_id)
                       .values(kitchen_status=new).execution_options(synchronize_session=False))


def _changed(ticket: KitchenTicket, user: User, event: str) -> KitchenTicket:
    ticket.version += 1
    bump_queues([ticket.station_id])
    db.session.flush()
    publish(location_id=ticket.location_id, type=f"kitchen_ticket.{event}",
            subject=("kitchen_ticket", ticket.id, ticket.version), actor=user, data=describe(ticket))
    return with_late([ticket])[0]


def ready(user: User, ticket_id: int) -> KitchenTicket:
    """The station bumps the ticket: ready, its lines `ready` (409 ticket_not_open when already ready)."""
    ticket = visible_ticket(user, ticket_id, lock=True)
    if ticket.status != "open":
        raise TicketNotOpen()
    ticket.status, ticket.ready_at = "ready", utcnow()
    _set_lines(ticket, "sent", "ready")
    return _changed(ticket, user, "ready")


def recall(user: User, ticket_id: int) -> KitchenTicket:
    """Back to open within 10 minutes of ready, its lines `sent` again."""
    ticket = visible_ticket(user, ticket_id, lock=True)
    if ticket.status != "ready" or ticket.ready_at is None:
        raise TicketNotReady()
    if utcnow() - ticket.ready_at > RECALL_WINDOW:
        raise RecallExpired()
    ticket.status, ticket.ready_at = "open", None
    _set_lines(ticket, "ready", "sent")
    return _changed(ticket, user, "recalled")


WIDTH = 42


def _wrap(text: str, indent: str = "") -> list[str]:
    """Break `text` into lines of at most WIDTH columns, each starting with `indent`."""
    words, lines, current = text.split(), [], indent
    for word in words:
        while len(indent) + len(word) > WIDTH:  # a word longer than a line is cut
            if current.strip():
                lines.append(current)
                current = indent
            cut = WIDTH - len(indent)
            lines.append(indent + word[:cut])
            word = word[cut:]
        candidate = f"{current} {word}" if current.strip() else current + word
        if len(candidate) > WIDTH:
            lines.append(current)
            current = indent + word
        else:
            current = candidate
    if current.strip():
        lines.append(current)
    return lines or [indent.rstrip()]


def _two_sides(left: str, right: str) -> str:
    room = WIDTH - len(right) - 1
    return f"{left[:room]:<{room}} {right}"


def render_text(ticket: KitchenTicket, timezone: str) -> str:
    """The ticket for a 42-column kitchen printer: station, number, table, waiter, time, then each line
    (quantity, name, seat and course) with its modifiers and notes indented; a void ticket starts `VOID`."""
    local = ticket.created_at.astimezone(ZoneInfo(timezone))
    head = f"{'VOID ' if ticket.kind == 'void' else ''}{ticket.station.name.upper()}"
    out = [_two_sides(head, f"#{ticket.number}"), "=" * WIDTH,
           _two_sides(f"Table: {ticket.order.table_label or '-'}", f"Order {ticket.order_id}"),
           _two_sides(f"Waiter: {ticket.order.waiter.name}", local.strftime("%Y-%m-%d %H:%M")), "-" * WIDTH]
    for line in ticket.lines:
        where = f"S{line.seat} C{line.course}" if line.seat else f"C{line.course}"
        qty = f"{'-' if ticket.kind == 'void' else ''}{line.quantity}x "
        name = _wrap(qty + line.product_name)
        out.append(_two_sides(name[0], where) if len(name[0]) + len(where) < WIDTH else name[0])
        out += name[1:]
        for modifier in line.modifiers or []:
            out += _wrap(f"+ {modifier['name']}", "    ")
        if line.notes:
            out += _wrap(f"! {line.notes}", "    ")
    out.append("=" * WIDTH)
    if ticket.kind == "void":
        out.append("VOID: DO NOT PREPARE".center(WIDTH).rstrip())
    return "\n".join(out) + "\n"


def location_timezone(ticket: KitchenTicket) -> str:
    """The time zone a ticket's times are printed in: its location's."""
    location = db.session.get(Location, ticket.location_id)
    return location.timezone if location else "UTC"
