"""Role x endpoint matrix, checked against app.url_map.

Each cell is the exact status a principal gets for a request that is otherwise valid: path
parameters point at an existing object and the body is a minimal valid one (see PATH_VALUES and
BODIES). So the cell isolates authorization: a principal that may call the endpoint gets its success
status, the others get 401 (no token), 403 (the role may not) or 404 (may not see that object).

The location dimension: each route is checked twice, with the object at the principals' own location
("home") and at a location only the admin belongs to ("away"), so a route that forgets the manager's
location scope fails here.

A new route fails `test_matrix_covers_every_route` until it has a line in MATRIX (plus a PATH_VALUES
entry for a new path parameter and a BODIES entry when it needs a body).
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.columns import utcnow
from app.dashboard import hashed_name
from app.extensions import db
from app.kitchen.page import hashed_name as kitchen_asset
from app.models import (
    BusinessDay,
    Discount,
    Drawer,
    DrawerSession,
    KitchenTicket,
    Location,
    Order,
    Payment,
    Product,
    Station,
    User,
    Webhook,
    WebhookDelivery,
)
from tests.constants import LOGIN, PASSWORD, REFRESH, USERS

PRINCIPALS = ("anonymous", "waiter", "manager", "admin")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def row(anonymous: int, waiter: int, manager: int, admin: int) -> dict[str, int]:
    return dict(zip(PRINCIPALS, (anonymous, waiter, manager, admin), strict=True))


# Every route has two rows: "home", where the object (order, location, report filter) is at the
# location every principal belongs to, and "away", where it is at another location that only the admin
# (who belongs to every location) may reach. Location-agnostic routes repeat the same row on purpose.
def same(cells: dict[str, int]) -> dict[str, dict[str, int]]:
    return {"home": cells, "away": cells}


def cells(home: dict[str, int], away: dict[str, int]) -> dict[str, dict[str, int]]:
    return {"home": home, "away": away}


MATRIX: dict[tuple[str, str], dict[str, dict[str, int]]] = {
    # (method, rule)                                  anonymous waiter manager admin
    ("GET", "/health"):                               same(row(200, 200, 200, 200)),
    ("GET", "/openapi.json"):                         same(row(200, 200, 200, 200)),
    ("GET", "/docs"):                                 same(row(200, 200, 200, 200)),
    ("GET", "/docs/assets/<path:filename>"):          same(row(200, 200, 200, 200)),
    ("GET", "/dashboard"):                            same(row(200, 200, 200, 200)),
    ("GET", "/dashboard/assets/<asset>"):             same(row(200, 200, 200, 200)),
    ("POST", "/api/v1/auth/login"):                   same(row(200, 200, 200, 200)),
    ("POST", "/api/v1/auth/refresh"):                 same(row(401, 200, 200, 200)),
    ("POST", "/api/v1/auth/logout"):                  same(row(401, 204, 204, 204)),
    ("GET", "/api/v1/auth/me"):                       same(row(401, 200, 200, 200)),
    ("PUT", "/api/v1/auth/me/pin"):                   same(row(401, 204, 204, 204)),
    # An approval names an order of the target: a waiter may not see it (404), nor a manager elsewhere.
    ("POST", "/api/v1/auth/approvals"):               cells(row(401, 404, 201, 201), row(401, 404, 404, 201)),
    # Users are chain-wide (the target lives at the other location in "away").
    ("GET", "/api/v1/users"):                         same(row(401, 403, 200, 200)),
    ("POST", "/api/v1/users"):                        same(row(401, 403, 403, 201)),
    ("GET", "/api/v1/users/<int:user_id>"):           same(row(401, 404, 200, 200)),
    ("PATCH", "/api/v1/users/<int:user_id>"):         same(row(401, 403, 403, 200)),
    ("DELETE", "/api/v1/users/<int:user_id>"):        same(row(401, 403, 403, 204)),
    # Locations: members see theirs; only admins create and change.
    ("GET", "/api/v1/locations"):                     same(row(401, 200, 200, 200)),
    ("POST", "/api/v1/locations"):                    same(row(401, 403, 403, 201)),
    ("GET", "/api/v1/locations/<int:location_id>"):   cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("PATCH", "/api/v1/locations/<int:location_id>"): same(row(401, 403, 403, 200)),
    # The catalogue is chain-wide.
    ("GET", "/api/v1/products"):                      same(row(401, 200, 200, 200)),
    ("POST", "/api/v1/products"):                     same(row(401, 403, 201, 201)),
    ("GET", "/api/v1/products/<int:product_id>"):     same(row(401, 200, 200, 200)),
    ("PATCH", "/api/v1/products/<int:product_id>"):   same(row(401, 403, 200, 200)),
    ("DELETE", "/api/v1/products/<int:product_id>"):  same(row(401, 403, 204, 204)),
    # Order routes point at an order of another waiter (the target): a waiter gets 404 (BOLA), and so
    # does a manager when the order is at a location they do not belong to. Away, the list filters on
    # that location (404) and the bodies name it (422 on location_id; the batch rejects the order).
    ("GET", "/api/v1/orders"):                        cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/orders"):                       cells(row(401, 201, 201, 201), row(401, 422, 422, 201)),
    ("POST", "/api/v1/orders/batch"):                 same(row(401, 200, 200, 200)),
    ("GET", "/api/v1/orders/<bigid:order_id>"):         cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    ("PATCH", "/api/v1/orders/<bigid:order_id>"):       cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/orders/<bigid:order_id>/items"):  cells(row(401, 404, 201, 201), row(401, 404, 404, 201)),
    ("DELETE", "/api/v1/orders/<bigid:order_id>/items/<bigid:item_id>"): cells(row(401, 404, 200, 200),
                                                                           row(401, 404, 404, 200)),
    ("POST", "/api/v1/orders/<bigid:order_id>/close"):  cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/orders/<bigid:order_id>/cancel"): cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    # Reports: every role; a waiter's report covers only their own orders. Away: ?location_id= names the
    # other location, which is 404 to anyone who does not belong to it.
    ("GET", "/api/v1/reports/products"):              cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("GET", "/api/v1/reports/waiters"):               cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("GET", "/api/v1/reports/sales"):                 cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("GET", "/api/v1/reports/locations"):             cells(row(401, 403, 200, 200), row(401, 403, 404, 200)),
    ("GET", "/api/v1/reports/payments"):              cells(row(401, 403, 200, 200), row(401, 403, 404, 200)),
    # The CSV downloads as operations of their own (issue 22): the same rules as their reports.
    ("GET", "/api/v1/reports/products.csv"):          cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("GET", "/api/v1/reports/waiters.csv"):           cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("GET", "/api/v1/reports/sales.csv"):             cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("GET", "/api/v1/reports/locations.csv"):         cells(row(401, 403, 200, 200), row(401, 403, 404, 200)),
    ("GET", "/api/v1/reports/payments.csv"):          cells(row(401, 403, 200, 200), row(401, 403, 404, 200)),
    ("POST", "/api/v1/orders/calculate"):             cells(row(401, 200, 200, 200), row(401, 422, 422, 200)),
    ("POST", "/api/v1/orders/<bigid:order_id>/payments"): cells(row(401, 404, 201, 201), row(401, 404, 404, 201)),
    ("GET", "/api/v1/orders/<bigid:order_id>/events"):  cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    # Discounts and refunds are for managers and admins: a waiter is 403 whoever's order it is.
    ("POST", "/api/v1/orders/<bigid:order_id>/discounts"): cells(row(401, 403, 201, 201), row(401, 403, 404, 201)),
    ("DELETE", "/api/v1/orders/<bigid:order_id>/discounts/<bigid:discount_id>"): cells(row(401, 403, 200, 200),
                                                                                   row(401, 403, 404, 200)),
    ("POST", "/api/v1/orders/<bigid:order_id>/refunds"): cells(row(401, 403, 201, 201),  # on a closed order
                                                             row(401, 403, 404, 201)),
    # v1.2 floor. Tables: members look, managers of the location and admins change.
    ("GET", "/api/v1/locations/<int:location_id>/tables"): cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/locations/<int:location_id>/tables"): cells(row(401, 403, 201, 201), row(401, 404, 404, 201)),
    ("PATCH", "/api/v1/tables/<int:table_id>"):        cells(row(401, 403, 200, 200), row(401, 404, 404, 200)),
    # Transfer, merge, split, shares: whoever may change (see) the target's order.
    ("POST", "/api/v1/orders/<bigid:order_id>/transfer"): cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/orders/<bigid:order_id>/merge"):   cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/orders/<bigid:order_id>/split"):   cells(row(401, 404, 201, 201), row(401, 404, 404, 201)),
    ("GET", "/api/v1/orders/<bigid:order_id>/shares"):   cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    # The kitchen: members see stations and tickets, bump and recall; managers and admins configure stations.
    ("GET", "/kitchen"):                              same(row(200, 200, 200, 200)),
    ("GET", "/kitchen/assets/<kitchen_asset>"):       same(row(200, 200, 200, 200)),
    ("GET", "/api/v1/locations/<int:location_id>/stations"): cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/locations/<int:location_id>/stations"): cells(row(401, 403, 201, 201),
                                                                    row(401, 403, 404, 201)),
    ("PATCH", "/api/v1/stations/<int:station_id>"):   cells(row(401, 403, 200, 200), row(401, 403, 404, 200)),
    ("GET", "/api/v1/kitchen/stations/<int:station_id>/tickets"): cells(row(401, 200, 200, 200),
                                                                        row(401, 404, 404, 200)),
    ("GET", "/api/v1/kitchen/tickets/<int:ticket_id>"): cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/kitchen/tickets/<int:ticket_id>/ready"): cells(row(401, 200, 200, 200),
                                                                     row(401, 404, 404, 200)),
    ("POST", "/api/v1/kitchen/tickets/<int:ticket_id>/recall"): cells(row(401, 200, 200, 200),  # a ready ticket
                                                                      row(401, 404, 404, 200)),
    ("POST", "/api/v1/orders/<bigid:order_id>/fire"):   cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/orders/<bigid:order_id>/served"): cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    ("GET", "/api/v1/reports/kitchen"):               cells(row(401, 403, 200, 200), row(401, 403, 404, 200)),
    # The cash drawer: members of the location; drawers and the day close for managers and admins; the
    # live X for managers and admins. Another location's drawer, session or day is 404.
    ("GET", "/api/v1/locations/<int:location_id>/drawers"): cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/locations/<int:location_id>/drawers"): cells(row(401, 403, 201, 201),
                                                                   row(401, 403, 404, 201)),
    ("GET", "/api/v1/locations/<int:location_id>/drawer-sessions"): cells(row(401, 200, 200, 200),
                                                                          row(401, 404, 404, 200)),
    ("POST", "/api/v1/drawers/<int:drawer_id>/sessions"): cells(row(401, 201, 201, 201), row(401, 404, 404, 201)),
    ("GET", "/api/v1/drawer-sessions/<int:session_id>"): cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("GET", "/api/v1/drawer-sessions/<int:session_id>/x"): cells(row(401, 403, 200, 200), row(401, 403, 404, 200)),
    ("POST", "/api/v1/drawer-sessions/<int:session_id>/movements"): cells(row(401, 201, 201, 201),
                                                                          row(401, 404, 404, 201)),
    ("POST", "/api/v1/drawer-sessions/<int:session_id>/close"): cells(row(401, 200, 200, 200),
                                                                      row(401, 404, 404, 200)),
    ("GET", "/api/v1/drawer-sessions/<int:session_id>/z"): cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/locations/<int:location_id>/days/<string(maxlength=32):business_date>/close"):
        cells(row(401, 403, 201, 201), row(401, 403, 404, 201)),
    ("GET", "/api/v1/locations/<int:location_id>/days/<string(maxlength=32):business_date>"):
        cells(row(401, 200, 200, 200), row(401, 404, 404, 200)),
    # The change feed: managers and admins of their locations (away: ?location_id= names the other one).
    ("GET", "/api/v1/events"):                        cells(row(401, 403, 200, 200), row(401, 403, 404, 200)),
    # Webhooks are chain-wide and for admins only.
    ("GET", "/api/v1/webhooks"):                      same(row(401, 403, 403, 200)),
    ("POST", "/api/v1/webhooks"):                     same(row(401, 403, 403, 201)),
    ("GET", "/api/v1/webhooks/<int:webhook_id>"):     same(row(401, 403, 403, 200)),
    ("PATCH", "/api/v1/webhooks/<int:webhook_id>"):   same(row(401, 403, 403, 200)),
    ("DELETE", "/api/v1/webhooks/<int:webhook_id>"):  same(row(401, 403, 403, 204)),
    ("POST", "/api/v1/webhooks/<int:webhook_id>/rotate-secret"): same(row(401, 403, 403, 200)),
    ("GET", "/api/v1/webhooks/<int:webhook_id>/deliveries"): same(row(401, 403, 403, 200)),
    ("POST", "/api/v1/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/retry"): same(row(401, 403, 403, 202)),
    ("POST", "/api/v1/webhooks/<int:webhook_id>/ping"): same(row(401, 403, 403, 202)),
}
WHERE = ("home", "away")


@dataclass
class World:
    """What the requests point at, made fresh for every route."""

    principals: dict[str, User]
    target: User  # a waiter who is none of the principals, at `location`
    factory: Any
    product: Product
    where: str  # "home": the principals' location; "away": a location only the admin may reach
    location: Location  # where the target works and the requests point
    order: Order | None = None  # the target's order made for the current request
    rule: str = ""  # the rule being requested (refunds need a closed order)
    numbers: Any = field(default_factory=lambda: itertools.count(1))

    def line(self) -> dict[str, int]:
        return {"product_id": self.product.id, "quantity": 1}

    def at(self) -> dict[str, int]:
        """An order body's location: left out at home (the caller's only one, the admin's default)."""
        return {"location_id": self.location.id} if self.where == "away" else {}

    def fresh_order(self) -> int:
        """A new open order of the target with one line, so every principal acts on its own order."""
        from app.orders.lines import Line
        from app.orders.services import build_order

        quantity = 2 if self.rule.endswith("/split") else 1  # a split leaves the source a line
        line = Line(self.product.id, self.product.name, self.product.price_cents, quantity, None)
        self.order = build_order(self.target, {"customer_name": "Matrix"}, [line], utcnow(), self.location)
        if self.rule.endswith("/refunds"):
            self.order.status, self.order.payment_method, self.order.closed_at = "closed", "cash", utcnow()
            self.order.paid_total_cents = self.order.total_cents
            self.order.payments.append(Payment(method="cash", amount_cents=self.order.total_cents, tip_cents=0,
                                               business_date=self.order.business_date, created_by_id=self.target.id))
        db.session.add(self.order)
        db.session.commit()
        return self.order.id

    def table(self) -> int:
        """A table at the target's location."""
        from app.models import Table

        table = Table(location_id=self.location.id, name=f"M{uuid.uuid4().hex[:6]}", seats=4, active=True)
        db.session.add(table)
        db.session.commit()
        return table.id

    def other_order(self) -> int:
        """Another open order of the target at the same location (merge's from_order_id)."""
        current = self.order
        other = self.fresh_order()
        self.order = current
        return other

    def approver(self) -> int:
        """A manager of the target's location with the PIN 4821."""
        from app.auth.passwords import hash_password

        approver = self.factory.make_user("manager")
        approver.locations, approver.pin_hash = [self.location], hash_password("4821")
        db.session.commit()
        return approver.id
    def drawer(self) -> int:
        """A drawer at the location."""
        drawer = Drawer(location_id=self.location.id, name="Matrix", active=True)
        db.session.add(drawer)
        db.session.commit()
        return drawer.id

    def session(self) -> int:
        """A session of a fresh drawer opened by a fresh waiter of the location (float 0); closed and
        numbered for the Z."""
        now = utcnow()
        opener = self.factory.make_user()
        opener.locations = [self.location]
        db.session.commit()
        session = DrawerSession(drawer_id=self.drawer(), location_id=self.location.id, status="open",
                                business_date=now.date(), opened_by_id=opener.id, opened_at=now,
                                opening_float_cents=0, version=1, cash_sales_cents=0, cash_tips_cents=0,
                                cash_refunds_cents=0, pay_in_cents=0, pay_out_cents=0, safe_drop_cents=0,
                                tip_out_cents=0, methods={}, orders_count=0)
        if self.rule.endswith("/z"):
            session.status, session.closed_by_id, session.closed_at = "closed", self.target.id, now
            session.counted_cash_cents, session.variance_cents, session.version = 0, 0, 2
            session.z_number = next(self.numbers)
            session.frozen = {"cash_sales": 0, "cash_tips": 0, "cash_refunds": 0, "pay_in": 0, "pay_out": 0,
                              "safe_drop": 0, "tip_out": 0, "expected_cash": 0, "by_method": [], "orders": 0,
                              "first_folio": None, "last_folio": None}
        db.session.add(session)
        db.session.commit()
        return session.id

    def business_date(self) -> str:
        """A past date, a fresh one per request (a date closes once); closed already for the GET."""
        day = utcnow().date() - timedelta(days=next(self.numbers))
        if not self.rule.endswith("/close"):
            db.session.add(BusinessDay(location_id=self.location.id, business_date=day, closed_by_id=self.target.id,
                                       closed_at=utcnow(), figures={"sessions": [], "orders": 0, "gross": 0,
                                                                    "discounts": 0, "refunds": 0, "revenue": 0,
                                                                    "tax": 0, "tips": 0, "by_method": [],
                                                                    "first_folio": None, "last_folio": None}))
            db.session.commit()
        return day.isoformat()

    def discount(self) -> int:
        """An order discount on the current order."""
        discount = Discount(order_id=self.order.id, amount_cents=100, applied_cents=100, reason="matrix",
                            created_by_id=self.target.id)
        db.session.add(discount)
        db.session.commit()
        return discount.id

    def station(self) -> int:
        """A new station at `location`."""
        station = Station(location_id=self.location.id, name=f"Matrix {uuid.uuid4().hex[:6]}", categories=[],
                          product_ids=[], is_default=False, alert_minutes=15, active=True, queue_version=1)
        db.session.add(station)
        db.session.commit()
        return station.id

    def ticket(self) -> int:
        """A new open kitchen ticket (ready for a recall) of a fresh order of the target at `location`."""
        self.fresh_order()
        ready = self.rule.endswith("/recall")
        ticket = KitchenTicket(location_id=self.location.id, station_id=self.station(), order_id=self.order.id,
                               number=next(TICKET_NUMBERS), business_date=self.order.business_date, kind="new",
                               status="ready" if ready else "open", ready_at=utcnow() if ready else None,
                               created_at=utcnow(), version=1)
        db.session.add(ticket)
        db.session.commit()
        return ticket.id


