"""Order drivers for the report tests: every operation runs the application's own order code.

`HttpDriver` (the `kit` fixture) calls the order endpoints as a POS client does. `ServiceDriver`
calls the order services directly: for threads that have no test client, and for offline orders
older than the API's 7-day window (report tests that span months). Either raises `Rejected` when
the application refuses an operation (409 `order_not_open`, 422), which leaves the order unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.errors import APIError
from app.extensions import db
from app.models import Product, User
from app.money import cents_to_str
from app.orders import services, settle
from app.orders.batch import MAX_AHEAD, MAX_BEHIND, insert_orders
from app.orders.lines import resolve_lines
from app.orders.schemas import BatchOrderIn, ItemsIn, OrderIn
from tests.constants import BATCH, ORDERS

MARGIN = timedelta(minutes=1)  # the request reaches the server a moment after `now` here


@contextmanager
def later(days: int) -> Iterator[None]:
    """The settling code's clock `days` ahead (a refund made on a later business day); the database is real."""
    if not days:
        yield
        return
    real = settle.utcnow
    settle.utcnow = lambda: real() + timedelta(days=days)  # type: ignore[assignment]
    try:
        yield
    finally:
        settle.utcnow = real  # type: ignore[assignment]


class Rejected(Exception):
    """The application refused the operation; nothing changed."""


@dataclass(frozen=True)
class Line:
    product_id: int
    quantity: int
    unit_price_cents: int | None = None  # None: a catalogue line; else an ad-hoc line at this price
    modifiers: tuple[int, ...] = ()  # modifier prices in cents


def line_body(line: Line) -> dict:
    """The request body of a line: by id (catalogue price) or ad hoc by the product's name."""
    extra = {"modifiers": [{"name": f"Extra {n}", "price": cents_to_str(price)}
                           for n, price in enumerate(line.modifiers)]} if line.modifiers else {}
    if line.unit_price_cents is None:
        return {"product_id": line.product_id, "quantity": line.quantity, **extra}
    name = db.session.get(Product, line.product_id).name
    return {"product_name": name, "unit_price": cents_to_str(line.unit_price_cents), "quantity": line.quantity,
            **extra}


def order_body(lines: list[Line], created_at: datetime | None = None, location_id: int | None = None) -> dict:
    items = [line_body(line) for line in lines]
    body = {"customer_name": "Ana", "client_order_id": f"kit-{uuid.uuid4().hex}", "items": items}
    if location_id is not None:
        body["location_id"] = location_id
    if created_at is not None:
        body["created_at"] = created_at.astimezone(UTC).isoformat()
    return body


