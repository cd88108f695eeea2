"""Products: the catalogue, its name rule, roles and archiving."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Product
from tests.constants import ORDERS, PROBLEM, PRODUCTS
from tests.helpers import assert_problem

URL = PRODUCTS


@pytest.fixture
def as_manager(factory, manager):
    return factory.headers(manager)


@pytest.fixture
def as_waiter(factory, waiter):
    return factory.headers(waiter)


def test_create_returns_201_location_and_exact_price(client, as_manager):
    body = {"name": "  Taco   al pastor ", "price": 25.5, "category": "Tacos"}
    resp = client.post(URL, json=body, headers=as_manager)
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["name"] == "Taco al pastor"
    assert body["price"] == "25.50" and body["active"] is True and body["category"] == "Tacos"
    assert resp.headers["Location"] == f"{URL}/{body['id']}"
    assert body["created_at"].endswith("Z")


@pytest.mark.parametrize("clash", ["taco al Pastor", " TACO  AL   PASTOR", "Taco\tal pastor"])
def test_same_normalized_name_is_duplicate(client, as_manager, clash):
    assert client.post(URL, json={"name": "Taco al pastor", "price": "25.00"}, headers=as_manager).status_code == 201
    resp = client.post(URL, json={"name": clash, "price": "30.00"}, headers=as_manager)
    assert resp.status_code == 409
    assert resp.json["code"] == "duplicate_product"
    assert db.session.scalar(select(func.count()).select_from(Product)) == 1


def test_unique_index_rejects_duplicates_that_skip_the_service_check(app, factory):
    factory.make_product("Gringa")
    db.session.add(Product(name="GRINGA ", price_cents=100, active=True))
    with pytest.raises(Exception, match="(?i)unique"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "price": "1.234"}, "price"),
        ({"name": "X", "price": -1}, "price"),
        ({"name": "X", "price": "1000000.00"}, "price"),
        ({"name": "X", "price": True}, "price"),
        ({"name": "   ", "price": "1.00"}, "name"),
        ({"name": "X" * 121, "price": "1.00"}, "name"),
        ({"name": "X", "price": "1.00", "id": 7}, "id"),
        ({"name": "X", "price": "1.00", "created_at": "2026-01-01T00:00:00Z"}, "created_at"),
        ({"price": "1.00"}, "name"),
    ],
)
def test_invalid_bodies_are_422_by_field(client, as_manager, body, field):
    resp = client.post(URL, json=body, headers=as_manager)
    assert resp.status_code == 422
    assert resp.mimetype == PROBLEM
    assert resp.json["code"] == "validation_error"
    assert field in resp.json["errors"]


def test_waiter_may_read_but_not_write(client, factory, as_waiter):
    product = factory.make_product("Elote", "35.00")
    assert client.get(f"{URL}/{product.id}", headers=as_waiter).status_code == 200
    assert client.post(URL, json={"name": "Y", "price": "1"}, headers=as_waiter).status_code == 403
    assert client.patch(f"{URL}/{product.id}", json={"price": "1"}, headers=as_waiter).status_code == 403
    assert client.delete(f"{URL}/{product.id}", headers=as_waiter).status_code == 403
    assert client.get(URL).status_code == 401


def test_patch_and_rename_checks_duplicates(client, factory, as_manager):
    a = factory.make_product("Flan", "55.00")
    factory.make_product("Churros", "60.00")
    resp = client.patch(f"{URL}/{a.id}", json={"price": "56.50", "category": "Postres"}, headers=as_manager)
    assert resp.status_code == 200 and resp.json["price"] == "56.50" and resp.json["category"] == "Postres"
    clash = client.patch(f"{URL}/{a.id}", json={"name": "churros"}, headers=as_manager)
    assert clash.json["code"] == "duplicate_product"
    assert client.patch(f"{URL}/{a.id}", json={"name": "FLAN"}, headers=as_manager).json["name"] == "FLAN"
    assert client.patch(f"{URL}/{a.id}", json={}, headers=as_manager).status_code == 422
    assert client.patch(f"{URL}/999999", json={"price": "1"}, headers=as_manager).status_code == 404


def test_delete_archives_and_keeps_old_orders(client, factory, as_manager, as_waiter):
    product = factory.make_product("Pozole", "120.00")
    order = client.post(
        ORDERS,
        json={"customer_name": "A", "items": [{"product_id": product.id, "quantity": 1}]},
        headers=as_waiter,
    ).json
    assert client.delete(f"{URL}/{product.id}", headers=as_manager).status_code == 204
    assert client.get(f"{URL}/{product.id}", headers=as_manager).json["active"] is False
    again = client.get(f"/api/v1/orders/{order['id']}", headers=as_waiter).json
    assert again["items"][0]["product_name"] == "Pozole" and again["total"] == "120.00"
    refused = client.post(
        ORDERS,
        json={"customer_name": "A", "items": [{"product_id": product.id, "quantity": 1}]},
        headers=as_waiter,
    )
    assert refused.status_code == 422 and "items.0.product_id" in refused.json["errors"]


def test_list_by_name_with_filters_and_pages(client, factory, as_waiter):
    for name, category, active in [
        ("Taco de bistec", "Tacos", True),
        ("Agua de jamaica", "Bebidas", True),
        ("taco de pescado", "Tacos", False),
        ("Café de olla", "Bebidas", True),
    ]:
        factory.make_product(name, category=category, active=active)
    names = [p["name"] for p in client.get(URL, headers=as_waiter).json["data"]]
    assert names == ["Agua de jamaica", "Café de olla", "Taco de bistec", "taco de pescado"]
    assert [p["name"] for p in client.get(f"{URL}?q=TACO  DE", headers=as_waiter).json["data"]] == [
        "Taco de bistec",
        "taco de pescado",
    ]
    assert [p["name"] for p in client.get(f"{URL}?active=false", headers=as_waiter).json["data"]] == ["taco de pescado"]
    assert len(client.get(f"{URL}?category=Bebidas", headers=as_waiter).json["data"]) == 2
    assert client.get(f"{URL}?q=100%25", headers=as_waiter).json["data"] == []
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(URL, query_string=query, headers=as_waiter).json
        seen += [p["name"] for p in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names


def test_malformed_cursor_and_limit(client, as_waiter):
    assert client.get(f"{URL}?cursor=not-a-cursor", headers=as_waiter).json["code"] == "invalid_cursor"
    assert_problem(client.get(f"{URL}?limit=201", headers=as_waiter), 422, "validation_error")
    assert_problem(client.get(f"{URL}?limit=0", headers=as_waiter), 422, "validation_error")


def test_blank_category_becomes_null(client, as_manager):
    resp = client.post(URL, json={"name": "Tamal", "price": "20.00", "category": ""}, headers=as_manager)
    assert resp.status_code == 201 and resp.json["category"] is None
    patched = client.patch(f"{URL}/{resp.json['id']}", json={"category": "  "}, headers=as_manager)
    assert patched.status_code == 200 and patched.json["category"] is None
