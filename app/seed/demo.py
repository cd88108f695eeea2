"""The demo month: orders made through the order services, each change at its own moment.

Every demo order is what the API would have made of the same story: created by its waiter through
`services.create_order`, then lines added or voided, discounts from the location's manager, payments
(split cash and card, cash with change, card tips), closed, cancelled or refunded, each step one call of
the service the route calls, under `clock_at(moment)` so it happens (and counts in the reports) on its
own business date and hour. So every order has the history, version and rollups an API order has
(tests/orders/test_unit_of_work.py checks them). Only today's orders may still be open.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from app.business_time import business_date, day_start, local_time
from app.columns import clock_at, utcnow
from app.extensions import db
from app.models import Location, Order, Product, User
from app.money import cents_to_str
from app.orders import discounts, services, settle
from app.orders.schemas import DiscountIn, ItemsIn, OrderIn, PaymentIn, RefundIn
from app.seed.shared import CUSTOMERS, HOURS, MODIFIERS

SEED_PREFIX = "seed-"
DAYS = 30


@dataclass(frozen=True)
class Staff:
    """Who serves at a location and who approves there."""

    waiters: list[User]
    manager: User


def _moment(rng: random.Random, day: int, location: Location, now: datetime) -> datetime:
    """A UTC moment in the location's business day `day` days before today's, at a weighted local hour,
    at least two hours before `now` for earlier days (so its story can end before now) and, today, after
    the business day's start and before `now` (the seed may run minutes after the day started)."""
    hours, weights = zip(*HOURS, strict=True)
    zone = local_time(now, location.timezone).tzinfo
    today = business_date(now, location.timezone, location.day_starts_at)
    local = datetime.combine(today - timedelta(days=day),
                             time(rng.choices(hours, weights)[0], rng.randrange(60), rng.randrange(60)))
    moment = local.replace(tzinfo=zone).astimezone(UTC)
    latest = now - timedelta(minutes=20 if day == 0 else 120)
    moment = moment if moment <= latest else latest - timedelta(minutes=rng.randrange(60))
    if day:
        return moment
    opened = datetime.combine(today, day_start(location.day_starts_at)).replace(tzinfo=zone).astimezone(UTC)
    return max(moment, opened)


def _line(rng: random.Random, product: Product) -> dict:
    line: dict = {"product_id": product.id, "quantity": rng.choice([1, 1, 1, 2, 2, 3])}
    if rng.random() < 0.12:
        name, price = rng.choice(MODIFIERS)
        line["modifiers"] = [{"name": name, "price": cents_to_str(price)}]
    return line