class HttpDriver:
    """Orders through the API: the waiter creates; a manager appends, voids, closes and cancels."""

    def __init__(self, client, factory) -> None:
        self.client, self.factory = client, factory
        self.staff: User | None = None  # who appends, voids, closes and cancels (default: a new manager)

    def _headers(self, user: User | None) -> dict:
        if user is None:
            self.staff = self.staff or self.factory.make_user("manager", name="Kit Manager")
            user = self.staff
        return self.factory.headers(user)

    def _send(self, method: str, url: str, body: dict | None = None, user: User | None = None) -> dict:
        resp = self.client.open(url, method=method, json=body, headers=self._headers(user))
        if resp.status_code in (409, 422):
            raise Rejected(resp.json.get("code"))
        assert resp.status_code < 300, (resp.status_code, resp.get_data(as_text=True))
        return resp.json

    def create(self, waiter: User, lines: list[Line], created_at: datetime | None = None,
               location_id: int | None = None) -> int:
        if created_at is not None:
            return self.batch(waiter, [(lines, created_at)], location_id)[0]
        return self._send("POST", ORDERS, order_body(lines, location_id=location_id), waiter)["id"]

    def append(self, order_id: int, lines: list[Line]) -> list[int]:
        order = self._send("POST", f"{ORDERS}/{order_id}/items", {"items": [line_body(line) for line in lines]})
        return [item["id"] for item in order["items"][-len(lines):]]

    def void(self, order_id: int, item_id: int) -> None:
        self._send("DELETE", f"{ORDERS}/{order_id}/items/{item_id}")

    def close(self, order_id: int) -> None:
        self._send("POST", f"{ORDERS}/{order_id}/close", {"payment_method": "cash"})

    def cancel(self, order_id: int) -> None:
        self._send("POST", f"{ORDERS}/{order_id}/cancel", {"reason": "test"})

    def close_with(self, order_id: int, method: str, tip_cents: int = 0) -> None:
        self._send("POST", f"{ORDERS}/{order_id}/close", {"payment_method": method,
                                                                "tip": cents_to_str(tip_cents)})

    def pay(self, order_id: int, method: str, amount_cents: int, tip_cents: int = 0) -> dict:
        body = {"method": method, "amount": cents_to_str(amount_cents), "tip": cents_to_str(tip_cents)}
        return self._send("POST", f"{ORDERS}/{order_id}/payments", body)

    def discount(self, order_id: int, item_id: int | None, percent: str | None = None,
                 amount_cents: int | None = None) -> dict:
        body: dict = {"reason": "test"}
        if item_id is not None:
            body["item_id"] = item_id
        if percent is not None:
            body["percent"] = percent
        else:
            body["amount"] = cents_to_str(amount_cents or 1)
        return self._send("POST", f"{ORDERS}/{order_id}/discounts", body)

    def refund(self, order_id: int, parts: list[tuple[int, int]], method: str | None = None,
               days_later: int = 0) -> dict:
        """Refund (item_id, quantity) parts, `days_later` days from now on the application's clock."""
        body: dict = {"items": [{"item_id": i, "quantity": q} for i, q in parts], "reason": "test"}
        if method:
            body["method"] = method
        with later(days_later):
            return self._send("POST", f"{ORDERS}/{order_id}/refunds", body)

    def get(self, order_id: int) -> dict:
        return self._send("GET", f"{ORDERS}/{order_id}")

    def batch(self, waiter: User, orders: list[tuple[list[Line], datetime]], location_id: int | None = None
              ) -> list[int]:
        """Offline sync; orders outside the API's window (7 days back, 5 minutes ahead: fixed test
        dates, months of history) go through the same bulk code directly."""
        now = datetime.now(UTC)
        if any(not now - MAX_BEHIND + MARGIN < created_at < now + MAX_AHEAD - MARGIN for _, created_at in orders):
            return ServiceDriver().batch(waiter, orders, location_id)
        body = {"orders": [order_body(lines, created_at, location_id) for lines, created_at in orders]}
        results = self._send("POST", BATCH, body, waiter)["results"]
        return [r["id"] for r in results if r["status"] == "created"]


class ServiceDriver:
    """Orders through app/orders/services.py and app/orders/batch.py, committed like a request."""

    def __init__(self, staff: User | None = None) -> None:
        self.staff = staff

    def _run(self, operation):
        try:
            result = operation()
            db.session.commit()
            return result
        except APIError as exc:
            db.session.rollback()
            raise Rejected(exc.code) from None

    def create(self, waiter: User, lines: list[Line], created_at: datetime | None = None,
               location_id: int | None = None) -> int:
        data = OrderIn().load(order_body(lines, location_id=location_id))  # the request schema, as the route would
        return self._run(lambda: services.create_order(waiter, data, created_at=created_at).id)

    def append(self, order_id: int, lines: list[Line]) -> list[int]:
        items = ItemsIn().load({"items": [line_body(line) for line in lines]})["items"]
        order = self._run(lambda: services.append_items(self.staff, order_id, items))
        return [item.id for item in order.items[-len(lines):]]

    def void(self, order_id: int, item_id: int) -> None:
        self._run(lambda: services.void_item(self.staff, order_id, item_id))

    def close(self, order_id: int) -> None:
        self._run(lambda: settle.close_order(self.staff, order_id, "cash"))

    def cancel(self, order_id: int) -> None:
        self._run(lambda: settle.cancel_order(self.staff, order_id, "test"))

    def batch(self, waiter: User, orders: list[tuple[list[Line], datetime]], location_id: int | None = None
              ) -> list[int]:
        """The batch endpoint's bulk insert, without its 7-day window (for months of test data)."""
        bodies = [BatchOrderIn().load(order_body(lines, created_at, location_id)) for lines, created_at in orders]
        resolved = resolve_lines([body["items"] for body in bodies])
        todo = [(i, body, lines) for i, (body, (lines, errors)) in enumerate(zip(bodies, resolved, strict=True))
                if not errors]
        if not todo:
            return []
        inserted = self._run(lambda: insert_orders(waiter, todo, datetime.now(UTC)))
        return [inserted[body["client_order_id"]] for _, body, _ in todo]
