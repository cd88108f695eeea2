"""The business definition of the rollups: what an order contributes to the reports, and the delta rows
that keep them exact. (The bulk seed's packing lives in app/seed/packing.py, the multi-table writer in
app/multi_insert.py; the value columns are declared once, in app/models/report.py.)

Every change to an order goes through one context manager, in the transaction that changes it:

    order = <the order, loaded with SELECT ... FOR UPDATE and fresh items>
    with tracking(order):             # takes the order's contribution before the change
        ... mutate the order (append/void lines through `order.items`, close, cancel) ...
    # on leaving the block: flush, then record (before, after) as delta rows

    with tracking() as changes:       # creating: the order did not count before
        ... insert the order(s) ...
        changes.created(order)        # batch sync: once per inserted order, one record() for all

Leaving the block by an exception records nothing (the request rolls back anyway). Adding a figure
to the reports means adding it to `contribution()` and a value column to a rollup: no order
operation changes. `contribution()` reads `order.items`, so append lines through the relationship
(or refresh it) inside the block, and store the order's `business_date` and `local_hour` (from its
location's clock, app/business_time.py) on creation. Lock with `with_for_update={"of": Order}`:
the joined `waiter` would otherwise lock the user row.

`record()` only INSERTs delta rows (after - before), never updates a shared row, so concurrent
order writes never wait on each other here. The "before" must be taken under the order's row lock:
two unserialized changes to one order would each subtract a stale "before" (the 0/1 `orders` flags
are not additive).

Definitions (the same in the raw-path queries and in `flask reports rebuild`): a cancelled order
contributes nothing to the sales rollups; voided lines never count; an order counts in `orders` only
when it has at least one non-voided line; everything is attributed to the order's location,
`business_date` and `local_hour`, even lines appended later; `closed` is `status == "closed"`.
The till (`/reports/payments`) is apart: every payment and refund of any order, cancelled ones
included, counts on its own business date (stored on it when it was made, from its location's
clock), under its method, at the order's location and (for the per-waiter rollup) its waiter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table

from app.extensions import db
from app.models import (
    PaymentDaily,
    PaymentMonthly,
    PaymentWaiterDaily,
    PaymentWaiterMonthly,
    ProductDaily,
    ProductMonthly,
    SalesHourly,
    SalesMonthly,
    WaiterDaily,
    WaiterMonthly,
)
from app.models.report import PAYMENT_VALUES, PRODUCT_VALUES, SALES_VALUES
from app.multi_insert import insert_all

if TYPE_CHECKING:
    from app.models import Order

ProductKey = tuple[date, int, int, bool]  # business_date, location_id, product_id, closed
WaiterKey = tuple[date, int, int, bool]  # business_date, location_id, waiter_id, closed
HourKey = tuple[date, int, datetime, bool]  # business_date, location_id, local_hour (naive), closed
TillKey = tuple[date, int, str]  # business_date (the payment's or refund's), location_id, method
TillWaiterKey = tuple[date, int, int, str]  # business_date, location_id, the order's waiter_id, method
Values = tuple[int, ...]  # a rollup's value columns, in their declared order (app/models/report.py)


@dataclass(frozen=True)
class Rollup:
    """One rollup: its attribute on Contribution, its delta table, key and value columns, and the
    monthly table compaction folds it into (keyed by `month` plus `monthly_keys`)."""

    name: str
    table: Table
    keys: tuple[str, ...]  # business_date first, location_id second
    values: tuple[str, ...]
    monthly: Table
    monthly_keys: tuple[str, ...]


ROLLUPS = (
    Rollup("products", ProductDaily.__table__, ("business_date", "location_id", "product_id", "closed"),
           PRODUCT_VALUES, ProductMonthly.__table__, ("location_id", "product_id", "closed")),
    Rollup("waiters", WaiterDaily.__table__, ("business_date", "location_id", "waiter_id", "closed"),
           SALES_VALUES, WaiterMonthly.__table__, ("location_id", "waiter_id", "closed")),
    Rollup("hours", SalesHourly.__table__, ("business_date", "location_id", "local_hour", "closed"),
           SALES_VALUES, SalesMonthly.__table__, ("location_id", "closed")),
    Rollup("payments", PaymentDaily.__table__, ("business_date", "location_id", "method"),
           PAYMENT_VALUES, PaymentMonthly.__table__, ("location_id", "method")),
    Rollup("payment_waiters", PaymentWaiterDaily.__table__, ("business_date", "location_id", "waiter_id", "method"),
           PAYMENT_VALUES, PaymentWaiterMonthly.__table__, ("location_id", "waiter_id", "method")),
)
BY_NAME = {rollup.name: rollup for rollup in ROLLUPS}


@dataclass(frozen=True)
class Contribution:
    """What one order adds to each rollup in its current state; immutable, safe to keep as `before`.
    Values in the order of PRODUCT_VALUES / SALES_VALUES."""

    products: tuple[tuple[ProductKey, Values], ...] = ()
    waiters: tuple[tuple[WaiterKey, Values], ...] = ()
    hours: tuple[tuple[HourKey, Values], ...] = ()
    payments: tuple[tuple[TillKey, Values], ...] = ()
    payment_waiters: tuple[tuple[TillWaiterKey, Values], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.products or self.waiters or self.hours or self.payments or self.payment_waiters)


EMPTY = Contribution()


def _maker(names: tuple[str, ...]) -> Callable[..., Values]:
    """A function taking figures by name and answering them as a rollup's values, in the declared
    order, 0 where not given; an unknown name is a KeyError (a figure without a column is a bug)."""
    index = {name: i for i, name in enumerate(names)}
    zeros = [0] * len(names)

    def values(**figures: int) -> Values:
        row = zeros.copy()
        for name, value in figures.items():
            row[index[name]] = value
        return tuple(row)

    return values


product_figures = _maker(PRODUCT_VALUES)  # a product rollup row's values, by column name
sales_figures = _maker(SALES_VALUES)  # a waiter or hour rollup row's values, by column name
till_figures = _maker(PAYMENT_VALUES)  # a till rollup row's values, by column name


def _add(acc: dict, key: Any, values: Values) -> None:
    total = acc.get(key)
    acc[key] = values if total is None else tuple(a + b for a, b in zip(total, values, strict=True))


def line_figures(line: Any) -> Values:
    """What a counted (not voided) line adds to its product's row: its units, net revenue, the order
    (0/1: summed per product it stays 1, see below), gross (units x unit price), discounts and tax."""
    return product_figures(quantity=line.quantity, revenue_cents=line.net_cents, orders=1,
                           gross_cents=line.quantity * line.unit_price_cents, discount_cents=line.discount_cents,
                           tax_cents=line.tax_cents)


def refund_part_figures(part: Any) -> Values:
    """What a refunded part of a line takes off its product's row on the refund's date: its net off
    revenue, its tax off tax; it adds its amount to refunds and its units to quantity_refunded."""
    return product_figures(revenue_cents=part.tax_cents - part.amount_cents, tax_cents=-part.tax_cents,
                           refund_cents=part.amount_cents, quantity_refunded=part.quantity)


def refund_figures(refund: Any) -> Values:
    """What a refund does to its waiter's and hour's rows on its own date (as its parts, by amount)."""
    return sales_figures(revenue_cents=refund.tax_cents - refund.amount_cents, tax_cents=-refund.tax_cents,
                         refund_cents=refund.amount_cents)


def payment_figures(payment: Any) -> Values:
    """What a payment adds to its method's till row on its own business date: one payment, its amount, its tip."""
    return till_figures(payments=1, amount_cents=payment.amount_cents, tip_cents=payment.tip_cents)


