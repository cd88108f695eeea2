"""Rollup maintenance: what an order contributes to the reports, and the delta rows that keep them exact.

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
contributes nothing; voided lines never count; an order counts in `orders` only when it has at
least one non-voided line; everything is attributed to the order's location, `business_date` and
`local_hour`, even lines appended later; `closed` is `status == "closed"`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql

from app.extensions import db
from app.models import ProductDaily, ProductMonthly, SalesHourly, SalesMonthly, WaiterDaily, WaiterMonthly

ProductKey = tuple[date, int, int, bool]  # business_date, location_id, product_id, closed
WaiterKey = tuple[date, int, int, bool]  # business_date, location_id, waiter_id, closed
HourKey = tuple[date, int, datetime, bool]  # business_date, location_id, local_hour (naive), closed
Values = tuple[int, ...]


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


MONEY = ("gross_cents", "discount_cents", "tax_cents", "refund_cents")
PRODUCT_VALUES = ("quantity", "revenue_cents", "orders", *MONEY, "quantity_refunded")
SALES_VALUES = ("orders", "items", "revenue_cents", *MONEY, "tip_cents")

ROLLUPS = (
    Rollup("products", ProductDaily.__table__, ("business_date", "location_id", "product_id", "closed"),
           PRODUCT_VALUES, ProductMonthly.__table__, ("location_id", "product_id", "closed")),
    Rollup("waiters", WaiterDaily.__table__, ("business_date", "location_id", "waiter_id", "closed"),
           SALES_VALUES, WaiterMonthly.__table__, ("location_id", "waiter_id", "closed")),
    Rollup("hours", SalesHourly.__table__, ("business_date", "location_id", "local_hour", "closed"),
           SALES_VALUES, SalesMonthly.__table__, ("location_id", "closed")),
)
BY_NAME = {rollup.name: rollup for rollup in ROLLUPS}


@dataclass(frozen=True)
class Contribution:
    """What one order adds to each rollup in its current state; immutable, safe to keep as `before`.
    Values in the order of PRODUCT_VALUES / SALES_VALUES."""

    products: tuple[tuple[ProductKey, Values], ...] = ()
    waiters: tuple[tuple[WaiterKey, Values], ...] = ()
    hours: tuple[tuple[HourKey, Values], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.products or self.waiters or self.hours)


EMPTY = Contribution()


def _add(acc: dict, key: tuple, values: tuple[int, ...]) -> None:
    total = acc.get(key)
    acc[key] = values if total is None else tuple(a + b for a, b in zip(total, values, strict=True))


def contribution(order) -> Contribution:
    """The order's contribution now: EMPTY when it is None, cancelled, or has no counted line and no tip.

    Lines count on the order's business date and local hour: quantity, gross (line_total), discounts,
    tax, revenue (the line's net). Tips (its payments' tips) count there too. Each refund counts on its
    own business date and local hour (its location's clock when it was made): it takes its net
    (amount - tax) off revenue and its tax off tax, and adds its amount to refunds and its units to
    quantity_refunded.
    """
    if order is None or order.status == "cancelled":
        return EMPTY
    # per product: quantity, revenue, orders (0/1), gross, discounts, tax, refunds, quantity refunded
    per_product: dict[int, tuple[int, ...]] = {}
    for line in order.items:
        if line.voided:
            continue
        figures = (line.quantity, line.net_cents, 1, line.quantity * line.unit_price_cents, line.discount_cents,
                   line.tax_cents, 0, 0)
        _add(per_product, line.product_id, figures)
    tips = sum(payment.tip_cents for payment in getattr(order, "payments", ()))
    if not per_product and not tips:
        return EMPTY  # refunds need a counted line: an order without one has none
    per_product = {pid: (*v[:2], 1, *v[3:]) for pid, v in per_product.items()}  # orders is a 0/1 flag
    closed = order.status == "closed"
    day, location = order.business_date, order.location_id
    items = sum(v[0] for v in per_product.values())
    revenue, gross, discounts, tax = (sum(v[i] for v in per_product.values()) for i in (1, 3, 4, 5))
    # An order counts in `orders` with a counted line; its tips count whatever (a tip-only close).
    order_values = (1 if per_product else 0, items, revenue, gross, discounts, tax, 0, tips)
    products: dict[ProductKey, tuple[int, ...]] = {
        (day, location, pid, closed): values for pid, values in per_product.items()}
    waiters: dict[WaiterKey, tuple[int, ...]] = {(day, location, order.waiter_id, closed): order_values}
    hours: dict[HourKey, tuple[int, ...]] = {(day, location, order.local_hour, closed): order_values}
    refunds = getattr(order, "refunds", ())
    if refunds:
        product_of = {line.id: line.product_id for line in order.items}
        for refund in refunds:
            when, hour = refund.business_date, refund.local_hour
            for part in refund.items:
                net = part.amount_cents - part.tax_cents
                _add(products, (when, location, product_of[part.item_id], closed),
                     (0, -net, 0, 0, 0, -part.tax_cents, part.amount_cents, part.quantity))
            net = refund.amount_cents - refund.tax_cents
            values = (0, 0, -net, 0, 0, -refund.tax_cents, refund.amount_cents, 0)
            _add(waiters, (when, location, order.waiter_id, closed), values)
            _add(hours, (when, location, hour, closed), values)
    return Contribution(
        products=tuple(sorted(products.items())),
        waiters=tuple(waiters.items()),
        hours=tuple(hours.items()),
    )


SLOT = 64  # bits per figure when Totals packs an order's figures into one integer


def _pack(values: Values) -> int:
    return sum(value << (SLOT * i) for i, value in enumerate(values))


def _unpack(packed: int, width: int) -> Values:
    mask = (1 << SLOT) - 1
    return tuple((packed >> (SLOT * i)) & mask for i in range(width))


@dataclass(frozen=True)
class Shape:
    """An order's contribution without its where and when, for bulk loads (app/seed/bulk.py): orders
    with the same lines and story contribute the same figures, each on its own keys. Whether it counts
    as closed, per product (id, figures) and the order's figures (None: it counts nowhere), each
    tuple of figures packed into one integer for Totals."""

    closed: bool
    products: tuple[tuple[int, int], ...]
    order: int | None


def shape(order) -> Shape:
    """The shape of `order`'s contribution. Only for an order without refunds (they count on their
    own dates), whose figures are therefore never negative."""
    if getattr(order, "refunds", ()):
        raise ValueError("an order with refunds has no shape")
    found = contribution(order)
    if not found:
        return Shape(False, (), None)
    products = tuple((key[2], values) for key, values in found.products)
    order_values = found.waiters[0][1]
    if any(v < 0 for _, values in products for v in values) or any(v < 0 for v in order_values):
        raise ValueError("a shape's figures are never negative")
    return Shape(order.status == "closed", tuple((pid, _pack(values)) for pid, values in products),
                 _pack(order_values))


@dataclass
class Totals:
    """The sum of many new orders' contributions, added shape by shape on each order's keys, then written
    as delta rows by `record()` (the bulk seed's one way into the rollups). Each key's figures are summed
    as one packed integer (one addition per key and order, exact while every total stays below 2**64)."""

    sums: dict[str, dict[tuple, int]] = field(default_factory=lambda: {r.name: {} for r in ROLLUPS})

    def add(self, shape: Shape, business_date: date, location_id: int, waiter_id: int, local_hour: datetime) -> None:
        if shape.order is None:
            return
        products, closed = self.sums["products"], shape.closed
        for product_id, packed in shape.products:
            product_key = (business_date, location_id, product_id, closed)
            products[product_key] = products.get(product_key, 0) + packed
        keys: tuple[tuple[str, tuple], ...] = (("waiters", (business_date, location_id, waiter_id, closed)),
                                               ("hours", (business_date, location_id, local_hour, closed)))
        for name, key in keys:
            sums = self.sums[name]
            sums[key] = sums.get(key, 0) + shape.order

    def record(self) -> None:
        """The totals as delta rows, as `record()` writes new orders' contributions (one statement)."""
        record([(None, self.contribution())])

    def contribution(self) -> Contribution:
        return Contribution(**{
            rollup.name: tuple((key, _unpack(packed, len(rollup.values)))
                               for key, packed in self.sums[rollup.name].items())
            for rollup in ROLLUPS})


@dataclass
class Changes:
    """The orders a block changes, each with its contribution before the change."""

    pairs: list[tuple[object, Contribution]] = field(default_factory=list)
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
    """Insert the delta rows for [(before, after), ...], and the append-only `riders` rows with them.

    PostgreSQL: one statement for every table and row (each table's rows travel as arrays through
    unnest), so maintaining the rollups costs one round trip per order change. SQLite: at most one
    executemany INSERT per table. The statement count never grows with the number of lines or orders.
    """
    rows = deltas(changes)
    parts = [(rollup.table, rollup.name, rows[rollup.name]) for rollup in ROLLUPS if rows[rollup.name]]
    parts += [(table, f"rider{n}", table_rows) for n, (table, table_rows) in enumerate(riders)]
    if not parts:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        for table, _, table_rows in parts:
            db.session.execute(insert(table), table_rows)
        return
    shapes = tuple((table, prefix, tuple(table_rows[0])) for table, prefix, table_rows in parts)
    sql = _one_statement(shapes)
    params = {k: v for (table, prefix, table_rows), (_, _, cols) in zip(parts, shapes, strict=True)
              for k, v in _arrays(table, prefix, cols, table_rows).items()}
    # Straight to the driver (still through the session's connection and transaction): this runs on
    # every order change, and SQLAlchemy's statement handling was a third of its cost.
    db.session.connection().exec_driver_sql(sql, params)


@cache
def _one_statement(shapes: tuple[tuple[Table, str, tuple[str, ...]], ...]) -> str:
    """WITH ... one `INSERT ... SELECT * FROM unnest(arrays)` per table (PostgreSQL, psycopg2
    parameter style), built from the table metadata once per combination of tables and columns."""
    *firsts, last = (_unnest_insert_sql(*shape) for shape in shapes)
    with_clause = ", ".join(f"delta_{n} AS ({sql})" for n, sql in enumerate(firsts))
    return f"WITH {with_clause} {last}" if firsts else last


def _unnest_insert_sql(table: Table, prefix: str, cols: tuple[str, ...]) -> str:
    """INSERT INTO <table> (cols) SELECT * FROM unnest(:col1, :col2, ...), one typed array per column."""
    dialect = postgresql.dialect()
    arrays = ", ".join(f"CAST(%({prefix}_{c})s AS {table.c[c].type.compile(dialect=dialect)}[])" for c in cols)
    # Identifiers and types come from our own table metadata; every value is a bound parameter.
    return f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT * FROM unnest({arrays})"  # noqa: S608


def _arrays(table: Table, prefix: str, cols: tuple[str, ...], rows: list[dict]) -> dict[str, list]:
    """One array per column, each value as the column's type binds it (JSON serialized, UTC timestamps)."""
    dialect = db.session.get_bind().dialect
    arrays = {}
    for col in cols:
        process = _bind_processor(table.c[col].type, dialect)
        values = [row[col] for row in rows]
        arrays[f"{prefix}_{col}"] = [process(v) for v in values] if process else values
    return arrays


@cache
def _bind_processor(type_, dialect):
    return type_.bind_processor(dialect)