# A value for every path parameter name used in the rules.
PATH_VALUES: dict[str, Callable[[World], Any]] = {
    "user_id": lambda w: w.target.id,
    "location_id": lambda w: w.location.id,
    "product_id": lambda w: w.product.id,
    "order_id": lambda w: w.fresh_order(),
    "item_id": lambda w: w.order.items[0].id,  # filled after order_id, from the same order
    "discount_id": lambda w: w.discount(),  # likewise
    "table_id": lambda w: w.table(),
    "drawer_id": lambda w: w.drawer(),
    "session_id": lambda w: w.session(),
    "business_date": lambda w: w.business_date(),
    "filename": lambda w: "swagger-ui.css",
    "asset": lambda w: hashed_name("dashboard.js"),
    "station_id": lambda w: w.station(),
    "ticket_id": lambda w: w.ticket(),
    "kitchen_asset": lambda w: kitchen_asset("kitchen.js"),
    "webhook_id": lambda w: make_webhook(w),
    "delivery_id": lambda w: make_delivery(w),  # of the webhook just made for webhook_id
}
TICKET_NUMBERS = itertools.count(1)


def make_webhook(world: World) -> int:
    """A webhook (made directly: the route under test may be its creation's neighbour)."""
    webhook = Webhook(url="https://93.184.215.14/hook", types=["*"], location_ids=[], active=True,
                      secret="whsec_" + "A" * 32, cursor={})
    db.session.add(webhook)
    db.session.commit()
    world.webhook_id = webhook.id  # type: ignore[attr-defined]
    return webhook.id