def refund_till_figures(refund: Any) -> Values:
    """What a refund adds to its method's till row on its own business date: one refund, and what it gave
    back, the tips it returned included (a cancel's refund returns them)."""
    return till_figures(refunds=1, refund_cents=refund.amount_cents + refund.tip_cents)


def till(order: Any) -> tuple[dict[TillKey, Values], dict[TillWaiterKey, Values]]:
    """The order's payments and refunds per (business date, location, method), and the same with its
    waiter: whatever the order's status (the till saw a cancelled order's money come and go)."""
    per_method: dict[TillKey, Values] = {}
    per_waiter: dict[TillWaiterKey, Values] = {}
    location, waiter = order.location_id, order.waiter_id
    moves = [(p, payment_figures(p)) for p in getattr(order, "payments", ())]
    moves += [(r, refund_till_figures(r)) for r in getattr(order, "refunds", ())]
    for move, values in moves:
        _add(per_method, (move.business_date, location, move.method), values)
        _add(per_waiter, (move.business_date, location, waiter, move.method), values)
    return per_method, per_waiter


def contribution(order: Order | None) -> Contribution:
    """The order's contribution now: EMPTY when it is None; its sales part (see `sales_contribution`) and
    its till (`till()`)."""
    if order is None:
        return EMPTY
    per_method, per_waiter = till(order)
    found = sales_contribution(order)
    if not per_method:
        return found
    return replace(found, payments=tuple(per_method.items()), payment_waiters=tuple(per_waiter.items()))


