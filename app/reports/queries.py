"""Every aggregate query behind the reports, in SQLAlchemy Core; the same SQL on SQLite and PostgreSQL.

Two paths, one set of definitions (see app/reports/rollups.py):
Both filter on the locations the caller may see (or the one asked for); an admin's whole-chain
report has no location filter at all.
- every waiter: SUM ... GROUP BY over the rollups. A range is cut into whole calendar
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
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, bindparam, false, func, select, text, union_all
from sqlalchemy.sql.elements import BindParameter

from app.models import Location, Order, OrderItem, Product, User
from app.replicas import report_session
from app.reports.periods import next_month, split_months
from app.reports.rollups import BY_NAME, Rollup


@dataclass(frozen=True)
class Scope:
    """Which orders a report covers."""

    start: date
    end: date
    waiter_id: int | None = None  # None: every waiter
    status: str | None = None  # None: open and closed; "open" or "closed": only those
    location_ids: tuple[int, ...] | None = None  # None: every location (no filter)

    @property
    def statuses(self) -> tuple[str, ...]:
        return (self.status,) if self.status else ("open", "closed")


@dataclass(frozen=True)
class Shape:
    """What a rollup read looks like for a scope; its statement is built once per shape, dates bound."""

    edges: int  # partial-month date ranges read from the daily rows (0-2)
    whole: bool  # whole months read from the monthly rows (+ daily rows not folded yet)
    status: bool  # open/closed bucket filter
    waiter: bool  # waiter filter (waiter rollup only)
    locations: bool = False  # location filter


def _locations_param() -> BindParameter:
    return bindparam("location_ids", expanding=True)


def shape_and_params(scope: Scope) -> tuple[Shape, dict]:
    """The shape of the rollup read for `scope` and the values of its bound parameters."""
    edges, whole = split_months(scope.start, scope.end)
    params: dict = {"closed": scope.status == "closed", "waiter_id": scope.waiter_id}
    if scope.location_ids is not None:
        params["location_ids"] = list(scope.location_ids)
    for n, (first, last) in enumerate(edges):
        params[f"edge{n}_first"], params[f"edge{n}_last"] = first, last
    if whole:
        params["first_month"], params["last_month"] = whole
        params["last_day"] = next_month(whole[1]) - timedelta(days=1)
    shape = Shape(len(edges), whole is not None, scope.status is not None, scope.waiter_id is not None,
                  scope.location_ids is not None)
    return shape, params


def rollup_rows(rollup: Rollup, shape: Shape, group: tuple[str, ...]) -> Subquery:
    """The rollup rows that add up to a scope's figures: `group` columns and the value columns."""
    daily, monthly = rollup.table, rollup.monthly

    def rows(table, *where) -> Select:
        columns = [table.c[name] for name in (*group, *rollup.values)]
        if shape.status:
            where += (table.c.closed == bindparam("closed"),)
        if shape.waiter and "waiter_id" in table.c:
            where += (table.c.waiter_id == bindparam("waiter_id"),)
        if shape.locations:
            where += (table.c.location_id.in_(_locations_param()),)
        return select(*columns).where(*where)

    parts = [rows(daily, daily.c.business_date.between(bindparam(f"edge{n}_first"), bindparam(f"edge{n}_last")))
             for n in range(shape.edges)]
    if shape.whole:
        parts.append(rows(daily, daily.c.business_date.between(bindparam("first_month"), bindparam("last_day")),
                          ~daily.c.folded))
        parts.append(rows(monthly, monthly.c.month.between(bindparam("first_month"), bindparam("last_month"))))
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()


def serial_reads() -> None:
    """No parallel workers for the rest of this transaction (PostgreSQL).

    Report reads touch a few thousand rollup rows; starting parallel workers for them, which the
    planner likes for a UNION ALL of index scans, costs more (~10 ms on a 2-core box) than the work.
    """
    if report_session().get_bind().dialect.name == "postgresql":
        report_session().execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


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
    if scope.location_ids is not None:
        where.append(Order.location_id.in_(scope.location_ids))
    return where


def counted_orders(scope: Scope) -> Subquery:
    """One row per counted order (>= 1 non-voided line) with its items and revenue."""
    line_revenue = OrderItem.quantity * OrderItem.unit_price_cents
    keys = (Order.id, Order.business_date, Order.location_id, Order.local_hour, Order.waiter_id, Order.status)
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
            select(Order.business_date, Order.location_id, OrderItem.product_id, Order.status == "closed",
                   *_line_sums())
            .select_from(Order)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(*counted_lines_where(scope))
            .group_by(Order.business_date, Order.location_id, OrderItem.product_id, Order.status)
        )
    c = counted_orders(scope)
    key = {"waiters": c.c.waiter_id, "hours": c.c.local_hour}[name]
    sums = (func.count(), func.sum(c.c["items"]), func.sum(c.c.revenue_cents))
    return (select(c.c.business_date, c.c.location_id, key, c.c.status == "closed", *sums)
            .group_by(c.c.business_date, c.c.location_id, key, c.c.status))


