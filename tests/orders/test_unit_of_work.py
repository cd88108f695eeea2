"""Nothing changes an order but the one unit of work (app/orders/unit.py).

For every order after a randomized walk over every order-changing route
(create, batch sync, append, void, patch, discounts added and removed, payments, close, cancel open and
closed, refunds, refused calls included), `version == number of events`, each order's totals are its
rows' sums, and every rollup equals a recomputation from the rows (tests/invariants.py). A static check
finds any code outside app/orders/unit.py that bumps a version or writes history. Every order of the demo
month (`flask seed`) is checked the same way in tests/ops/test_demo_seed.py, which seeds it once for its module.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order, OrderEvent
from app.money import cents_to_str
from tests.constants import BATCH, ORDERS
from tests.invariants import assert_every_order_consistent

APP = Path(__file__).resolve().parents[2] / "app"
UNIT = APP / "orders" / "unit.py"


# -- static: the ritual is written once ----------------------------------------------------------------------
BYPASSES = {
    # An order's version; a kitchen ticket's and a drawer session's are their own (feed subjects' versions).
    "bumps a version": re.compile(r"\b(?!ticket\.|session\.)\w+\.version\s*(\+=|=\s*[^=])"),
    "records history": re.compile(r"history\.record(_created)?\("),
    "writes an order event": re.compile(r"(?<!class )\bOrderEvent\(|insert\(OrderEvent|OrderEvent\.__table__"),
}
# Where a version or an event row is spelled out on purpose: new rows at version 1, the event row builder, and
# the bulk seed, which writes the rows an API order has (tests/ops/test_seed_bulk.py compares them).
ALLOWED = {
    "bumps a version": {"app/orders/unit.py", "app/seed/bulk.py"},
    "records history": {"app/orders/unit.py"},
    "writes an order event": {"app/orders/history.py", "app/seed/bulk.py"},
}


def test_nothing_outside_the_unit_of_work_bumps_a_version_or_records_history():
    found = []
    for path in sorted(APP.rglob("*.py")):
        name = path.relative_to(APP.parent).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            for what, pattern in BYPASSES.items():
                if pattern.search(code) and name not in ALLOWED[what]:
                    found.append(f"{name}:{number} {what}: {line.strip()}")
    assert found == [], "changes that bypass app/orders/unit.py:\n" + "\n".join(found)


def test_the_static_check_catches_a_bypass():
    """The patterns above match the ways a bypass is written (so the check cannot pass vacuously)."""
    assert BYPASSES["bumps a version"].search("order.version += 1")
    assert BYPASSES["bumps a version"].search("order.version = order.version + 1")
    assert not BYPASSES["bumps a version"].search("if order.version == expected:")
    assert not BYPASSES["bumps a version"].search("ticket.version += 1")
    assert BYPASSES["records history"].search("history.record(order, user, 'closed', tracked=t)")
    assert BYPASSES["writes an order event"].search("db.session.add(OrderEvent(order_id=1))")
    assert not BYPASSES["writes an order event"].search("class OrderEvent(db.Model):")
    assert "history.record(" in UNIT.read_text()


# -- a randomized walk over every order-changing route ---------------------------------------------------------
class Walk:
    """Random order operations through the HTTP API, by a waiter and a manager; refusals are expected
    (a closed order, an amount over the balance) and must change nothing."""

    def __init__(self, client, factory, rng: random.Random) -> None:
        self.client, self.rng = client, rng
        self.waiter = factory.make_user("waiter", name="Walker")
        self.manager = factory.make_user("manager", name="Boss")
        self.as_waiter, self.as_manager = factory.headers(self.waiter), factory.headers(self.manager)
        self.menu = [factory.make_product(f"Walk dish {n}", price) for n, price in
                     enumerate(("25.00", "25.50", "140.00", "9.99", "0.00"))]
        self.ids: list[int] = []
        self.closed: list[int] = []
        self.answers: dict[str, int] = {}

    def send(self, method: str, url: str, body=None, manager: bool = False, **headers) -> dict | None:
        auth = self.as_manager if manager or self.rng.random() < 0.3 else self.as_waiter
        resp = self.client.open(url, method=method, json=body, headers={**auth, **headers})
        assert resp.status_code < 500, resp.get_data(as_text=True)
        self.answers[f"{method} {resp.status_code}"] = self.answers.get(f"{method} {resp.status_code}", 0) + 1
        return resp.json if resp.status_code < 300 else None

    def line(self) -> dict:
        line = {"product_id": self.rng.choice(self.menu).id, "quantity": self.rng.randint(1, 3)}
        if self.rng.random() < 0.2:
            line["modifiers"] = [{"name": "Extra", "price": self.rng.choice(("0", "5.00", "12.50"))}]
        return line

    def order(self) -> dict | None:
        if not self.ids:
            return None
        return self.client.get(f"{ORDERS}/{self.rng.choice(self.ids)}", headers=self.as_manager).json

    # the operations ------------------------------------------------------------------------------------------
    def create(self) -> None:
        body = {"customer_name": "Walk", "items": [self.line() for _ in range(self.rng.randint(1, 3))]}
        made = self.send("POST", ORDERS, body)
        if made:
            self.ids.append(made["id"])

    def batch(self) -> None:
        now = datetime.now(UTC)
        orders = [{"customer_name": "Offline", "client_order_id": f"walk-{uuid.uuid4().hex}",
                   "created_at": (now - timedelta(hours=self.rng.randint(1, 100))).isoformat(),
                   "items": [self.line()]} for _ in range(self.rng.randint(1, 3))]
        answer = self.send("POST", BATCH, {"orders": orders}, manager=False)
        if answer:
            self.ids += [r["id"] for r in answer["results"] if r["status"] == "created"]

    def append(self, order: dict) -> None:
        self.send("POST", f"{ORDERS}/{order['id']}/items", {"items": [self.line()]})

    def void(self, order: dict) -> None:
        item = self.rng.choice(order["items"])
        self.send("DELETE", f"{ORDERS}/{order['id']}/items/{item['id']}")

    def patch(self, order: dict) -> None:
        version = order["version"] - (1 if self.rng.random() < 0.2 else 0)  # sometimes stale: 412
        self.send("PATCH", f"{ORDERS}/{order['id']}", {"notes": f"walk {self.rng.random():.3f}"},
                  **{"If-Match": f'"{version}"'})

    def discount(self, order: dict) -> None:
        counted = [item for item in order["items"] if not item["voided"]]
        body: dict = {"reason": "walk"}
        if counted and self.rng.random() < 0.5:
            body["item_id"] = self.rng.choice(counted)["id"]
        body |= {"percent": self.rng.choice(("10", "50", "100"))} if self.rng.random() < 0.6 else {"amount": "3.00"}
        self.send("POST", f"{ORDERS}/{order['id']}/discounts", body, manager=True)

    def undiscount(self, order: dict) -> None:
        active = [d for d in order.get("discounts", []) if not d.get("removed_at")]
        if active:
            self.send("DELETE", f"{ORDERS}/{order['id']}/discounts/{self.rng.choice(active)['id']}", manager=True)

    def pay(self, order: dict) -> None:
        due = int(round(float(order["balance_due"]) * 100))
        amount = max(1, self.rng.choice((due, due // 2, due + 100)))  # over the balance: 422, nothing written
        method = self.rng.choice(("cash", "card", "other"))
        body = {"method": method, "amount": cents_to_str(amount), "tip": self.rng.choice(("0", "2.00"))}
        if method == "cash" and self.rng.random() < 0.5:
            body["tendered"] = cents_to_str(amount + 1000)
        self.send("POST", f"{ORDERS}/{order['id']}/payments", body)

    def close(self, order: dict) -> None:
        body = {} if self.rng.random() < 0.5 else {"payment_method": self.rng.choice(("cash", "card")), "tip": "1.00"}
        if self.send("POST", f"{ORDERS}/{order['id']}/close", body):
            self.closed.append(order["id"])

    def cancel(self, order: dict) -> None:
        self.send("POST", f"{ORDERS}/{order['id']}/cancel", {"reason": "walk"}, manager=order["status"] == "closed")

    def refund(self, order: dict) -> None:
        if self.closed and self.rng.random() < 0.8:  # mostly a closed order (others: 409, nothing written)
            order = self.client.get(f"{ORDERS}/{self.rng.choice(self.closed)}", headers=self.as_manager).json
        counted = [item for item in order["items"] if not item["voided"]]
        if counted:
            item = self.rng.choice(counted)
            self.send("POST", f"{ORDERS}/{order['id']}/refunds",
                      {"items": [{"item_id": item["id"], "quantity": self.rng.randint(1, 2)}], "reason": "walk"},
                      manager=True)

    def step(self) -> None:
        if not self.ids or self.rng.random() < 0.15:
            (self.create if self.rng.random() < 0.7 else self.batch)()
            return
        order = self.order()
        assert order is not None
        operation = self.rng.choice((self.append, self.void, self.patch, self.discount, self.discount, self.undiscount,
                                     self.undiscount, self.pay, self.pay, self.close, self.close, self.cancel,
                                     self.refund, self.refund))
        operation(order)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_random_walk_over_every_order_route_keeps_versions_and_rollups(client, factory, seed):
    walk = Walk(client, factory, random.Random(seed))
    for _ in range(150):
        walk.step()
    db.session.rollback()
    assert_every_order_consistent()
    statuses = set(db.session.scalars(select(Order.status)))
    assert statuses == {"open", "closed", "cancelled"}, statuses
    # every kind of change happened at least once
    kinds = set(db.session.scalars(select(OrderEvent.type).distinct()))
    assert kinds >= {"created", "items_added", "item_voided", "updated", "discount_added", "discount_removed",
                     "payment_added", "closed", "cancelled", "refunded"}, kinds