def sales_contribution(order: Any) -> Contribution:
    """The order's sales contribution now: EMPTY when it is cancelled, or has no counted line and no tip.

    Lines count on the order's business date and local hour: quantity, gross (line_total), discounts,
    tax, revenue (the line's net). Tips (its payments' tips) count there too. Each refund counts on its
    own business date and local hour (its location's clock when it was made): it takes its net
    (amount - tax) off revenue and its tax off tax, and adds its amount to refunds and its units to
    quantity_refunded. An order counts in `orders` with a counted line; its tips count whatever (a
    tip-only close). `order` is an Order or anything with its attributes (the bulk seed's templates).
    """
    if order.status == "cancelled":
        return EMPTY
    per_product: dict[int, Values] = {}
    for line in order.items:
        if not line.voided:
            _add(per_product, line.product_id, line_figures(line))
    tips = sum(payment.tip_cents for payment in getattr(order, "payments", ()))
    if not per_product and not tips:
        return EMPTY  # refunds need a counted line: an order without one has none
    flag = PRODUCT_VALUES.index("orders")
    per_product = {pid: (*v[:flag], 1, *v[flag + 1:]) for pid, v in per_product.items()}  # a 0/1 flag
    closed = order.status == "closed"
    day, location = order.business_date, order.location_id
    columns = zip(*per_product.values(), strict=True)
    total = dict(zip(PRODUCT_VALUES, map(sum, columns), strict=True)) if per_product else {}
    order_values = sales_figures(orders=1 if per_product else 0, items=total.get("quantity", 0),
                                 revenue_cents=total.get("revenue_cents", 0), gross_cents=total.get("gross_cents", 0),
                                 discount_cents=total.get("discount_cents", 0), tax_cents=total.get("tax_cents", 0),
                                 tip_cents=tips)
    products: dict[ProductKey, Values] = {(day, location, pid, closed): values for pid, values in per_product.items()}
    waiters: dict[WaiterKey, Values] = {(day, location, order.waiter_id, closed): order_values}
    hours: dict[HourKey, Values] = {(day, location, order.local_hour, closed): order_values}
    refunds = getattr(order, "refunds", ())
    if refunds:
        product_of = {line.id: line.product_id for line in order.items}
        for refund in refunds:
            when = refund.business_date
            for part in refund.items:
                _add(products, (when, location, product_of[part.item_id], closed), refund_part_figures(part))
            values = refund_figures(refund)
            _add(waiters, (when, location, order.waiter_id, closed), values)
            _add(hours, (when, location, refund.local_hour, closed), values)
    return Contribution(
        products=tuple(sorted(products.items())),
        waiters=tuple(waiters.items()),
        hours=tuple(hours.items()),
    )


@dataclass
class Changes:
    """The orders a block changes, each with its contribution before the change."""

    pairs: list[tuple[Any, Contribution]] = field(default_factory=list)
    riders: list[tuple[Table, list[dict]]] = field(default_factory=list)

    def watch(self, order) -> None:
        """An existing order about to change (call it under the order's row lock, before any change)."""
        self.pairs.append((order, contribution(order)))

    def created(self, order) -> None:
        """An order this block created: it contributed nothing before."""
        self.pairs.append((order, EMPTY))

    def write_with(self, table: Table, rows: list[dict]) -> None:
        """Append-only rows of another table (the order's history events) to insert with the deltas: in
        the same statement on PostgreSQL, so they cost no round trip of their own."""
        if rows:
            self.riders.append((table, rows))


@contextmanager
def tracking(*orders) -> Iterator[Changes]:
    """Keep the rollups exact around a change to `orders` (and to those given to `created()`):
    on a normal exit, flush and record every (before, after) in one `record()`."""
    changes = Changes()
    for order in orders:
        changes.watch(order)
    yield changes
    if changes.pairs or changes.riders:
        db.session.flush()
        record([(before, contribution(order)) for order, before in changes.pairs], changes.riders)


def deltas(changes: Iterable[tuple[Contribution | None, Contribution | None]]) -> dict[str, list[dict]]:
    """after - before per key and rollup, as insertable rows; keys whose delta is all zero are dropped."""
    sums: dict[str, dict[tuple, list[int]]] = {r.name: {} for r in ROLLUPS}
    for before, after in changes:
        for sign, side in ((-1, before), (1, after)):
            if not side:
                continue
            for rollup in ROLLUPS:
                acc = sums[rollup.name]
                for key, values in getattr(side, rollup.name):
                    total = acc.setdefault(key, [0] * len(values))
                    for i, value in enumerate(values):
                        total[i] += sign * value
    rows: dict[str, list[dict]] = {}
    for rollup in ROLLUPS:
        rows[rollup.name] = [
            dict(zip(rollup.keys, key, strict=True)) | dict(zip(rollup.values, values, strict=True))
            for key, values in sums[rollup.name].items()
            if any(values)
        ]
    return rows


def record(changes: list[tuple[Contribution | None, Contribution | None]],
           riders: Sequence[tuple[Table, list[dict]]] = ()) -> None:
    """Insert the delta rows for [(before, after), ...], and the append-only `riders` rows with them,
    through the one multi-table writer (app/multi_insert.py: one statement on PostgreSQL, so keeping
    the rollups costs one round trip per order change)."""
    rows = deltas(changes)
    insert_all([*((rollup.table, rows[rollup.name]) for rollup in ROLLUPS), *riders])
