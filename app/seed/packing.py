"""The bulk seed's report figures: an order's contribution without its where and when, packed.

Orders with the same lines and story contribute the same figures, each on its own keys; so the bulk
loader (app/seed/bulk.py) takes each ticket's `shape()` once and adds it on every order's keys in
`Totals` (its payments on the business dates they were made, each some minutes after the order),
each tuple of figures packed into one integer (one addition per key and order, exact while every
total stays below 2**64). `Totals.record()` writes them through the rollups' one writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from app.figures import rollups

SLOT = 64  # bits per figure


def _pack(values: rollups.Values) -> int:
    return sum(value << (SLOT * i) for i, value in enumerate(values))


def _unpack(packed: int, width: int) -> rollups.Values:
    mask = (1 << SLOT) - 1
    return tuple((packed >> (SLOT * i)) & mask for i in range(width))


@dataclass(frozen=True)
class Shape:
    """Whether it counts as closed, per product (id, packed figures) and the order's packed figures
    (None: it counts nowhere in the sales rollups), and its payments for the till: (time after the
    order's creation, method, packed figures) each."""

    closed: bool
    products: tuple[tuple[int, int], ...]
    order: int | None
    payments: tuple[tuple[timedelta, str, int], ...] = ()


def shape(order: Any) -> Shape:
    """The shape of `order`'s contribution. Only for an order without refunds (they count on their
    own dates), whose figures are therefore never negative."""
    if getattr(order, "refunds", ()):
        raise ValueError("an order with refunds has no shape")
    payments = tuple((payment.created_at - order.created_at, payment.method, _pack(rollups.payment_figures(payment)))
                     for payment in getattr(order, "payments", ()))
    found = rollups.sales_contribution(order)
    if not found:
        return Shape(False, (), None, payments)
    products = tuple((key[2], values) for key, values in found.products)
    order_values = found.waiters[0][1]
    if any(v < 0 for _, values in products for v in values) or any(v < 0 for v in order_values):
        raise ValueError("a shape's figures are never negative")
    return Shape(order.status == "closed", tuple((pid, _pack(values)) for pid, values in products),
                 _pack(order_values), payments)


@dataclass
class Totals:
    """The sum of many new orders' contributions, added shape by shape on each order's keys."""

    sums: dict[str, dict[tuple, int]] = field(default_factory=lambda: {r.name: {} for r in rollups.ROLLUPS})

    def add(self, shape: Shape, business_date: date, location_id: int, waiter_id: int, local_hour: datetime,
            paid_on: tuple[date, ...] = ()) -> None:
        """One order's shape on its keys; `paid_on`: the business date of each of its payments, in order."""
        for (_, method, packed), day in zip(shape.payments, paid_on, strict=True):
            for name, key in (("payments", (day, location_id, method)),
                              ("payment_waiters", (day, location_id, waiter_id, method))):
                sums = self.sums[name]
                sums[key] = sums.get(key, 0) + packed
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
        """The totals as delta rows, as `rollups.record()` writes new orders' contributions (one statement)."""
        rollups.record([(None, self.contribution())])

    def contribution(self) -> rollups.Contribution:
        return rollups.Contribution(**{
            rollup.name: tuple((key, _unpack(packed, len(rollup.values)))
                               for key, packed in self.sums[rollup.name].items())
            for rollup in rollups.ROLLUPS})
