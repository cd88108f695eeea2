"""A kitchen to test against: a manager and two waiters of the default location, a grill (tacos by
category), a bar (one product by id) and a default station for the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Location
from tests.constants import API, ORDERS


@dataclass
class Kitchen:
    client: Any
    factory: Any
    location: Location
    manager: Any
    waiter: Any
    other_waiter: Any
    taco: Any
    margarita: Any
    soup: Any
    water: Any
    grill: dict
    bar: dict
    kitchen: dict | None = None

    def h(self, user=None, **extra) -> dict[str, str]:
        return self.factory.headers(user or self.waiter, **extra)

    def order(self, items: list[dict], user=None, **body) -> dict:
        resp = self.client.post(ORDERS, json={"customer_name": "Ana", "table": "12", "items": items, **body},
                                headers=self.h(user))
        assert resp.status_code == 201, resp.get_data(as_text=True)
        return resp.json

    def queue(self, station: dict, user=None, status: str = "open") -> list[dict]:
        resp = self.client.get(f"{API}/kitchen/stations/{station['id']}/tickets", query_string={"status": status},
                               headers=self.h(user))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.json["data"]

    def station(self, body: dict, user=None) -> Any:
        return self.client.post(f"{API}/locations/{self.location.id}/stations", json=body,
                                headers=self.h(user or self.manager))


def line(product, quantity: int = 1, **extra) -> dict:
    return {"product_id": product.id, "quantity": quantity, **extra}


@pytest.fixture
def kit(client, factory) -> Kitchen:
    location = db.session.scalar(select(Location).where(Location.is_default))
    manager = factory.make_user("manager", name="Marta")
    waiter = factory.make_user("waiter", name="Luis")
    other = factory.make_user("waiter", name="Ana")
    for user in (manager, waiter, other):
        user.locations = [location]
    db.session.commit()
    k = Kitchen(client, factory, location, manager, waiter, other,
                factory.make_product("Taco al pastor", "25.00", category="Tacos"),
                factory.make_product("Margarita", "90.00", category="Bebidas"),
                factory.make_product("Sopa de tortilla", "60.00", category="Sopas"),
                factory.make_product("Agua mineral", "30.00", category="Bebidas"), {}, {})
    grill = k.station({"name": "Parrilla", "categories": ["tacos"], "alert_minutes": 10})
    assert grill.status_code == 201, grill.get_data(as_text=True)
    bar = k.station({"name": "Barra", "product_ids": [k.margarita.id]})
    assert bar.status_code == 201, bar.get_data(as_text=True)
    k.grill, k.bar = grill.json, bar.json
    return k