def make_delivery(world: World) -> int:
    delivery = WebhookDelivery(webhook_id=world.webhook_id, event_type="webhook.ping",  # type: ignore[attr-defined]
                               subject_key=f"ping:{uuid.uuid4().hex}", payload={}, status="failed", attempts=1)
    db.session.add(delivery)
    db.session.commit()
    return delivery.id

# Minimal valid bodies; routes without an entry are sent without a body.
BODIES: dict[tuple[str, str], Callable[[World], dict]] = {
    ("POST", LOGIN): lambda w: {"email": w.target.email, "password": PASSWORD},
    ("POST", USERS): lambda w: {
        "email": f"new-{uuid.uuid4().hex[:8]}@example.com", "name": "New Hire", "password": "new-password"
    },
    ("PATCH", "/api/v1/users/<int:user_id>"): lambda w: {"name": "Renamed"},
    ("POST", "/api/v1/locations/<int:location_id>/tables"): lambda w: {"name": f"T{uuid.uuid4().hex[:6]}"},
    ("PATCH", "/api/v1/tables/<int:table_id>"): lambda w: {"seats": 6},
    ("POST", "/api/v1/orders/<bigid:order_id>/transfer"): lambda w: {"table_id": w.table()},
    ("POST", "/api/v1/orders/<bigid:order_id>/merge"): lambda w: {"from_order_id": w.other_order()},
    ("POST", "/api/v1/orders/<bigid:order_id>/split"): lambda w: {
        "by": "items", "items": [{"item_id": w.order.items[0].id, "quantity": 1}]
    },
    ("PUT", "/api/v1/auth/me/pin"): lambda w: {"current_password": PASSWORD, "pin": None},
    ("POST", "/api/v1/auth/approvals"): lambda w: {
        "approver_id": w.approver(), "pin": "4821", "action": "discount", "order_id": w.fresh_order()
    },
    ("POST", "/api/v1/locations"): lambda w: {"name": f"Matrix {uuid.uuid4().hex[:8]}", "timezone": "UTC"},
    ("PATCH", "/api/v1/locations/<int:location_id>"): lambda w: {"tax_rate": "8.5"},
    ("POST", "/api/v1/products"): lambda w: {"name": f"Matrix {uuid.uuid4().hex[:8]}", "price": "9.50"},
    ("PATCH", "/api/v1/products/<int:product_id>"): lambda w: {"price": "11.00"},
    ("POST", "/api/v1/webhooks"): lambda w: {"url": "https://93.184.215.14/hook", "types": ["order.*"]},
    ("PATCH", "/api/v1/webhooks/<int:webhook_id>"): lambda w: {"description": "matrix"},
    ("POST", "/api/v1/orders"): lambda w: {"customer_name": "A", "items": [w.line()], **w.at()},
    ("POST", "/api/v1/orders/batch"): lambda w: {
        "orders": [{"client_order_id": uuid.uuid4().hex, "customer_name": "A", "items": [w.line()], **w.at()}]
    },
    ("PATCH", "/api/v1/orders/<bigid:order_id>"): lambda w: {"table": "9"},
    ("POST", "/api/v1/locations/<int:location_id>/stations"): lambda w: {"name": f"Matrix {uuid.uuid4().hex[:8]}"},
    ("PATCH", "/api/v1/stations/<int:station_id>"): lambda w: {"alert_minutes": 9},
    ("POST", "/api/v1/orders/<bigid:order_id>/fire"): lambda w: {},
    ("POST", "/api/v1/orders/<bigid:order_id>/served"): lambda w: {},
    ("POST", "/api/v1/orders/<bigid:order_id>/items"):
        lambda w: {"items": [{"product_id": w.product.id, "quantity": 2}]},
    ("POST", "/api/v1/orders/<bigid:order_id>/close"): lambda w: {"payment_method": "cash"},
    ("POST", "/api/v1/orders/<bigid:order_id>/cancel"): lambda w: {"reason": "matrix"},
    ("POST", "/api/v1/orders/calculate"): lambda w: {"items": [w.line()], **w.at()},
    ("POST", "/api/v1/orders/<bigid:order_id>/payments"): lambda w: {"method": "cash", "amount": "1.00"},
    ("POST", "/api/v1/orders/<bigid:order_id>/discounts"): lambda w: {"percent": "10", "reason": "matrix"},
    ("POST", "/api/v1/orders/<bigid:order_id>/refunds"): lambda w: {
        "items": [{"item_id": w.order.items[0].id, "quantity": 1}], "reason": "matrix"
    },
    ("POST", "/api/v1/locations/<int:location_id>/drawers"): lambda w: {"name": "Caja"},
    ("POST", "/api/v1/drawers/<int:drawer_id>/sessions"): lambda w: {"opening_float": "100.00"},
    ("POST", "/api/v1/drawer-sessions/<int:session_id>/movements"): lambda w: {
        "type": "pay_in", "amount": "1.00", "reason": "matrix"},
    ("POST", "/api/v1/drawer-sessions/<int:session_id>/close"): lambda w: {"counted_cash": "0.00"},
}

