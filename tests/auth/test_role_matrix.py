"""Role x endpoint matrix, checked against app.url_map.

Each cell is the exact status a principal gets for a request that is otherwise valid: path
parameters point at an existing object and the body is a minimal valid one (see PATH_VALUES and
BODIES). So the cell isolates authorization: a principal that may call the endpoint gets its success
status, the others get 401 (no token), 403 (the role may not) or 404 (may not see that object).

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

from app.extensions import db
from app.models import Discount, Order, Payment, Product, User
from app.models.types import utcnow
from tests.factories import PASSWORD

PRINCIPALS = ("anonymous", "waiter", "manager", "admin")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def row(anonymous: int, waiter: int, manager: int, admin: int) -> dict[str, int]:
    return dict(zip(PRINCIPALS, (anonymous, waiter, manager, admin), strict=True))


MATRIX: dict[tuple[str, str], dict[str, int]] = {
    # (method, rule)                                  anonymous waiter manager admin
    ("GET", "/health"):                               row(200, 200, 200, 200),
    ("GET", "/openapi.json"):                         row(200, 200, 200, 200),
    ("GET", "/docs"):                                 row(200, 200, 200, 200),
    ("GET", "/docs/assets/<path:filename>"):          row(200, 200, 200, 200),
    ("POST", "/api/v1/auth/login"):                   row(200, 200, 200, 200),
    ("POST", "/api/v1/auth/refresh"):                 row(401, 200, 200, 200),
    ("POST", "/api/v1/auth/logout"):                  row(401, 204, 204, 204),
    ("GET", "/api/v1/auth/me"):                       row(401, 200, 200, 200),
    ("GET", "/api/v1/users"):                         row(401, 403, 200, 200),
    ("POST", "/api/v1/users"):                        row(401, 403, 403, 201),
    ("GET", "/api/v1/users/<int:user_id>"):           row(401, 404, 200, 200),
    ("PATCH", "/api/v1/users/<int:user_id>"):         row(401, 403, 403, 200),
    ("DELETE", "/api/v1/users/<int:user_id>"):        row(401, 403, 403, 204),
    ("GET", "/api/v1/products"):                      row(401, 200, 200, 200),
    ("POST", "/api/v1/products"):                     row(401, 403, 201, 201),
    ("GET", "/api/v1/products/<int:product_id>"):     row(401, 200, 200, 200),
    ("PATCH", "/api/v1/products/<int:product_id>"):   row(401, 403, 200, 200),
    ("DELETE", "/api/v1/products/<int:product_id>"):  row(401, 403, 204, 204),
    # Order routes point at an order of another waiter (the target): a waiter gets 404 (BOLA).
    ("GET", "/api/v1/orders"):                        row(401, 200, 200, 200),
    ("POST", "/api/v1/orders"):                       row(401, 201, 201, 201),
    ("POST", "/api/v1/orders/batch"):                 row(401, 200, 200, 200),
    ("GET", "/api/v1/orders/<int:order_id>"):         row(401, 404, 200, 200),
    ("PATCH", "/api/v1/orders/<int:order_id>"):       row(401, 404, 200, 200),
    ("POST", "/api/v1/orders/<int:order_id>/items"):  row(401, 404, 201, 201),
    ("DELETE", "/api/v1/orders/<int:order_id>/items/<int:item_id>"): row(401, 404, 200, 200),
    ("POST", "/api/v1/orders/<int:order_id>/close"):  row(401, 404, 200, 200),
    ("POST", "/api/v1/orders/<int:order_id>/cancel"): row(401, 404, 200, 200),
    ("POST", "/api/v1/orders/calculate"):             row(401, 200, 200, 200),
    ("POST", "/api/v1/orders/<int:order_id>/payments"): row(401, 404, 201, 201),
    ("GET", "/api/v1/orders/<int:order_id>/events"):  row(401, 404, 200, 200),
    # Discounts and refunds are for managers and admins: a waiter is 403 whoever's order it is.
    ("POST", "/api/v1/orders/<int:order_id>/discounts"): row(401, 403, 201, 201),
    ("DELETE", "/api/v1/orders/<int:order_id>/discounts/<int:discount_id>"): row(401, 403, 200, 200),
    ("POST", "/api/v1/orders/<int:order_id>/refunds"): row(401, 403, 201, 201),  # on a closed order
    # Reports: every role; a waiter's report covers only their own orders.
    ("GET", "/api/v1/reports/products"):              row(401, 200, 200, 200),
    ("GET", "/api/v1/reports/waiters"):               row(401, 200, 200, 200),
    ("GET", "/api/v1/reports/sales"):                 row(401, 200, 200, 200),
}


@dataclass
class World:
    """What the requests point at, made fresh for every route."""

    principals: dict[str, User]
    target: User  # a waiter who is none of the principals
    factory: Any
    product: Product
    order: Order | None = None  # the target's order made for the current request
    rule: str = ""  # the rule being requested (refunds need a closed order)

    def line(self) -> dict[str, int]:
        return {"product_id": self.product.id, "quantity": 1}

    def fresh_order(self) -> int:
        """A new open order of the target with one line, so every principal acts on its own order."""
        from app.orders.lines import Line
        from app.orders.services import build_order

        line = Line(self.product.id, self.product.name, self.product.price_cents, 1, None)
        self.order = build_order(self.target, {"customer_name": "Matrix"}, [line], utcnow())
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
    "product_id": lambda w: w.product.id,
    "order_id": lambda w: w.fresh_order(),
    "item_id": lambda w: w.order.items[0].id,  # filled after order_id, from the same order
    "discount_id": lambda w: w.discount(),  # likewise
    "filename": lambda w: "swagger-ui.css",
}

# Minimal valid bodies; routes without an entry are sent without a body.
BODIES: dict[tuple[str, str], Callable[[World], dict]] = {
    ("POST", "/api/v1/auth/login"): lambda w: {"email": w.target.email, "password": PASSWORD},
    ("POST", "/api/v1/users"): lambda w: {
        "email": f"new-{uuid.uuid4().hex[:8]}@example.com", "name": "New Hire", "password": "new-password"
    },
    ("PATCH", "/api/v1/users/<int:user_id>"): lambda w: {"name": "Renamed"},
    ("POST", "/api/v1/products"): lambda w: {"name": f"Matrix {uuid.uuid4().hex[:8]}", "price": "9.50"},
    ("PATCH", "/api/v1/products/<int:product_id>"): lambda w: {"price": "11.00"},
    ("POST", "/api/v1/orders"): lambda w: {"customer_name": "A", "items": [w.line()]},
    ("POST", "/api/v1/orders/batch"): lambda w: {
        "orders": [{"client_order_id": uuid.uuid4().hex, "customer_name": "A", "items": [w.line()]}]
    },
    ("PATCH", "/api/v1/orders/<int:order_id>"): lambda w: {"table": "9"},
    ("POST", "/api/v1/orders/<int:order_id>/items"): lambda w: {"items": [{"product_id": w.product.id, "quantity": 2}]},
    ("POST", "/api/v1/orders/<int:order_id>/close"): lambda w: {"payment_method": "cash"},
    ("POST", "/api/v1/orders/<int:order_id>/cancel"): lambda w: {"reason": "matrix"},
    ("POST", "/api/v1/orders/calculate"): lambda w: {"items": [w.line()]},
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
REFRESH_TOKEN_ROUTES = {("POST", "/api/v1/auth/refresh")}

PARAM = re.compile(r"<(?:[^:<>]+:)?([^:<>]+)>")


def make_world(factory) -> World:
    return World(
        principals={role: factory.make_user(role) for role in PRINCIPALS[1:]},
        target=factory.make_user(),
        factory=factory,
        product=factory.make_product(),
    )


def build_request(factory, world: World, method: str, rule: str, principal: str) -> dict[str, Any]:
    """Keyword arguments for client.open(): the URL with path values, the body, the principal's token."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        assert name in PATH_VALUES, f"add a PATH_VALUES entry for <{name}>"
        return str(PATH_VALUES[name](world))

    world.rule = rule
    request: dict[str, Any] = {"path": PARAM.sub(fill, rule), "method": method}
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


@pytest.mark.parametrize(("method", "rule"), sorted(MATRIX), ids=[f"{m} {r}" for m, r in sorted(MATRIX)])
def test_role_matrix(client, factory, method, rule):
    world = make_world(factory)
    got = {p: client.open(**build_request(factory, world, method, rule, p)).status_code for p in PRINCIPALS}
    assert got == MATRIX[(method, rule)]
