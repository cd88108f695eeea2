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

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from app.columns import utcnow
from app.dashboard import hashed_name
from app.extensions import db
from app.models import Discount, Location, Order, Payment, Product, User
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
    ("GET", "/api/v1/orders/<int:order_id>"):         cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    ("PATCH", "/api/v1/orders/<int:order_id>"):       cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/orders/<int:order_id>/items"):  cells(row(401, 404, 201, 201), row(401, 404, 404, 201)),
    ("DELETE", "/api/v1/orders/<int:order_id>/items/<int:item_id>"): cells(row(401, 404, 200, 200),
                                                                           row(401, 404, 404, 200)),
    ("POST", "/api/v1/orders/<int:order_id>/close"):  cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    ("POST", "/api/v1/orders/<int:order_id>/cancel"): cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
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
    ("POST", "/api/v1/orders/<int:order_id>/payments"): cells(row(401, 404, 201, 201), row(401, 404, 404, 201)),
    ("GET", "/api/v1/orders/<int:order_id>/events"):  cells(row(401, 404, 200, 200), row(401, 404, 404, 200)),
    # Discounts and refunds are for managers and admins: a waiter is 403 whoever's order it is.
    ("POST", "/api/v1/orders/<int:order_id>/discounts"): cells(row(401, 403, 201, 201), row(401, 403, 404, 201)),
    ("DELETE", "/api/v1/orders/<int:order_id>/discounts/<int:discount_id>"): cells(row(401, 403, 200, 200),
                                                                                   row(401, 403, 404, 200)),
    ("POST", "/api/v1/orders/<int:order_id>/refunds"): cells(row(401, 403, 201, 201),  # on a closed order
                                                             row(401, 403, 404, 201)),
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

    def line(self) -> dict[str, int]:
        return {"product_id": self.product.id, "quantity": 1}

    def at(self) -> dict[str, int]:
        """An order body's location: left out at home (the caller's only one, the admin's default)."""
        return {"location_id": self.location.id} if self.where == "away" else {}

    def fresh_order(self) -> int:
        """A new open order of the target with one line, so every principal acts on its own order."""
        from app.orders.lines import Line
        from app.orders.services import build_order

        line = Line(self.product.id, self.product.name, self.product.price_cents, 1, None)
        self.order = build_order(self.target, {"customer_name": "Matrix"}, [line], utcnow(), self.location)
        if self.rule.endswith("/refunds"):
            self.order.status, self.order.payment_method, self.order.closed_at = "closed", "cash", utcnow()
            self.order.paid_total_cents = self.order.total_cents
            self.order.payments.append(Payment(method="cash", amount_cents=self.order.total_cents, tip_cents=0,
                                               business_date=self.order.business_date, created_by_id=self.target.id))
        db.session.add(self.order)
        db.session.commit()
        return self.order.id

    def discount(self) -> int:
        """An order discount on the current order."""
        discount = Discount(order_id=self.order.id, amount_cents=100, applied_cents=100, reason="matrix",
                            created_by_id=self.target.id)
        db.session.add(discount)
        db.session.commit()
        return discount.id


# A value for every path parameter name used in the rules.
PATH_VALUES: dict[str, Callable[[World], Any]] = {
    "user_id": lambda w: w.target.id,
    "location_id": lambda w: w.location.id,
    "product_id": lambda w: w.product.id,
    "order_id": lambda w: w.fresh_order(),
    "item_id": lambda w: w.order.items[0].id,  # filled after order_id, from the same order
    "discount_id": lambda w: w.discount(),  # likewise
    "filename": lambda w: "swagger-ui.css",
    "asset": lambda w: hashed_name("dashboard.js"),
}

# Minimal valid bodies; routes without an entry are sent without a body.
BODIES: dict[tuple[str, str], Callable[[World], dict]] = {
    ("POST", LOGIN): lambda w: {"email": w.target.email, "password": PASSWORD},
    ("POST", USERS): lambda w: {
        "email": f"new-{uuid.uuid4().hex[:8]}@example.com", "name": "New Hire", "password": "new-password"
    },
    ("PATCH", "/api/v1/users/<int:user_id>"): lambda w: {"name": "Renamed"},
    ("POST", "/api/v1/locations"): lambda w: {"name": f"Matrix {uuid.uuid4().hex[:8]}", "timezone": "UTC"},
    ("PATCH", "/api/v1/locations/<int:location_id>"): lambda w: {"tax_rate": "8.5"},
    ("POST", "/api/v1/products"): lambda w: {"name": f"Matrix {uuid.uuid4().hex[:8]}", "price": "9.50"},
    ("PATCH", "/api/v1/products/<int:product_id>"): lambda w: {"price": "11.00"},
    ("POST", "/api/v1/orders"): lambda w: {"customer_name": "A", "items": [w.line()], **w.at()},
    ("POST", "/api/v1/orders/batch"): lambda w: {
        "orders": [{"client_order_id": uuid.uuid4().hex, "customer_name": "A", "items": [w.line()], **w.at()}]
    },
    ("PATCH", "/api/v1/orders/<int:order_id>"): lambda w: {"table": "9"},
    ("POST", "/api/v1/orders/<int:order_id>/items"): lambda w: {"items": [{"product_id": w.product.id, "quantity": 2}]},
    ("POST", "/api/v1/orders/<int:order_id>/close"): lambda w: {"payment_method": "cash"},
    ("POST", "/api/v1/orders/<int:order_id>/cancel"): lambda w: {"reason": "matrix"},
    ("POST", "/api/v1/orders/calculate"): lambda w: {"items": [w.line()], **w.at()},
    ("POST", "/api/v1/orders/<int:order_id>/payments"): lambda w: {"method": "cash", "amount": "1.00"},
    ("POST", "/api/v1/orders/<int:order_id>/discounts"): lambda w: {"percent": "10", "reason": "matrix"},
    ("POST", "/api/v1/orders/<int:order_id>/refunds"): lambda w: {
        "items": [{"item_id": w.order.items[0].id, "quantity": 1}], "reason": "matrix"
    },
}

# Extra headers some routes need to be otherwise valid.
HEADERS: dict[tuple[str, str], dict[str, str]] = {
    ("PATCH", "/api/v1/orders/<int:order_id>"): {"If-Match": '"1"'},
}

# Routes that authenticate with the refresh token instead of the access token.
REFRESH_TOKEN_ROUTES = {("POST", REFRESH)}

PARAM = re.compile(r"<(?:[^:<>]+:)?([^:<>]+)>")


# Query strings of the "away" requests: filters naming the other location.
AWAY_QUERIES = {
    ("GET", "/api/v1/orders"), ("GET", "/api/v1/reports/products"), ("GET", "/api/v1/reports/waiters"),
    ("GET", "/api/v1/reports/sales"), ("GET", "/api/v1/reports/locations"), ("GET", "/api/v1/reports/payments"),
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
