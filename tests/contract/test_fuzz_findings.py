"""What contract fuzzing found, and input limits now stated in the document, each held by a test."""

from __future__ import annotations

import pytest

from app.columns import MAX_ID
from app.web.pagination import MAX_CURSOR_LENGTH
from tests.constants import ORDERS, PRODUCTS, REPORTS, USERS
from tests.helpers import assert_problem


@pytest.mark.parametrize("value", [0, 1, "true", "false", "yes", None])
def test_body_booleans_are_json_booleans(client, factory, value):
    # Found by schemathesis: {"active": 0} created an archived product, though the document says boolean.
    admin = factory.role_headers("admin")
    created = client.post(PRODUCTS, json={"name": "Taco", "price": "25.00", "active": value}, headers=admin)
    assert_problem(created, 422, "validation_error")
    assert "active" in created.json["errors"]
    product = factory.make_product()
    patched = client.patch(f"{PRODUCTS}/{product.id}", json={"active": value}, headers=admin)
    assert "active" in assert_problem(patched, 422, "validation_error")["errors"]
    user = factory.make_user()
    patched_user = client.patch(f"{USERS}/{user.id}", json={"active": value}, headers=admin)
    assert "active" in assert_problem(patched_user, 422, "validation_error")["errors"]


def test_body_booleans_still_take_true_and_false(client, factory):
    admin = factory.role_headers("admin")
    created = client.post(PRODUCTS, json={"name": "Taco", "price": "25.00", "active": False}, headers=admin)
    assert created.status_code == 201 and created.json["active"] is False
    patched = client.patch(f"{PRODUCTS}/{created.json['id']}", json={"active": True}, headers=admin)
    assert patched.status_code == 200 and patched.json["active"] is True


def test_patching_a_closed_order_is_a_documented_409(client, factory):
    # Found by schemathesis: PATCH /orders/{id} answered 409 order_not_open, which it did not document.
    waiter = factory.role_headers("waiter")
    product = factory.make_product()
    order = client.post(ORDERS, json={"customer_name": "Ana", "items": [{"product_id": product.id, "quantity": 1}]},
                        headers=waiter).json
    closed = client.post(f"{ORDERS}/{order['id']}/close", json={"payment_method": "cash"}, headers=waiter).json
    answer = client.patch(f"{ORDERS}/{order['id']}", json={"table": "3"},
                          headers={**waiter, "If-Match": f'"{closed["version"]}"'})
    assert_problem(answer, 409, "order_not_open")
    spec = client.get("/openapi.json").json
    assert "409" in spec["paths"]["/api/v1/orders/{order_id}"]["patch"]["responses"]


def test_documented_input_limits_are_enforced(client, factory):
    manager = factory.role_headers("manager")
    assert_problem(client.get(f"{PRODUCTS}?cursor={'A' * (MAX_CURSOR_LENGTH + 1)}", headers=manager), 400,
                   "invalid_cursor")
    assert_problem(client.get(f"{PRODUCTS}?q={'a' * 121}", headers=manager), 422, "validation_error")
    assert_problem(client.get(f"{PRODUCTS}?category={'a' * 61}", headers=manager), 422, "validation_error")
    assert_problem(client.get(f"{ORDERS}?client_order_id={'a' * 65}", headers=manager), 422, "validation_error")
    assert_problem(client.get(f"{REPORTS}/products?waiter_id={MAX_ID + 1}", headers=manager), 422,
                   "validation_error")
    admin = factory.role_headers("admin")
    long_price = "0" * 14 + "1.00"  # 18 characters: over the documented maxLength of 16
    assert_problem(client.post(PRODUCTS, json={"name": "Taco", "price": long_price}, headers=admin), 422,
                   "validation_error")
    ok = client.post(PRODUCTS, json={"name": "Taco", "price": "0000000025.00"}, headers=admin)
    assert ok.status_code == 201 and ok.json["price"] == "25.00"
    assert_problem(client.post("/api/v1/auth/logout", json={"refresh_token": "x" * 2049}, headers=manager), 422,
                   "validation_error")


def test_percent_strings_have_the_documented_length_limit():
    from app.percent import MAX_PERCENT_LENGTH, parse_percent

    assert parse_percent("0" * (MAX_PERCENT_LENGTH - 2) + "16", allow_zero=False) == 16
    with pytest.raises(ValueError, match="percentage"):
        parse_percent("0" * (MAX_PERCENT_LENGTH - 1) + "16", allow_zero=False)