class Story:
    """One order's life, told step by step through the services, each step at its own moment."""

    def __init__(self, rng: random.Random, now: datetime, staff: Staff, waiter: User, created_at: datetime) -> None:
        self.rng, self.now, self.staff, self.waiter = rng, now, staff, waiter
        self.at = created_at
        self.order: Order | None = None

    def step(self, minutes: int, call, *args):
        """Run `call(*args)` `minutes` after the previous step (never later than now)."""
        self.at = min(self.at + timedelta(minutes=minutes), self.now)
        with clock_at(self.at):
            self.order = call(*args)
        return self.order

    @property
    def id(self) -> int:
        assert self.order is not None
        return self.order.id

    def create(self, n: int, products: list[Product], popularity: list[float]) -> None:
        rng = self.rng
        body = {"customer_name": rng.choice(CUSTOMERS), "table": str(rng.randint(1, 20)),
                "client_order_id": f"{SEED_PREFIX}{n:05d}",
                "items": [_line(rng, p) for p in rng.choices(products, popularity, k=rng.randint(1, 4))]}
        data = OrderIn().load(body)
        self.step(0, lambda: services.create_order(self.waiter, data, created_at=self.at))

    def add_lines(self, products: list[Product], popularity: list[float]) -> None:
        """A round of drinks or a dessert, a while later."""
        items = ItemsIn().load({"items": [_line(self.rng, p) for p in self.rng.choices(products, popularity, k=2)]})
        self.step(self.rng.randint(10, 30), services.append_items, self.waiter, self.id, items["items"])

    def void_first(self) -> None:
        assert self.order is not None
        self.step(3, services.void_item, self.waiter, self.id, self.order.items[0].id)

    def discount(self) -> None:
        roll = self.rng.random()
        assert self.order is not None
        counted = [item for item in self.order.items if not item.voided]
        if roll < 0.4:
            body = {"item_id": counted[-1].id, "percent": "100", "reason": "Cortesía de la casa"}
        elif roll < 0.85:
            body = {"percent": "10", "reason": "Cliente frecuente"}
        else:
            body = {"amount": "20.00", "reason": "Promoción del día"}
        self.step(5, discounts.add_discount, self.staff.manager, self.id, DiscountIn().load(body))

    def pay(self, method: str, amount: int, tip: int = 0) -> None:
        body = {"method": method, "amount": cents_to_str(amount), "tip": cents_to_str(tip)}
        if method == "cash":  # handed a round bill: the change is given back
            bills = -(-(amount + tip) // 5000) + (1 if self.rng.random() < 0.3 else 0)  # 50-peso bills
            body["tendered"] = cents_to_str(bills * 5000)
        else:
            body["reference"] = f"auth {self.rng.randrange(100000, 999999)}"
        self.step(self.rng.randint(2, 8), settle.add_payment, self.waiter, self.id, PaymentIn().load(body))

    def settle(self) -> None:
        """Pay the balance (split cash and card, or one method, card tips) and close."""
        assert self.order is not None
        balance, rng = self.order.balance_due_cents, self.rng
        if balance > 0:
            tip = (balance // 1000) * 100 if rng.random() < 0.5 else 0  # ~10 %, whole pesos
            if balance >= 10000 and rng.random() < 0.3:
                cash = (balance // 2 // 100) * 100
                self.pay("cash", cash)
                self.pay("card", balance - cash, tip)
            elif rng.random() < 0.2:  # v1's close with a payment method pays the balance
                self.step(rng.randint(20, 60), settle.close_order, self.waiter, self.id, "card", tip)
                return
            else:
                method = rng.choice(["cash", "card", "card", "other"])
                self.pay(method, balance, tip if method == "card" else 0)
        self.step(rng.randint(1, 5), settle.close_order, self.waiter, self.id)

    def refund(self) -> None:
        """The manager takes one unit of a line back, the next day when that day has come."""
        assert self.order is not None
        item = max((item for item in self.order.items if not item.voided), key=lambda item: item.net_cents)
        body = RefundIn().load({"items": [{"item_id": item.id, "quantity": 1}], "reason": "Platillo frío"})
        self.step(24 * 60 if self.at + timedelta(days=1) < self.now else 5,
                  settle.refund, self.staff.manager, self.id, body)

    def cancel(self, by_manager: bool, reason: str) -> None:
        self.step(10, settle.cancel_order, self.staff.manager if by_manager else self.waiter, self.id, reason)


def seed_orders(staff_of: dict[int, Staff], products: list[Product], count: int = 400) -> int:
    """A month of orders at each location, told through the order services (see the module docstring):
    modifiers, added and voided lines, discounts, split cash-and-card payments with change and tips,
    refunds, cancelled open and closed checks; only today's orders may be left open."""
    rng = random.Random(481)  # reproducible demo data
    now = utcnow()
    popularity = [1 / (rank + 1) ** 0.9 for rank in range(len(products))]  # a few favourites, a long tail
    waiters = [(waiter, location_id) for location_id, staff in staff_of.items() for waiter in staff.waiters]
    for n in range(count):
        waiter, location_id = rng.choice(waiters)
        location = db.session.get(Location, location_id)
        assert location is not None
        day = 0 if n % 10 == 0 else rng.randrange(1, DAYS)  # a tenth of the orders are today's
        story = Story(rng, now, staff_of[location_id], waiter, _moment(rng, day, location, now))
        story.create(n, products, popularity)
        if rng.random() < 0.15:
            story.add_lines(products, popularity)
        if len(story.order.items) > 1 and rng.random() < 0.08:  # type: ignore[union-attr]
            story.void_first()
        if rng.random() < 0.1:
            story.discount()
        roll = rng.random()
        if day == 0 and roll < 0.5:
            pass  # still at the table
        elif roll < 0.05:
            story.cancel(False, "El cliente se retiró")
        else:
            story.settle()
            roll = rng.random()
            if roll < 0.03:
                story.refund()
            elif roll < 0.04:
                story.cancel(True, "Cobro equivocado")
    db.session.commit()
    return count
