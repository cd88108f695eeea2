"""Order fixtures: a waiter, a manager and a small menu."""

from __future__ import annotations

import pytest

from tests.constants import ORDERS


@pytest.fixture
def waiter(factory):
    return factory.make_user("waiter", name="Luis")


@pytest.fixture
def other_waiter(factory):
    return factory.make_user("waiter", name="Ana")


@pytest.fixture
def manager(factory):
    return factory.make_user("manager", name="Marta")


@pytest.fixture
def menu(factory):
    return {
        "taco": factory.make_product("Taco al pastor", "25.00"),
        "agua": factory.make_product("Agua de horchata", "25.50"),
        "mole": factory.make_product("Mole poblano", "140.00"),
    }


@pytest.fixture
def place(client, factory):
    """POST an order as `user` and return the JSON (asserting 201)."""

    def _place(user, items, **fields):
        body = {"customer_name": "Ana", "items": items, **fields}
        resp = client.post(ORDERS, json=body, headers=factory.headers(user))
        assert resp.status_code == 201, resp.json
        return resp.json

    return _place
