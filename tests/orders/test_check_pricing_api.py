"""The priced check over HTTP: modifiers, tax snapshots, discounts, calculate (issue 11)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Discount, Order, OrderItem, Product
from tests.constants import ORDERS


@pytest.fixture
def boss(manager, factory):
    return factory.headers(manager)


def test_v1_order_has_zero_check_fields(place, waiter, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 2}])
    assert (order["subtotal"], order["total"], order["discount_total"], order["tax_total"]) == (
        "50.00", "50.00", "0.00", "0.00")
    assert (order["tip_total"], order["paid_total"], order["refund_total"], order["balance_due"]) == (
        "0.00", "0.00", "0.00", "50.00")
    assert order["discounts"] == order["payments"] == order["refunds"] == []
    line = order["items"][0]
    assert line["modifiers"] == [] and line["tax_rate"] == "0"
    assert (line["discount"], line["tax"], line["net"]) == ("0.00", "0.00", "50.00")


def test_modifiers_add_to_the_unit_price_and_are_snapshots(client, factory, place, waiter, menu):
    order = place(waiter, [
        {"product_id": menu["taco"].id, "quantity": 2,
         "modifiers": [{"name": " Extra guacamole ", "price": "25.00"}, {"name": "Sin cebolla"}]},
        {"product_name": "Tepache", "unit_price": "30.00", "quantity": 1, "modifiers": [{"name": "Grande",
                                                                                          "price": 10}]},
    ])
    taco, tepache = order["items"]
    assert taco["modifiers"] == [{"name": "Extra guacamole", "price": "25.00"}, {"name": "Sin cebolla",
                                                                                 "price": "0.00"}]
    assert taco["unit_price"] == "50.00" and taco["line_total"] == "100.00"
    assert tepache["unit_price"] == "40.00"
    assert order["total"] == order["subtotal"] == "140.00"
    # the ad-hoc product is created with its base price, not the modified one
    assert db.session.scalar(select(Product.price_cents).where(Product.name == "Tepache")) == 3000
    appended = client.post(f"{ORDERS}/{order['id']}/items", headers=factory.headers(waiter), json={
        "items": [{"product_id": menu["agua"].id, "quantity": 1, "modifiers": [{"name": "Hielo", "price": "1.50"}]}]})
    assert appended.status_code == 201 and appended.json["total"] == "167.00"


@pytest.mark.parametrize(("line", "path"), [
    ({"modifiers": [{"name": f"m{i}"} for i in range(21)]}, "items.0.modifiers"),
    ({"modifiers": [{"name": "x", "price": "-1.00"}]}, "items.0.modifiers.0.price"),
    ({"modifiers": [{"name": "x", "price": "1.001"}]}, "items.0.modifiers.0.price"),
    ({"modifiers": [{"name": ""}]}, "items.0.modifiers.0.name"),
    ({"modifiers": [{"name": "x" * 61}]}, "items.0.modifiers.0.name"),
    ({"modifiers": [{"price": "1.00"}]}, "items.0.modifiers.0.name"),
    ({"modifiers": [{"name": "x", "id": 3}]}, "items.0.modifiers.0.id"),
])
def test_bad_modifiers_are_422_and_write_nothing(client, factory, waiter, menu, line, path):
    before = db.session.scalar(select(func.count()).select_from(Order))
    body = {"customer_name": "Ana", "items": [{"product_id": menu["taco"].id, "quantity": 1, **line}]}
    resp = client.post(ORDERS, json=body, headers=factory.headers(waiter))
    assert resp.status_code == 422 and path in resp.json["errors"], resp.json
    assert db.session.scalar(select(func.count()).select_from(Order)) == before


def test_product_tax_rate_is_snapshotted_on_the_line(client, factory, place, waiter, manager, menu):
    boss = factory.headers(manager)
    created = client.post("/api/v1/products", headers=boss, json={"name": "Cerveza", "price": "50.00",
                                                                    "tax_rate": "8.500"})
    assert created.status_code == 201 and created.json["tax_rate"] == "8.5"
    assert client.get(f"/api/v1/products/{menu['taco'].id}", headers=boss).json["tax_rate"] is None
    order = place(waiter, [{"product_id": created.json["id"], "quantity": 1}])
    beer = order["items"][0]
    # prices exclude tax on this (tax-free, exclusive) location: 50.00 x 8.5% = 4.25
    assert (beer["tax_rate"], beer["tax"], beer["net"]) == ("8.5", "4.25", "50.00")
    assert (order["subtotal"], order["tax_total"], order["total"]) == ("50.00", "4.25", "54.25")
    changed = client.patch(f"/api/v1/products/{created.json['id']}", headers=boss, json={"tax_rate": "16",
                                                                                          "price": "60.00"})
    assert changed.status_code == 200 and changed.json["tax_rate"] == "16"
    again = client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter)).json
    assert again["items"][0]["tax_rate"] == "8.5" and again["total"] == "54.25"  # stored, never recomputed
    for bad in ("-1", "100.5", "1.0001", "abc", True):
        resp = client.patch(f"/api/v1/products/{created.json['id']}", headers=boss, json={"tax_rate": bad})
        assert resp.status_code == 422 and "tax_rate" in resp.json["errors"]


def test_line_and_order_discounts_split_exactly(client, factory, place, waiter, manager, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 3},
                           {"product_id": menu["agua"].id, "quantity": 1},
                           {"product_id": menu["mole"].id, "quantity": 1}])
    boss = factory.headers(manager)
    url = f"{ORDERS}/{order['id']}/discounts"
    resp = client.post(url, headers=boss, json={"amount": "10.00", "reason": "Regular"})
    assert resp.status_code == 201, resp.json
    got = resp.json
    assert [line["discount"] for line in got["items"]] == ["3.12", "1.06", "5.82"]
    assert (got["subtotal"], got["discount_total"], got["total"], got["version"]) == ("240.50", "10.00",
                                                                                      "230.50", 2)
    [discount] = got["discounts"]
    assert discount["applied"] == "10.00" and discount["percent"] is None and discount["item_id"] is None
    assert discount["created_by"] == {"id": manager.id, "name": "Marta"} and discount["reason"] == "Regular"
    taco_id = got["items"][0]["id"]
    line = client.post(url, headers=boss, json={"item_id": taco_id, "percent": "12.5", "reason": "Cold"})
    assert line.status_code == 201
    # the line discount (oldest-first among line discounts) goes first: 75.00 x 12.5% = 9.375 -> 9.38,
    # then the order discount is shared over what is left: 65.62 / 25.50 / 140.00
    items = line.json["items"]
    assert line.json["discount_total"] == "19.38"
    assert sum(int(i["discount"].replace(".", "")) for i in items) == 1938
    assert [d["percent"] for d in line.json["discounts"]] == [None, "12.5"]
    removed = client.delete(f"{url}/{discount['id']}", headers=boss)
    assert removed.status_code == 200 and removed.json["discount_total"] == "9.38"
    assert [d["id"] for d in removed.json["discounts"]] == [line.json["discounts"][1]["id"]]
    assert removed.json["version"] == 4
    # the removed discount stays stored with who removed it
    row = db.session.get(Discount, discount["id"])
    assert row.removed_at is not None and row.removed_by_id == manager.id
    assert client.delete(f"{url}/{discount['id']}", headers=boss).status_code == 404


def test_voiding_and_appending_recompute_the_shares(client, factory, place, waiter, manager, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1},
                           {"product_id": menu["mole"].id, "quantity": 1}])
    boss = factory.headers(manager)
    client.post(f"{ORDERS}/{order['id']}/discounts", headers=boss, json={"percent": "10", "reason": "x"})
    voided = client.delete(f"{ORDERS}/{order['id']}/items/{order['items'][0]['id']}", headers=boss).json
    assert voided["discount_total"] == "14.00" and voided["total"] == "126.00"
    assert voided["items"][0]["discount"] == "0.00" and voided["items"][0]["voided"] is True
    more = client.post(f"{ORDERS}/{order['id']}/items", headers=boss,
                       json={"items": [{"product_id": menu["agua"].id, "quantity": 2}]}).json
    assert more["discount_total"] == "19.10" and more["discounts"][0]["applied"] == "19.10"


@pytest.mark.parametrize(("body", "path"), [
    ({"percent": "0", "reason": "x"}, "percent"),
    ({"percent": "100.001", "reason": "x"}, "percent"),
    ({"percent": "-5", "reason": "x"}, "percent"),
    ({"percent": "1.0001", "reason": "x"}, "percent"),
    ({"amount": "1.001", "reason": "x"}, "amount"),
    ({"amount": "0", "reason": "x"}, "amount"),
    ({"amount": "-1", "reason": "x"}, "amount"),
    ({"percent": "5", "amount": "1.00", "reason": "x"}, "amount"),
    ({"reason": "x"}, "percent"),
    ({"percent": "5"}, "reason"),
    ({"percent": "5", "reason": ""}, "reason"),
    ({"percent": "5", "reason": "x" * 201}, "reason"),
    ({"percent": "5", "reason": "x", "item_id": 999999}, "item_id"),
    ({"percent": "5", "reason": "x", "applied": "1.00"}, "applied"),
])
def test_bad_discounts_are_422_and_write_nothing(client, factory, place, waiter, manager, menu, body, path):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    resp = client.post(f"{ORDERS}/{order['id']}/discounts", headers=factory.headers(manager), json=body)
    assert resp.status_code == 422 and path in resp.json["errors"], resp.json
    assert db.session.scalar(select(func.count()).select_from(Discount)) == 0
    assert client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter)).json["version"] == 1


def test_discount_rules_roles_voided_lines_and_state(client, factory, place, waiter, manager, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1},
                           {"product_id": menu["agua"].id, "quantity": 1}])
    url = f"{ORDERS}/{order['id']}/discounts"
    boss = factory.headers(manager)
    assert client.post(url, headers=factory.headers(waiter), json={"percent": "5", "reason": "x"}).status_code == 403
    client.delete(f"{ORDERS}/{order['id']}/items/{order['items'][1]['id']}", headers=boss)
    voided = client.post(url, headers=boss, json={"item_id": order["items"][1]["id"], "amount": "1", "reason": "x"})
    assert voided.status_code == 422 and "item_id" in voided.json["errors"]
    # a discount larger than the check takes what there is
    big = client.post(url, headers=boss, json={"amount": "999.00", "reason": "Comp"}).json
    assert big["total"] == "0.00" and big["discounts"][0]["applied"] == "25.00"
    client.post(f"{ORDERS}/{order['id']}/close", headers=boss, json={"payment_method": "cash"})
    closed = client.post(url, headers=boss, json={"percent": "5", "reason": "x"})
    assert closed.status_code == 409 and closed.json["code"] == "order_not_open"


def test_discount_below_paid_is_409_total_below_paid(client, factory, place, waiter, manager, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 2}])
    boss = factory.headers(manager)
    paid = client.post(f"{ORDERS}/{order['id']}/payments", headers=boss, json={"method": "card", "amount": "45.00"})
    assert paid.status_code == 201
    resp = client.post(f"{ORDERS}/{order['id']}/discounts", headers=boss, json={"amount": "6.00", "reason": "x"})
    assert resp.status_code == 409 and resp.json["code"] == "total_below_paid"
    void = client.delete(f"{ORDERS}/{order['id']}/items/{order['items'][0]['id']}", headers=boss)
    assert void.status_code == 409 and void.json["code"] == "total_below_paid"
    after = client.get(f"{ORDERS}/{order['id']}", headers=boss).json
    assert after["version"] == 2 and after["discounts"] == [] and after["items"][0]["voided"] is False
    ok = client.post(f"{ORDERS}/{order['id']}/discounts", headers=boss, json={"amount": "5.00", "reason": "x"})
    assert ok.status_code == 201 and ok.json["balance_due"] == "0.00"


def test_discount_is_idempotent_with_a_key(client, factory, place, waiter, manager, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 2}])
    headers = factory.headers(manager, **{"Idempotency-Key": "disc-1"})
    body = {"percent": "10", "reason": "x"}
    first = client.post(f"{ORDERS}/{order['id']}/discounts", headers=headers, json=body)
    again = client.post(f"{ORDERS}/{order['id']}/discounts", headers=headers, json=body)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json and len(first.json["discounts"]) == 1


def test_calculate_prices_like_the_stored_order_and_stores_nothing(client, factory, waiter, manager, menu):
    items = [{"product_id": menu["taco"].id, "quantity": 3, "modifiers": [{"name": "Queso", "price": "5.00"}]},
             {"product_name": "Nunca vista", "unit_price": "25.50", "quantity": 1},
             {"product_id": menu["mole"].id, "quantity": 1}]
    counts = [db.session.scalar(select(func.count()).select_from(t)) for t in (Order, OrderItem, Product)]
    calc = client.post(f"{ORDERS}/calculate", headers=factory.headers(waiter), json={
        "customer_name": "Ana", "items": items,
        "discounts": [{"item_index": 0, "percent": "10", "reason": "x"}, {"amount": "10.00"}]})
    assert calc.status_code == 200, calc.json
    assert [db.session.scalar(select(func.count()).select_from(t)) for t in (Order, OrderItem, Product)] == counts
    got = calc.json
    assert "id" not in got and all("id" not in line for line in got["items"])
    assert got["items"][1]["product_id"] is None and got["items"][1]["product_name"] == "Nunca vista"
    assert [d["applied"] for d in got["discounts"]] == ["9.00", "10.00"]
    assert got["discounts"][0]["item_index"] == 0 and "created_by" not in got["discounts"][0]
    # the same check, stored: figures agree line by line
    order = client.post(ORDERS, headers=factory.headers(waiter), json={"customer_name": "Ana", "items": items}).json
    boss = factory.headers(manager)
    client.post(f"{ORDERS}/{order['id']}/discounts", headers=boss,
                json={"item_id": order["items"][0]["id"], "percent": "10", "reason": "x"})
    stored = client.post(f"{ORDERS}/{order['id']}/discounts", headers=boss, json={"amount": "10.00",
                                                                                   "reason": "x"}).json
    for field in ("subtotal", "discount_total", "tax_total", "total", "balance_due", "item_count"):
        assert got[field] == stored[field], field
    figures = ("unit_price", "line_total", "discount", "tax", "net", "tax_rate", "modifiers")
    assert [[line[f] for f in figures] for line in got["items"]] == [
        [line[f] for f in figures] for line in stored["items"]]


@pytest.mark.parametrize(("extra", "path"), [
    ({"discounts": [{"item_index": 3, "percent": "5"}]}, "discounts.0.item_index"),
    ({"discounts": [{"percent": "5", "amount": "1"}]}, "discounts.0.amount"),
    ({"discounts": [{}]}, "discounts.0.percent"),
    ({"discounts": [{"percent": "101"}]}, "discounts.0.percent"),
    ({"items": []}, "items"),
    ({"total": "1.00"}, "total"),
])
def test_bad_calculations_are_422(client, factory, waiter, menu, extra, path):
    body = {"customer_name": "Ana", "items": [{"product_id": menu["taco"].id, "quantity": 1}], **extra}
    resp = client.post(f"{ORDERS}/calculate", headers=factory.headers(waiter), json=body)
    assert resp.status_code == 422 and path in resp.json["errors"], resp.json


def test_calculate_rejects_unknown_products(client, factory, waiter, menu):
    body = {"items": [{"product_id": 999999, "quantity": 1}]}
    resp = client.post(f"{ORDERS}/calculate", headers=factory.headers(waiter), json=body)
    assert resp.status_code == 422 and "items.0.product_id" in resp.json["errors"]