# Extra headers some routes need to be otherwise valid.
HEADERS: dict[tuple[str, str], dict[str, str]] = {
    ("PATCH", "/api/v1/orders/<bigid:order_id>"): {"If-Match": '"1"'},
    ("POST", "/api/v1/orders/<bigid:order_id>/transfer"): {"If-Match": '"1"'},
    ("POST", "/api/v1/orders/<bigid:order_id>/merge"): {"If-Match": '"1"'},
    ("POST", "/api/v1/orders/<bigid:order_id>/split"): {"If-Match": '"1"'},
    ("POST", "/api/v1/drawer-sessions/<int:session_id>/close"): {"If-Match": '"1"'},
}

# Query strings some routes need to be otherwise valid.
QUERIES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/orders/<bigid:order_id>/shares"): {"parts": 2},
}

# Routes that authenticate with the refresh token instead of the access token.
REFRESH_TOKEN_ROUTES = {("POST", REFRESH)}

PARAM = re.compile(r"<(?:[^:<>]+:)?([^:<>]+)>")


# Query strings of the "away" requests: filters naming the other location.
AWAY_QUERIES = {
    ("GET", "/api/v1/orders"), ("GET", "/api/v1/reports/products"), ("GET", "/api/v1/reports/waiters"),
    ("GET", "/api/v1/reports/sales"), ("GET", "/api/v1/reports/locations"), ("GET", "/api/v1/reports/payments"),
    ("GET", "/api/v1/reports/kitchen"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/reports/products.csv"), ("GET", "/api/v1/reports/waiters.csv"),
    ("GET", "/api/v1/reports/sales.csv"), ("GET", "/api/v1/reports/locations.csv"),
    ("GET", "/api/v1/reports/payments.csv"),
}


def make_world(factory, where: str = "home") -> World:
    home = db.session.scalar(select(Location).where(Location.is_default))
    location = home
    if where == "away":
        location = Location(name=f"Away {uuid.uuid4().hex[:6]}", timezone="Asia/Tokyo", day_starts_at="05:00")
        db.session.add(location)
        db.session.commit()
    target = factory.make_user()
    target.locations = [location]
    db.session.commit()
    return World(
        principals={role: factory.make_user(role) for role in PRINCIPALS[1:]},
        target=target,
        factory=factory,
        product=factory.make_product(),
        where=where,
        location=location,
    )


def build_request(factory, world: World, method: str, rule: str, principal: str) -> dict[str, Any]:
    """Keyword arguments for client.open(): the URL with path values, the body, the principal's token."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        assert name in PATH_VALUES, f"add a PATH_VALUES entry for <{name}>"
        return str(PATH_VALUES[name](world))

    world.rule = rule
    request: dict[str, Any] = {"path": PARAM.sub(fill, rule), "method": method}
    if (method, rule) in QUERIES:
        request["query_string"] = dict(QUERIES[(method, rule)])
    if world.where == "away" and (method, rule) in AWAY_QUERIES:
        request["query_string"] = {"location_id": world.location.id}
    if (method, rule) in BODIES:
        request["json"] = BODIES[(method, rule)](world)
    request["headers"] = dict(HEADERS.get((method, rule), {}))
    if principal != "anonymous":
        token = factory.token(world.principals[principal], refresh=(method, rule) in REFRESH_TOKEN_ROUTES)
        request["headers"]["Authorization"] = f"Bearer {token}"
    return request


def url_map_routes(app) -> set[tuple[str, str]]:
    return {(m, r.rule) for r in app.url_map.iter_rules() for m in r.methods - IGNORED_METHODS}


def test_matrix_covers_every_route(app):
    routes = url_map_routes(app)
    missing, stale = sorted(routes - MATRIX.keys()), sorted(MATRIX.keys() - routes)
    assert not missing, f"routes without a line in MATRIX: {missing}"
    assert not stale, f"MATRIX lines for routes that no longer exist: {stale}"


def test_every_line_has_both_locations():
    assert all(set(entry) == set(WHERE) for entry in MATRIX.values())


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize(("method", "rule"), sorted(MATRIX), ids=[f"{m} {r}" for m, r in sorted(MATRIX)])
def test_role_matrix(client, factory, method, rule, where):
    world = make_world(factory, where)
    got = {p: client.open(**build_request(factory, world, method, rule, p)).status_code for p in PRINCIPALS}
    assert got == MATRIX[(method, rule)][where]
