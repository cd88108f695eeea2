"""Cash drawer fixtures: staff of the default location, a menu, and `till`, a small HTTP client."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Location

API = "/api/v1"


@pytest.fixture
def main(app) -> Location:
    return db.session.scalar(select(Location).where(Location.is_default))


@pytest.fixture
def waiter2(other_waiter):
    """The second waiter (tests/conftest.py's other_waiter, Ana)."""
    return other_waiter


@pytest.fixture
def taco(factory):
    return factory.make_product("Taco al pastor", "25.00")


class Till:
    """HTTP calls of the cash drawer and the orders, each asserting the status it expects."""

    def __init__(self, client, factory, location: Location, taco) -> None:
        self.client, self.factory, self.location, self.taco = client, factory, location, taco

    def call(self, method: str, path: str, user, body=None, status: int | None = None, **headers):
        resp = self.client.open(API + path, method=method, json=body, headers=self.factory.headers(user, **headers))
        if status is not None:
            assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
        return resp

    def drawer(self, user, name: str = "Caja 1", location_id: int | None = None) -> dict:
        loc = location_id or self.location.id
        return self.call("POST", f"/locations/{loc}/drawers", user, {"name": name}, 201).json

    def open(self, user, drawer_id: int, opening_float: str = "500.00") -> dict:
        return self.call("POST", f"/drawers/{drawer_id}/sessions", user, {"opening_float": opening_float}, 201).json

    def order(self, user, quantity: int = 1, location_id: int | None = None) -> dict:
        body = {"customer_name": "Ana", "items": [{"product_id": self.taco.id, "quantity": quantity}]}
        if location_id:
            body["location_id"] = location_id
        return self.call("POST", "/orders", user, body, 201).json

    def pay(self, user, order_id: int, method: str, amount: str, status: int = 201, **extra) -> dict:
        return self.call("POST", f"/orders/{order_id}/payments", user, {"method": method, "amount": amount, **extra},
                         status).json

    def close_order(self, user, order_id: int, status: int = 200, **body) -> dict:
        return self.call("POST", f"/orders/{order_id}/close", user, body, status).json

    def session(self, user, session_id: int) -> dict:
        return self.call("GET", f"/drawer-sessions/{session_id}", user, status=200).json

    def x(self, user, session_id: int) -> dict:
        return self.call("GET", f"/drawer-sessions/{session_id}/x", user, status=200).json

    def move(self, user, session_id: int, type_: str, amount: str, status: int = 201, **headers) -> dict:
        return self.call("POST", f"/drawer-sessions/{session_id}/movements", user,
                         {"type": type_, "amount": amount, "reason": "test"}, status, **headers).json

    def close(self, user, session_id: int, counted: str, version: int | None = None, status: int = 200,
              reason: str | None = None, **headers) -> dict:
        if version is None:
            version = self.x(self.factory.make_user("admin"), session_id)["version"]
        body = {"counted_cash": counted} if reason is None else {"counted_cash": counted, "reason": reason}
        return self.call("POST", f"/drawer-sessions/{session_id}/close", user, body, status,
                         **{"If-Match": f'"{version}"', **headers}).json


@pytest.fixture
def till(client, factory, main, taco) -> Till:
    return Till(client, factory, main, taco)


def cents(value: str | None) -> int | None:
    return None if value is None else int(Decimal(value) * 100)