@cache
def _products_statement(shape: Shape) -> Select:
    """Per product sums with the catalogue name, and the range's distinct orders in the same statement."""
    rollup = BY_NAME["products"]
    rows = rollup_rows(rollup, shape, ("product_id",))
    sums = (
        select(rows.c.product_id, *_sums(rows, rollup.values))
        .group_by(rows.c.product_id)
        .having(func.sum(rows.c.orders) > 0)
        .subquery("sums")
    )
    hours = rollup_rows(BY_NAME["hours"], shape, ())
    total_orders = select(func.sum(hours.c.orders)).scalar_subquery()
    return select(sums.c.product_id, Product.name, sums.c.quantity, sums.c.revenue_cents, sums.c.orders,
                  total_orders).join(Product, Product.id == sums.c.product_id)


def product_report_rows(scope: Scope) -> tuple[list[tuple[int, str, int, int, int]], int]:
    """([(product_id, current catalogue name, quantity, revenue_cents, orders)], distinct counted orders)."""
    serial_reads()
    if scope.waiter_id is None:
        shape, params = shape_and_params(scope)
        result = report_session().execute(_products_statement(shape), params).all()
        total = int(result[0][5]) if result else 0  # no product sold: no order counts either
        return [(pid, name, int(q), int(r), int(o)) for pid, name, q, r, o, _ in result], total
    sums = raw_product_sums(scope).subquery("sums")
    stmt = select(sums.c.product_id, Product.name, sums.c.quantity, sums.c.revenue_cents, sums.c.orders).join(
        Product, Product.id == sums.c.product_id
    )
    rows = [(pid, name, int(q), int(r), int(o)) for pid, name, q, r, o in report_session().execute(stmt)]
    orders = report_session().execute(select(func.count()).select_from(counted_orders(scope))).scalar_one()
    return rows, orders


@cache
def _waiters_statement(shape: Shape) -> Select:
    rows = rollup_rows(BY_NAME["waiters"], shape, ("waiter_id",))
    sums = (
        select(rows.c.waiter_id, *_sums(rows, ("orders", "items", "revenue_cents")))
        .group_by(rows.c.waiter_id)
        .having(func.sum(rows.c.orders) > 0)
        .subquery("sums")
    )
    return select(sums.c.waiter_id, User.name, sums.c.orders, sums.c["items"], sums.c.revenue_cents).join(
        User, User.id == sums.c.waiter_id
    )


def waiter_rows(scope: Scope) -> list[tuple[int, str, int, int, int]]:
    """(waiter_id, name, orders, items, revenue_cents) per waiter with counted orders."""
    serial_reads()
    shape, params = shape_and_params(scope)
    result = report_session().execute(_waiters_statement(shape), params)
    return [(wid, name, int(o), int(i), int(r)) for wid, name, o, i, r in result]


def sales_rows(scope: Scope, granularity: str) -> list[tuple]:
    """(period, orders, items, revenue_cents) for periods with counted orders; period is a date or naive hour."""
    serial_reads()
    if scope.waiter_id is None:
        t = BY_NAME["hours"].table  # every period needs its own days and hours: the daily rows only
        period: ColumnElement[Any] = t.c.business_date if granularity == "day" else t.c.local_hour
        stmt = (
            select(period, func.sum(t.c.orders), func.sum(t.c["items"]), func.sum(t.c.revenue_cents))
            .where(t.c.business_date.between(scope.start, scope.end),
                   *([t.c.closed == (scope.status == "closed")] if scope.status else []),
                   *([t.c.location_id.in_(scope.location_ids)] if scope.location_ids is not None else []))
            .group_by(period)
            .having(func.sum(t.c.orders) > 0)
        )
    else:
        c = counted_orders(scope)
        period = c.c.business_date if granularity == "day" else c.c.local_hour
        stmt = select(period, func.count(), func.sum(c.c["items"]), func.sum(c.c.revenue_cents)).group_by(period)
    return [(p, int(o), int(i), int(r)) for p, o, i, r in report_session().execute(stmt)]


@cache
def _locations_statement(shape: Shape) -> Select:
    rows = rollup_rows(BY_NAME["waiters"], shape, ("location_id",))
    sums = (
        select(rows.c.location_id, *_sums(rows, ("orders", "items", "revenue_cents")))
        .group_by(rows.c.location_id)
        .having(func.sum(rows.c.orders) > 0)
        .subquery("sums")
    )
    return select(sums.c.location_id, Location.name, sums.c.orders, sums.c["items"], sums.c.revenue_cents).join(
        Location, Location.id == sums.c.location_id
    )


def location_rows(scope: Scope) -> list[tuple[int, str, int, int, int]]:
    """(location_id, name, orders, items, revenue_cents) per location with counted orders (waiter rollups)."""
    serial_reads()
    shape, params = shape_and_params(scope)
    result = report_session().execute(_locations_statement(shape), params)
    return [(lid, name, int(o), int(i), int(r)) for lid, name, o, i, r in result]
