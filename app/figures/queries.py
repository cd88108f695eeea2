"""Every aggregate query behind the reports, in SQLAlchemy Core; the same SQL on SQLite and PostgreSQL.

Two paths, one set of definitions (see app/figures/rollups.py):
Both filter on the locations the caller may see (or the one asked for); an admin's whole-chain
report has no location filter at all.
- every waiter: SUM ... GROUP BY over the rollups. A range is cut into whole calendar
  months, read from the monthly folds plus the daily rows not folded yet (a partial index finds
  them), and partial-month edges, read from the daily rows. A 365-day range reads ~13 months of
  monthly rows and ~30 days of daily rows instead of 365 days of daily rows.
- one waiter: the raw orders and order_items through ix_orders_waiter_business_date (a waiter's
  year is a few thousand orders). `/reports/waiters` reads the waiter rollups in both cases, and
  `/reports/payments` the till rollups (for one waiter, the per-waiter till, indexed by waiter).
Every path is exact whether or not compaction ran. Dates filter on the stored business_date,
never on created_at.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Subquery,
    bindparam,
    false,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.sql.elements import BindParameter

from app.figures.periods import next_month, split_months
from app.figures.rollups import BY_NAME, PAYMENT_VALUES, PRODUCT_VALUES, SALES_VALUES, Rollup
from app.models import Location, Order, OrderItem, Payment, Product, Refund, RefundItem, User
from app.replicas import report_session


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
    return where + _order_filters(scope)


def _order_filters(scope: Scope) -> list[ColumnElement]:
    where = []
    if scope.waiter_id is not None:
        where.append(Order.waiter_id == scope.waiter_id)
    if scope.location_ids is not None:
        where.append(Order.location_id.in_(scope.location_ids))
    return where


def counted_refunds_where(scope: Scope) -> list[ColumnElement]:
    """Raw-path filter of refunds: made on a business date in range, of an order not cancelled (refunds
    exist only on closed orders) and of the asked status."""
    return [Refund.business_date.between(scope.start, scope.end), Order.status.in_(scope.statuses),
            *_order_filters(scope)]


ZERO = literal(0, BigInteger)
# The value columns, as declared once (app/models/report.py); every list of figures below follows them.
PRODUCT_NAMES, SALES_NAMES = PRODUCT_VALUES, SALES_VALUES


def _figures_as(names: tuple[str, ...], exprs: dict[str, Any], skip: tuple[str, ...] = ()) -> list:
    """`exprs` labelled, in the order of the value columns `names` (0 where a figure has no expression)."""
    unknown = exprs.keys() - set(names)
    if unknown:
        raise KeyError(f"not a value column: {sorted(unknown)}")
    return [exprs.get(name, ZERO).label(name) for name in names if name not in skip]


def counted_orders(scope: Scope) -> Subquery:
    """One row per counted order (>= 1 non-voided line) with its lines' figures (SALES_NAMES but `orders`;
    tips are order_tips())."""
    keys = (Order.id, Order.business_date, Order.location_id, Order.local_hour, Order.waiter_id, Order.status)
    figures = _figures_as(SALES_NAMES, {
        "items": func.sum(OrderItem.quantity), "revenue_cents": func.sum(OrderItem.net_cents),
        "gross_cents": func.sum(OrderItem.quantity * OrderItem.unit_price_cents),
        "discount_cents": func.sum(OrderItem.discount_cents), "tax_cents": func.sum(OrderItem.tax_cents)},
        skip=("orders",))
    return (
        select(*keys, *figures)
        .select_from(Order)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(*counted_lines_where(scope))
        .group_by(*keys)
        .subquery("counted_orders")
    )


def counted_refunds(scope: Scope) -> Subquery:
    """One row per counted refund, on its own business date and local hour, as SALES_NAMES figures."""
    return (
        select(Refund.id, Refund.business_date, Order.location_id, Refund.local_hour, Order.waiter_id, Order.status,
               *_figures_as(SALES_NAMES, {"revenue_cents": Refund.tax_cents - Refund.amount_cents,
                                          "tax_cents": -Refund.tax_cents, "refund_cents": Refund.amount_cents}))
        .select_from(Refund)
        .join(Order, Order.id == Refund.order_id)
        .where(*counted_refunds_where(scope))
        .subquery("counted_refunds")
    )


def order_tips(scope: Scope) -> Subquery:
    """One row per order of the scope with tips (any order not cancelled, even one without a counted line:
    a tip-only close), on the order's business date and local hour."""
    keys = (Order.id, Order.business_date, Order.location_id, Order.local_hour, Order.waiter_id, Order.status)
    return (
        select(*keys, *_figures_as(SALES_NAMES, {"tip_cents": func.sum(Payment.tip_cents)}))
        .select_from(Order)
        .join(Payment, Payment.order_id == Order.id)
        .where(Order.business_date.between(scope.start, scope.end), Order.status.in_(scope.statuses),
               Payment.tip_cents > 0, *_order_filters(scope))
        .group_by(*keys)
        .subquery("order_tips")
    )


