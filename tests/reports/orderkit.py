"""A test-only stand-in for the order services: builds orders through the ORM and keeps the rollups
exactly as app/orders/services.py must (lock the order, before = contribution, mutate, flush,
record, commit once per "request").

Every order operation of the report tests goes through an `OrderDriver`, so pointing them at the
HTTP API once the order endpoints exist means writing an HttpDriver with the same six methods.
A rejected operation (the API's 409 order_not_open) raises `Rejected`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from app.extensions import db
from app.models import Order, OrderItem, Product, User
from app.reports import rollups
from app.reports.periods import business_clock


class Rejected(Exception):
    """The operation is not allowed in the order's current state."""


@dataclass(frozen=True)
class Line:
    product_id: int
    quantity: int
    unit_price_cents: int | None = None  # None: the catalogue price


class OrderDriver(Protocol):
    def create(self, waiter: User, lines: list[Line], created_at: datetime | None = None) -> int: ...
    def append(self, order_id: int, lines: list[Line]) -> list[int]: ...
    def void(self, order_id: int, item_id: int) -> None: ...
    def close(self, order_id: int) -> None: ...
    def cancel(self, order_id: int) -> None: ...
    def batch(self, waiter: User, orders: list[tuple[list[Line], datetime]]) -> list[int]: ...


class OrmDriver:
    """Orders written through the ORM, with the rollup calls the services make."""

    # -- helpers ---------------------------------------------------------------------------------
    def _lines(self, lines: list[Line]) -> list[OrderItem]:
        items = []
        for line in lines:
            product = db.session.get(Product, line.product_id)
            price = product.price_cents if line.unit_price_cents is None else line.unit_price_cents
            items.append(OrderItem(product_id=product.id, product_name=product.name, unit_price_cents=price,
                                   quantity=line.quantity, voided=False))
        return items

    def _new_order(self, waiter: User, lines: list[Line], created_at: datetime | None) -> Order:
        created_at = created_at or datetime.now(UTC)
        business_date, local_hour = business_clock(created_at)
        order = Order(customer_name="Ana", waiter_id=waiter.id, status="open", business_date=business_date,
                      local_hour=local_hour, created_at=created_at, updated_at=created_at, version=1,
                      client_order_id=f"kit-{uuid.uuid4().hex}", items=self._lines(lines))
        self._totals(order)
        db.session.add(order)
        return order

    @staticmethod
    def _totals(order: Order) -> None:
        counted = [i for i in order.items if not i.voided]
        order.total_cents = sum(i.line_total_cents for i in counted)
        order.item_count = sum(i.quantity for i in counted)

    @staticmethod
    def _locked(order_id: int) -> Order:
        order = db.session.get(Order, order_id, with_for_update={"of": Order}, populate_existing=True)
        if order is None:
            raise LookupError(order_id)
        return order

    def _change(self, order_id: int, mutate, *, allowed=("open",)) -> Order:
        try:
            order = self._locked(order_id)
            if order.status not in allowed:
                raise Rejected(order.status)
            before = rollups.contribution(order)
            result = mutate(order)
            self._totals(order)
            order.version += 1
            order.updated_at = datetime.now(UTC)
            db.session.flush()
            rollups.record([(before, rollups.contribution(order))])
            db.session.commit()
            return result
        except BaseException:
            db.session.rollback()
            raise

    # -- the six operations ----------------------------------------------------------------------
    def create(self, waiter: User, lines: list[Line], created_at: datetime | None = None) -> int:
        order = self._new_order(waiter, lines, created_at)
        db.session.flush()
        rollups.record([(None, rollups.contribution(order))])
        db.session.commit()
        return order.id

    def append(self, order_id: int, lines: list[Line]) -> list[int]:
        def mutate(order: Order) -> list[OrderItem]:
            new = self._lines(lines)
            order.items.extend(new)
            return new

        new = self._change(order_id, mutate)
        return [item.id for item in new]

    def void(self, order_id: int, item_id: int) -> None:
        def mutate(order: Order) -> None:
            item = next(i for i in order.items if i.id == item_id)
            if item.voided:
                raise Rejected("already voided")
            item.voided = True
            item.voided_at = datetime.now(UTC)

        self._change(order_id, mutate)

    def close(self, order_id: int) -> None:
        def mutate(order: Order) -> None:
            order.status, order.payment_method, order.closed_at = "closed", "cash", datetime.now(UTC)

        self._change(order_id, mutate)

    def cancel(self, order_id: int) -> None:
        def mutate(order: Order) -> None:
            order.status, order.cancelled_at, order.cancel_reason = "cancelled", datetime.now(UTC), "test"

        self._change(order_id, mutate, allowed=("open", "closed"))

    def batch(self, waiter: User, orders: list[tuple[list[Line], datetime]]) -> list[int]:
        """Offline sync: many (possibly backdated) orders, one record() call for all of them."""
        created = [self._new_order(waiter, lines, created_at) for lines, created_at in orders]
        db.session.flush()
        rollups.record([(None, rollups.contribution(order)) for order in created])
        db.session.commit()
        return [order.id for order in created]
