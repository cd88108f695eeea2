"""The day close (API.md v1.2 "Day close") and the guard every new order passes: no order is created
or synced into a closed business date.

Race-free on PostgreSQL: a new order (or batch) first takes a shared transaction-level advisory lock
on (location, business date), then looks for a closed day in a later statement (a batch: a SELECT of
its own; a single order: its INSERT's `WHERE NOT EXISTS`, `day_is_open`); the day close
takes the same lock exclusively before it looks for open orders. Whichever comes second waits for the
first to commit, then sees it (READ COMMITTED: each statement sees what committed before it). Nothing
touches the locations row, so the lean create path reads no location (tests/orders/test_statement_count.py).
SQLite serializes writers anyway (BEGIN IMMEDIATE)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from flask import g
from sqlalchemy import ARRAY, BigInteger, Integer, bindparam, cast, exists, func, literal, select, text

from app.auth.permissions import visible_location
from app.business_time import business_date
from app.cash.services import DrawerSessionOpen
from app.columns import utcnow
from app.database import dialect_name
from app.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from app.extensions import db
from app.figures import queries
from app.figures.queries import Scope
from app.models import BusinessDay, DrawerSession, Location, Order, User
from app.outbox import publish
from app.replicas import ReportSource


class BusinessDayClosed(Conflict):
    code, detail = ErrorCode.BUSINESS_DAY_CLOSED, "That business date is closed at this location."


class OrdersOpen(Conflict):
    code, detail = ErrorCode.ORDERS_OPEN, "Orders of that business date are still open."


LOCK_SPACE = 5 * 10**18  # keeps these advisory keys apart from any other use of advisory locks
SHARED = text("SELECT pg_advisory_xact_lock_shared(k) FROM unnest(CAST(:keys AS bigint[])) AS k")
EXCLUSIVE = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k")


def _lock_days(pairs: list[tuple[int, date]], *, exclusive: bool) -> None:
    """Advisory locks (PostgreSQL) on (location, business date) pairs, in a fixed order, until commit."""
    if dialect_name() != "postgresql" or not pairs:
        return
    keys = sorted({_day_key(location_id, day) for location_id, day in pairs})
    db.session.execute(EXCLUSIVE if exclusive else SHARED, {"keys": keys}).all()  # the keys come sorted


def closed_days(pairs: set[tuple[int, date]]) -> set[tuple[int, date]]:
    """Which (location_id, business_date) pairs are closed; their locations stay key-share locked."""
    if not pairs:
        return set()
    _lock_days(sorted(pairs), exclusive=False)
    days = {day for _, day in pairs}
    stmt = select(BusinessDay.location_id, BusinessDay.business_date).where(
        BusinessDay.location_id.in_({location_id for location_id, _ in pairs}), BusinessDay.business_date.in_(days))
    return {(row[0], row[1]) for row in db.session.execute(stmt)} & pairs


def lock_day(location_id: int, day: date) -> None:
    """The shared lock a new order takes on its (location, business date) before the INSERT that checks
    the day is open (`day_is_open` in its WHERE): the lean create path's one statement for both."""
    _lock_days([(location_id, day)], exclusive=False)


def _day_key(location_id: int, day: date) -> int:
    return LOCK_SPACE + location_id * 10**7 + day.toordinal()


@cache
def shared_lock_statement() -> Any:
    """PostgreSQL, built once: a SELECT of one row ('lock', '', n) that takes `lock_day`'s shared locks on
    the keys bound as `day_lock_keys` as it is read, to ride in a statement read before the order's
    INSERT (app/orders/kitchen.py: `stations_for`)."""
    keys = func.unnest(cast(bindparam("day_lock_keys"), ARRAY(BigInteger))).table_valued("k").render_derived()
    return select(literal("lock"), literal(""), cast(func.count(func.pg_advisory_xact_lock_shared(keys.c.k)),
                                                      Integer)).select_from(keys)