def sales_parts(scope: Scope) -> Subquery:
    """Counted orders (orders 1), tips and counted refunds (orders 0), one figure set per row (SALES_NAMES)."""
    o, t, r = counted_orders(scope), order_tips(scope), counted_refunds(scope)

    def part(q: Subquery, orders: ColumnElement) -> Select:
        return select(q.c.business_date, q.c.location_id, q.c.local_hour, q.c.waiter_id, q.c.status,
                      *(orders.label(n) if n == "orders" else q.c[n] for n in SALES_NAMES))

    return union_all(part(o, literal(1, BigInteger)), part(t, t.c.orders), part(r, r.c.orders)).subquery(
        "sales_parts")


def _line_sums() -> tuple[ColumnElement, ...]:
    """PRODUCT_NAMES over raw lines (refund figures zero)."""
    return tuple(_figures_as(PRODUCT_NAMES, {
        "quantity": func.sum(OrderItem.quantity), "revenue_cents": func.sum(OrderItem.net_cents),
        "orders": func.count(func.distinct(Order.id)),
        "gross_cents": func.sum(OrderItem.quantity * OrderItem.unit_price_cents),
        "discount_cents": func.sum(OrderItem.discount_cents), "tax_cents": func.sum(OrderItem.tax_cents)}))


def _refund_item_sums() -> tuple[ColumnElement, ...]:
    """PRODUCT_NAMES over refund parts."""
    return tuple(_figures_as(PRODUCT_NAMES, {
        "revenue_cents": func.sum(RefundItem.tax_cents - RefundItem.amount_cents),
        "tax_cents": func.sum(-RefundItem.tax_cents), "refund_cents": func.sum(RefundItem.amount_cents),
        "quantity_refunded": func.sum(RefundItem.quantity)}))


def _refund_items_from(stmt: Select) -> Select:
    return (stmt.select_from(RefundItem).join(Refund, Refund.id == RefundItem.refund_id)
            .join(OrderItem, OrderItem.id == RefundItem.item_id).join(Order, Order.id == Refund.order_id))


def raw_product_sums(scope: Scope) -> Select:
    """Per product: PRODUCT_NAMES from the raw lines and refund parts."""
    lines = (select(OrderItem.product_id, *_line_sums()).select_from(Order)
             .join(OrderItem, OrderItem.order_id == Order.id)
             .where(*counted_lines_where(scope)).group_by(OrderItem.product_id))
    refunds = (_refund_items_from(select(OrderItem.product_id, *_refund_item_sums()))
               .where(*counted_refunds_where(scope)).group_by(OrderItem.product_id))
    both = union_all(lines, refunds).subquery("both")
    return select(both.c.product_id, *(func.sum(both.c[n]).label(n) for n in PRODUCT_NAMES)).group_by(
        both.c.product_id)


def till_source(start: date, end: date, by_waiter: bool) -> Select:
    """The till from the raw payments and refunds made on business dates start..end, whatever their
    order's status: per business date, the order's location (and waiter) and method, PAYMENT_VALUES
    (several rows per key where payments and refunds both fall on it: readers sum)."""

    def keys(made) -> list:
        return [made.business_date, Order.location_id, *([Order.waiter_id] if by_waiter else []), made.method]

    paid = (select(*keys(Payment), *_figures_as(PAYMENT_VALUES, {
                "payments": func.count(), "amount_cents": func.sum(Payment.amount_cents),
                "tip_cents": func.sum(Payment.tip_cents)}))
            .join(Order, Order.id == Payment.order_id)
            .where(Payment.business_date.between(start, end)).group_by(*keys(Payment)))
    returned = (select(*keys(Refund), *_figures_as(PAYMENT_VALUES, {
                    "refunds": func.count(), "refund_cents": func.sum(Refund.amount_cents + Refund.tip_cents)}))
                .join(Order, Order.id == Refund.order_id)
                .where(Refund.business_date.between(start, end)).group_by(*keys(Refund)))
    return select(union_all(paid, returned).subquery("till_source"))


