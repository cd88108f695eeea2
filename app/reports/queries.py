"""Every aggregate query behind the reports, in SQLAlchemy Core; the same SQL on SQLite and PostgreSQL.

Two paths, one set of definitions (see app/reports/rollups.py):
- chain-wide (no waiter): SUM ... GROUP BY over the rollup tables, exact whether or not the
  delta rows were compacted;
- one waiter: the raw orders and order_items through ix_orders_waiter_business_date (a waiter's
  year is a few thousand orders). `/reports/waiters` reads report_waiter_daily in both cases.
Dates always filter on the stored business_date, never on created_at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, Subquery, false, func, select

from app.extensions import db
from app.models import Order, OrderItem, Product, ProductDaily, SalesHourly, User, WaiterDaily


@dataclass(frozen=True)
class Scope:
    """Which orders a report covers."""

    start: date
    end: date
    waiter_id: int | None = None  # None: every waiter
    status: str | None = None  # None: open and closed; "open" or "closed": only those

    @property
    def statuses(self) -> tuple[str, ...]:
        return (self.status,) if self.status else ("open", "closed")


@dataclass(frozen=True)
class Sums:
    orders: int = 0
    items: int = 0
    revenue_cents: int = 0


def _rollup_where(table, scope: Scope) -> list[ColumnElement]:
    where = [table.c.business_date.between(scope.start, scope.end)]
    if scope.status:
        where.append(table.c.closed == (scope.status == "closed"))
    if scope.waiter_id is not None and "waiter_id" in table.c:
        where.append(table.c.waiter_id == scope.waiter_id)
    return where


def counted_lines_where(scope: Scope) -> list[ColumnElement]:
    """Raw-path filter: business dates in range, orders not cancelled (or of the asked status), lines not voided."""
    where = [
        Order.business_date.between(scope.start, scope.end),
        Order.status.in_(scope.statuses),
        OrderItem.voided == false(),
    ]
    if scope.waiter_id is not None:
        where.append(Order.waiter_id == scope.waiter_id)
    return where


def counted_orders(scope: Scope) -> Subquery:
    """One row per counted order (>= 1 non-voided line) with its items and revenue."""
    line_revenue = OrderItem.quantity * OrderItem.unit_price_cents
    keys = (Order.id, Order.business_date, Order.local_hour, Order.waiter_id, Order.status)
    return (
        select(*keys, func.sum(OrderItem.quantity).label("items"), func.sum(line_revenue).label("revenue_cents"))
        .select_from(Order)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(*counted_lines_where(scope))
        .group_by(*keys)
        .subquery("counted_orders")
    )


def _line_sums() -> tuple[ColumnElement, ...]:
    return (
        func.sum(OrderItem.quantity).label("quantity"),
        func.sum(OrderItem.quantity * OrderItem.unit_price_cents).label("revenue_cents"),
        func.count(func.distinct(Order.id)).label("orders"),
    )


def raw_product_sums(scope: Scope) -> Select:
    """Per product: quantity, revenue_cents and orders containing it, from the raw lines."""
    return (
        select(OrderItem.product_id, *_line_sums())
        .select_from(Order)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(*counted_lines_where(scope))
        .group_by(OrderItem.product_id)
    )


def rollup_source(name: str, start: date, end: date) -> Select:
    """What `flask reports rebuild` writes into a rollup ("products", "waiters", "hours"), from raw orders.

    Columns in the order of the rollup's keys then values (app/reports/rollups.py ROLLUPS).
    """
    scope = Scope(start, end)
    if name == "products":
        return (
            select(Order.business_date, OrderItem.product_id, Order.status == "closed", *_line_sums())
            .select_from(Order)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(*counted_lines_where(scope))
            .group_by(Order.business_date, OrderItem.product_id, Order.status)
        )
    c = counted_orders(scope)
    key = {"waiters": c.c.waiter_id, "hours": c.c.local_hour}[name]
    sums = (func.count(), func.sum(c.c["items"]), func.sum(c.c.revenue_cents))
    return select(c.c.business_date, key, c.c.status == "closed", *sums).group_by(c.c.business_date, key, c.c.status)


def product_rows(scope: Scope) -> list[tuple[int, str, int, int, int]]:
    """(product_id, current catalogue name, quantity, revenue_cents, orders) for every product sold."""
    if scope.waiter_id is None:
        t = ProductDaily.__table__
        sums = (
            select(t.c.product_id, func.sum(t.c.quantity).label("quantity"),
                   func.sum(t.c.revenue_cents).label("revenue_cents"), func.sum(t.c.orders).label("orders"))
            .where(*_rollup_where(t, scope))
            .group_by(t.c.product_id)
            .having(func.sum(t.c.orders) > 0)
            .subquery("sums")
        )
    else:
        sums = raw_product_sums(scope).subquery("sums")
    stmt = select(sums.c.product_id, Product.name, sums.c.quantity, sums.c.revenue_cents, sums.c.orders).join(
        Product, Product.id == sums.c.product_id
    )
    return [(pid, name, int(q), int(r), int(o)) for pid, name, q, r, o in db.session.execute(stmt)]


def order_sums(scope: Scope) -> Sums:
    """Distinct counted orders, items and revenue of the scope."""
    if scope.waiter_id is None:
        t = SalesHourly.__table__
        stmt = select(func.sum(t.c.orders), func.sum(t.c["items"]), func.sum(t.c.revenue_cents)).where(
            *_rollup_where(t, scope)
        )
    else:
        c = counted_orders(scope)
        stmt = select(func.count(), func.sum(c.c["items"]), func.sum(c.c.revenue_cents)).select_from(c)
    orders, items, revenue = db.session.execute(stmt).one()
    return Sums(int(orders or 0), int(items or 0), int(revenue or 0))


def waiter_rows(scope: Scope) -> list[tuple[int, str, int, int, int]]:
    """(waiter_id, name, orders, items, revenue_cents) per waiter with counted orders."""
    t = WaiterDaily.__table__
    sums = (
        select(t.c.waiter_id, func.sum(t.c.orders).label("orders"), func.sum(t.c["items"]).label("items"),
               func.sum(t.c.revenue_cents).label("revenue_cents"))
        .where(*_rollup_where(t, scope))
        .group_by(t.c.waiter_id)
        .having(func.sum(t.c.orders) > 0)
        .subquery("sums")
    )
    stmt = select(sums.c.waiter_id, User.name, sums.c.orders, sums.c["items"], sums.c.revenue_cents).join(
        User, User.id == sums.c.waiter_id
    )
    return [(wid, name, int(o), int(i), int(r)) for wid, name, o, i, r in db.session.execute(stmt)]


def sales_rows(scope: Scope, granularity: str) -> list[tuple]:
    """(period, orders, items, revenue_cents) for periods with counted orders; period is a date or naive hour."""
    if scope.waiter_id is None:
        t = SalesHourly.__table__
        period = t.c.business_date if granularity == "day" else t.c.local_hour
        stmt = (
            select(period, func.sum(t.c.orders), func.sum(t.c["items"]), func.sum(t.c.revenue_cents))
            .where(*_rollup_where(t, scope))
            .group_by(period)
            .having(func.sum(t.c.orders) > 0)
        )
    else:
        c = counted_orders(scope)
        period = c.c.business_date if granularity == "day" else c.c.local_hour
        stmt = select(period, func.count(), func.sum(c.c["items"]), func.sum(c.c.revenue_cents)).group_by(period)
    return [(p, int(o), int(i), int(r)) for p, o, i, r in db.session.execute(stmt)]
