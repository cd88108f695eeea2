"""Report fixtures: staff, three dishes (a list, by index), the order driver and a report getter."""

from __future__ import annotations

import pytest

from tests.reports.orderkit import HttpDriver, Line


@pytest.fixture
def kit(client, factory):
    """The order operations, through the order endpoints."""
    return HttpDriver(client, factory)


@pytest.fixture
def waiters(factory):
    return [factory.make_user("waiter", name=name) for name in ("Luis", "Ana", "Pedro")]


@pytest.fixture
def dishes(factory):
    """Three products: taco 25.00, agua 25.50, mole 140.00."""
    return [factory.make_product("Taco al pastor", "25.00"), factory.make_product("Agua de horchata", "25.50"),
            factory.make_product("Mole poblano", "140.00")]


@pytest.fixture
def report(client, factory):
    """report(user, "products", start_date=..., ...) -> the response."""

    def get(user, name: str, headers: dict | None = None, **params):
        query = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in params.items() if v is not None}
        return client.get(f"/api/v1/reports/{name}", query_string=query,
                          headers={**factory.headers(user), **(headers or {})})

    return get


__all__ = ["Line"]