def rollup_source(name: str, start: date, end: date) -> Select:
    """What `flask reports rebuild` writes into a rollup ("products", "waiters", "hours", "payments",
    "payment_waiters"), from raw orders, payments and refunds (several rows per key where lines and
    refunds both fall on a key: readers sum).

    Columns in the order of the rollup's keys then values (app/figures/rollups.py ROLLUPS).
    """
    if name in ("payments", "payment_waiters"):
        return till_source(start, end, by_waiter=name == "payment_waiters")
    scope = Scope(start, end)
    if name == "products":
        lines = (
            select(Order.business_date, Order.location_id, OrderItem.product_id, Order.status == "closed",
                   *_line_sums())
            .select_from(Order)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(*counted_lines_where(scope))
            .group_by(Order.business_date, Order.location_id, OrderItem.product_id, Order.status)
        )
        refunds = (
            _refund_items_from(select(Refund.business_date, Order.location_id, OrderItem.product_id,
                                      Order.status == "closed", *_refund_item_sums()))
            .where(*counted_refunds_where(scope))
            .group_by(Refund.business_date, Order.location_id, OrderItem.product_id, Order.status)
        )
        return select(union_all(lines, refunds).subquery("product_source"))
    c = sales_parts(scope)
    key = {"waiters": c.c.waiter_id, "hours": c.c.local_hour}[name]
    sums = [func.sum(c.c[n]) for n in SALES_NAMES]
    return (select(c.c.business_date, c.c.location_id, key, c.c.status == "closed", *sums)
            .group_by(c.c.business_date, c.c.location_id, key, c.c.status))


def _shown(rows, names: tuple[str, ...]) -> ColumnElement[bool]:
    """A row is shown when it has a counted order, or a refund (products: a refunded unit) or tips on its own."""
    if "quantity_refunded" in names:
        return or_(func.sum(rows.c.orders) > 0, func.sum(rows.c.quantity_refunded) > 0)
    return or_(func.sum(rows.c.orders) > 0, func.sum(rows.c.refund_cents) > 0, func.sum(rows.c.tip_cents) > 0)


def _figures(row, names: tuple[str, ...]) -> dict[str, int]:
    return {name: int(row[name] or 0) for name in names}


@cache
def _products_statement(shape: Shape) -> Select:
    """Per product sums with the catalogue name, and the range's distinct orders in the same statement."""
    rollup = BY_NAME["products"]
    rows = rollup_rows(rollup, shape, ("product_id",))
    sums = (
        select(rows.c.product_id, *_sums(rows, rollup.values))
        .group_by(rows.c.product_id)
        .having(_shown(rows, rollup.values))
        .subquery("sums")
    )
    hours = rollup_rows(BY_NAME["hours"], shape, ())
    total_orders = select(func.sum(hours.c.orders)).scalar_subquery()
    return select(sums.c.product_id, Product.name.label("product_name"), *(sums.c[n] for n in PRODUCT_NAMES),
                  total_orders.label("total_orders")).join(Product, Product.id == sums.c.product_id)


def product_report_rows(scope: Scope) -> tuple[list[dict], int]:
    """([{product_id, product_name (current catalogue name), PRODUCT_NAMES...}], distinct counted orders)."""
    serial_reads()
    if scope.waiter_id is None:
        shape, params = shape_and_params(scope)
        result = report_session().execute(_products_statement(shape), params).mappings().all()
        total = int(result[0]["total_orders"] or 0) if result else 0  # no product sold: no order counts either
        return [{"product_id": r["product_id"], "product_name": r["product_name"], **_figures(r, PRODUCT_NAMES)}
                for r in result], total
    sums = raw_product_sums(scope).subquery("sums")
    stmt = (select(sums.c.product_id, Product.name.label("product_name"), *(sums.c[n] for n in PRODUCT_NAMES))
            .join(Product, Product.id == sums.c.product_id)
            .where(or_(sums.c.orders > 0, sums.c.quantity_refunded > 0)))
    rows = [{"product_id": r["product_id"], "product_name": r["product_name"], **_figures(r, PRODUCT_NAMES)}
            for r in report_session().execute(stmt).mappings()]
    orders = report_session().execute(select(func.count()).select_from(counted_orders(scope))).scalar_one()
    return rows, orders


