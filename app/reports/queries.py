"""Every aggregate query behind the reports, in SQLAlchemy Core; the same SQL on SQLite and PostgreSQL.

Two paths, one set of definitions (see app/reports/rollups.py):
- chain-wide (no waiter): SUM ... GROUP BY over the rollups. A range is cut into whole calendar
  months, read from the monthly folds plus the daily rows not folded yet (a partial index finds
  them), and partial-month edges, read from the daily rows. A 365-day range reads ~13 months of
  monthly rows and ~30 days of daily rows instead of 365 days of daily rows.
- one waiter: the raw orders and order_items through ix_orders_waiter_business_date (a waiter's
  year is a few thousand orders). `/reports/waiters` reads the waiter rollups in both cases.
Every path is exact whether or not compaction ran. Dates filter on the stored business_date,
never on created_at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, Subquery, false, func, select, union_all

from app.extensions import db
from app.models import Order, OrderItem, Product, User
from app.reports.periods import next_month, split_months
from app.reports.rollups import BY_NAME, Rollup


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


def _bucket_where(table, scope: Scope) -> list[ColumnElement]:
    where = []
    if scope.status:
        where.append(table.c.closed == (scope.status == "closed"))
    if scope.waiter_id is not None and "waiter_id" in table.c:
        where.append(table.c.waiter_id == scope.waiter_id)
    return where


def rollup_rows(rollup: Rollup, scope: Scope, group: tuple[str, ...]) -> Subquery:
    """The rollup rows that add up to the scope's figures: `group` columns and the value columns."""
    daily, monthly = rollup.table, rollup.monthly

    def rows(table, *where) -> Select:
        columns = [table.c[name] for name in (*group, *rollup.values)]
        return select(*columns).where(*where, *_bucket_where(table, scope))

    edges, whole = split_months(scope.start, scope.end)
    parts = [rows(daily, daily.c.business_date.between(first, last)) for first, last in edges]
    if whole:
        first_month, last_month = whole
        last_day = next_month(last_month) - timedelta(days=1)
        parts.append(rows(daily, daily.c.business_date.between(first_month, last_day), ~daily.c.folded))
        parts.append(rows(monthly, monthly.c.month.between(first_month, last_month)))
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("rollup_rows")


def _sums(rows: Subquery, names: tuple[str, ...]) -> list:
    return [func.sum(rows.c[name]).label(name) for name in names]


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
        rollup = BY_NAME["products"]
        rows = rollup_rows(rollup, scope, ("product_id",))
        sums = (
            select(rows.c.product_id, *_sums(rows, rollup.values))
            .group_by(rows.c.product_id)
            .having(func.sum(rows.c.orders) > 0)
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
        rows = rollup_rows(BY_NAME["hours"], scope, ())
        stmt = select(*_sums(rows, ("orders", "items", "revenue_cents")))
    else:
        c = counted_orders(scope)
        stmt = select(func.count(), func.sum(c.c["items"]), func.sum(c.c.revenue_cents)).select_from(c)
    orders, items, revenue = db.session.execute(stmt).one()
    return Sums(int(orders or 0), int(items or 0), int(revenue or 0))


def waiter_rows(scope: Scope) -> list[tuple[int, str, int, int, int]]:
    """(waiter_id, name, orders, items, revenue_cents) per waiter with counted orders."""
    rows = rollup_rows(BY_NAME["waiters"], scope, ("waiter_id",))
    sums = (
        select(rows.c.waiter_id, *_sums(rows, ("orders", "items", "revenue_cents")))
        .group_by(rows.c.waiter_id)
        .having(func.sum(rows.c.orders) > 0)
        .subquery("sums")
    )
    stmt = select(sums.c.waiter_id, User.name, sums.c.orders, sums.c["items"], sums.c.revenue_cents).join(
        User, User.id == sums.c.waiter_id
    )
    return [(wid, name, int(o), int(i), int(r)) for wid, name, o, i, r in db.session.execute(stmt)]


def sales_rows(scope: Scope, granularity: str) -> list[tuple]:
    """(period, orders, items, revenue_cents) for periods with counted orders; period is a date or naive hour."""
    if scope.waiter_id is None:
        t = BY_NAME["hours"].table  # every period needs its own days and hours: the daily rows only
        period = t.c.business_date if granularity == "day" else t.c.local_hour
        stmt = (
            select(period, func.sum(t.c.orders), func.sum(t.c["items"]), func.sum(t.c.revenue_cents))
            .where(t.c.business_date.between(scope.start, scope.end), *_bucket_where(t, scope))
            .group_by(period)
            .having(func.sum(t.c.orders) > 0)
        )
    else:
        c = counted_orders(scope)
        period = c.c.business_date if granularity == "day" else c.c.local_hour
        stmt = select(period, func.count(), func.sum(c.c["items"]), func.sum(c.c.revenue_cents)).group_by(period)
    return [(p, int(o), int(i), int(r)) for p, o, i, r in db.session.execute(stmt)]