def shared_lock_params(location_id: int, day: date) -> dict[str, Any] | None:
    """The parameters of `shared_lock_statement` for one (location, business date); None on SQLite
    (writers are serialized there, `lock_day` does nothing)."""
    if dialect_name() != "postgresql":
        return None
    return {"day_lock_keys": [_day_key(location_id, day)]}


def day_is_open(location_id: Any, day: Any) -> Any:
    """SQL condition: no closed business day for that location and date (bound parameters or columns)."""
    return ~exists().where(BusinessDay.location_id == location_id, BusinessDay.business_date == day)


def ensure_open_day(location_id: int, day: date) -> None:
    """409 business_day_closed when the location's business date is closed."""
    if closed_days({(location_id, day)}):
        raise BusinessDayClosed()


def _figures(location: Location, day: date) -> dict[str, Any]:
    """The reports' figures for that location and date, read in this transaction (never a replica)."""
    g.report_source = ReportSource("primary", datetime.now(UTC))
    scope = Scope(start=day, end=day, location_ids=(location.id,))
    rows = queries.location_rows(scope)
    sales = rows[0] if rows else dict.fromkeys(queries.SALES_NAMES, 0)
    till = [row | {"net": row["amount"] + row["tips"] - row["refunds"]} for row in queries.payment_rows(scope)]
    folios = db.session.execute(select(func.min(Order.folio), func.max(Order.folio)).where(
        Order.location_id == location.id, Order.business_date == day)).one()
    sessions = list(db.session.scalars(select(DrawerSession.z_number).where(
        DrawerSession.location_id == location.id, DrawerSession.business_date == day,
        DrawerSession.z_number.is_not(None)).order_by(DrawerSession.z_number)))
    return {"sessions": sessions, "orders": sales["orders"], "gross": sales["gross_cents"],
            "discounts": sales["discount_cents"], "refunds": sales["refund_cents"], "revenue": sales["revenue_cents"],
            "tax": sales["tax_cents"], "tips": sales["tip_cents"], "by_method": till,
            "first_folio": folios[0], "last_folio": folios[1]}


def close_day(user: User, location_id: int, day: date) -> BusinessDay:
    """Close a business date of a location (managers of it, admins): refused while a session opened that
    date or an order of that date is open, for a future date, and for a date already closed."""
    location = visible_location(user, location_id)
    if day > business_date(utcnow(), location.timezone, location.day_starts_at):
        raise ValidationFailed(errors={"business_date": ["Must not be after the location's business date today."]})
    _lock_days([(location.id, day)], exclusive=True)
    if db.session.get(BusinessDay, (location.id, day)) is not None:
        raise BusinessDayClosed("That business date is already closed.")
    open_session = db.session.scalar(select(DrawerSession.id).where(
        DrawerSession.location_id == location.id, DrawerSession.business_date == day,
        DrawerSession.status == "open").limit(1))
    if open_session is not None:
        raise DrawerSessionOpen("A drawer session opened on that date is still open.", drawer_session_id=open_session)
    open_order = db.session.scalar(select(Order.id).where(
        Order.location_id == location.id, Order.business_date == day, Order.status == "open").limit(1))
    if open_order is not None:
        raise OrdersOpen(order_id=open_order)
    now = utcnow()
    closed = BusinessDay(location_id=location.id, business_date=day, closed_by_id=user.id, closed_by=user,
                         closed_at=now, figures=_figures(location, day))
    db.session.add(closed)
    db.session.flush()
    publish(location_id=location.id, type="business_day.closed", subject=("business_day", location.id, 1),
            actor=user, data={"business_date": day.isoformat()}, occurred_at=now)
    return closed


def get_day(user: User, location_id: int, day: date) -> BusinessDay:
    """A closed day (a day not closed: 404)."""
    location = visible_location(user, location_id)
    closed = db.session.get(BusinessDay, (location.id, day))
    if closed is None:
        raise NotFound("That business date is not closed.")
    return closed


def day_view(closed: BusinessDay) -> dict[str, Any]:
    return {"location_id": closed.location_id, "business_date": closed.business_date,
            "closed_by": {"id": closed.closed_by.id, "name": closed.closed_by.name}, "closed_at": closed.closed_at,
            **closed.figures}