@cache
def _grouped_statement(shape: Shape, key: str) -> Select:
    """Per waiter (key "waiter_id") or per location ("location_id") from the waiter rollups, with the name."""
    rows = rollup_rows(BY_NAME["waiters"], shape, (key,))
    sums = (
        select(rows.c[key], *_sums(rows, SALES_NAMES))
        .group_by(rows.c[key])
        .having(_shown(rows, SALES_NAMES))
        .subquery("sums")
    )
    named = User if key == "waiter_id" else Location
    return select(sums.c[key], named.name.label("name"), *(sums.c[n] for n in SALES_NAMES)).join(
        named, named.id == sums.c[key])


def waiter_rows(scope: Scope) -> list[dict]:
    """{waiter_id, waiter_name, SALES_NAMES...} per waiter with counted orders or refunds."""
    serial_reads()
    shape, params = shape_and_params(scope)
    result = report_session().execute(_grouped_statement(shape, "waiter_id"), params).mappings()
    return [{"waiter_id": r["waiter_id"], "waiter_name": r["name"], **_figures(r, SALES_NAMES)} for r in result]


def sales_rows(scope: Scope, granularity: str) -> list[dict]:
    """{period, SALES_NAMES...} for periods with counted orders or refunds; period is a date or naive hour."""
    serial_reads()
    if scope.waiter_id is None:
        t = BY_NAME["hours"].table  # every period needs its own days and hours: the daily rows only
        period: ColumnElement[Any] = t.c.business_date if granularity == "day" else t.c.local_hour
        stmt = (
            select(period.label("period"), *(func.sum(t.c[n]).label(n) for n in SALES_NAMES))
            .where(t.c.business_date.between(scope.start, scope.end),
                   *([t.c.closed == (scope.status == "closed")] if scope.status else []),
                   *([t.c.location_id.in_(scope.location_ids)] if scope.location_ids is not None else []))
            .group_by(period)
            .having(or_(func.sum(t.c.orders) > 0, func.sum(t.c.refund_cents) > 0, func.sum(t.c.tip_cents) > 0))
        )
    else:
        c = sales_parts(scope)
        period = c.c.business_date if granularity == "day" else c.c.local_hour
        stmt = select(period.label("period"), *(func.sum(c.c[n]).label(n) for n in SALES_NAMES)).group_by(period)
    return [{"period": r["period"], **_figures(r, SALES_NAMES)} for r in report_session().execute(stmt).mappings()]


def location_rows(scope: Scope) -> list[dict]:
    """{location_id, location_name, SALES_NAMES...} per location with counted orders or refunds."""
    serial_reads()
    shape, params = shape_and_params(scope)
    result = report_session().execute(_grouped_statement(shape, "location_id"), params).mappings()
    return [{"location_id": r["location_id"], "location_name": r["name"], **_figures(r, SALES_NAMES)}
            for r in result]


@cache
def _payments_statement(shape: Shape) -> Select:
    """Per method from the till rollup (the per-waiter one when the scope names a waiter), ordered by method."""
    rows = rollup_rows(BY_NAME["payment_waiters" if shape.waiter else "payments"], shape, ("method",))
    return (select(rows.c.method, *_sums(rows, PAYMENT_VALUES)).group_by(rows.c.method)
            .having(or_(func.sum(rows.c.payments) > 0, func.sum(rows.c.refunds) > 0))
            .order_by(rows.c.method))


def payment_rows(scope: Scope) -> list[dict]:
    """The till per method: payments (count, amount, tips) and refunds (amount + tip) on the business date
    each was made, cancelled orders included (no status filter), one row per method that saw a payment
    or a refund. Reads the till rollups (the per-waiter one for `waiter_id`): daily rows for partial
    months, monthly folds for whole ones."""
    serial_reads()
    shape, params = shape_and_params(replace(scope, status=None))
    result = report_session().execute(_payments_statement(shape), params).mappings()
    return [{"method": r["method"], "payments": int(r["payments"] or 0), "amount": int(r["amount_cents"] or 0),
             "tips": int(r["tip_cents"] or 0), "refunds": int(r["refund_cents"] or 0)} for r in result]
