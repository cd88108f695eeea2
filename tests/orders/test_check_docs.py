"""The OpenAPI document describes the check, and its worked example is what the pricing function says."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.money import cents_to_str
from app.orders import pricing
from app.orders.examples import CALCULATION_EXAMPLE, SETTLED_ORDER_EXAMPLE, WORKED_EXAMPLE


def test_the_worked_example_is_what_pricing_computes():
    lines = [pricing.LineInput(key=key, base_price=price, quantity=quantity, modifier_prices=modifiers,
                               tax_rate=Decimal(16))
             for key, price, quantity, modifiers in ((0, 2500, 3, (0,)), (1, 2550, 1, ()), (2, 14000, 1, ()))]
    figures = pricing.price_check(lines, [pricing.DiscountInput(amount=1000)], prices_include_tax=True)
    shown = CALCULATION_EXAMPLE
    for field in ("subtotal", "discount_total", "tax_total", "total"):
        assert cents_to_str(getattr(figures, field)) == shown[field], field
    for line, f in zip(shown["items"], figures.lines, strict=True):
        assert (line["discount"], line["tax"], line["net"], line["line_total"]) == (
            cents_to_str(f.discount), cents_to_str(f.tax), cents_to_str(f.net), cents_to_str(f.line_total))
    assert shown["discounts"][0]["applied"] == cents_to_str(figures.applied[0])
    for figure in ("3.12", "1.06", "5.82", "31.79", "230.50"):
        assert figure in WORKED_EXAMPLE


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").json


def test_every_check_endpoint_is_documented_with_examples(spec):
    paths = spec["paths"]
    for path in ("/api/v1/orders/calculate", "/api/v1/orders/{order_id}/discounts",
                 "/api/v1/orders/{order_id}/payments", "/api/v1/orders/{order_id}/refunds",
                 "/api/v1/orders/{order_id}/close"):
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]
        assert body.get("example"), path
    assert "delete" in paths["/api/v1/orders/{order_id}/discounts/{discount_id}"]
    assert "get" in paths["/api/v1/orders/{order_id}/events"]
    calculate = paths["/api/v1/orders/calculate"]["post"]
    assert "Worked example" in calculate["description"] and "3.12" in calculate["description"]
    assert calculate["responses"]["200"]["content"]["application/json"]["example"]["total"] == "230.50"
    assert "Worked example" in paths["/api/v1/orders/{order_id}/discounts"]["post"]["description"]


def test_every_money_field_is_in_the_schemas(spec):
    schemas = spec["components"]["schemas"]
    order = set(schemas["OrderOut"]["properties"])
    assert {"subtotal", "discount_total", "tax_total", "total", "tip_total", "paid_total", "refund_total",
            "balance_due", "discounts", "payments", "refunds"} <= order
    assert {"modifiers", "tax_rate", "discount", "tax", "net"} <= set(schemas["LineOut"]["properties"])
    assert {"id", "item_id", "percent", "amount", "applied", "reason", "created_by", "created_at"} <= set(
        schemas["DiscountOut"]["properties"])
    assert {"id", "method", "amount", "tip", "tendered", "change", "reference", "created_by", "created_at"} <= set(
        schemas["PaymentOut"]["properties"])
    assert {"id", "items", "amount", "tax", "tip", "method", "reason", "business_date", "created_by",
            "created_at"} <= set(schemas["RefundOut"]["properties"])
    assert {"id", "type", "actor", "approved_by", "at", "data"} <= set(schemas["CreatedEventOut"]["properties"])
    assert "id" not in schemas["LineFiguresOut"]["properties"]
    assert "created_by" not in schemas["CalculatedDiscountOut"]["properties"]
    assert all("modifiers" in schemas[name]["properties"] for name in ("ProductLineIn", "AdHocLineIn"))
    assert "tax_rate" in schemas["ProductIn"]["properties"]


def test_the_settled_order_example_is_what_the_api_answers(client, factory, waiter, manager, menu):
    shown = SETTLED_ORDER_EXAMPLE
    mine, boss = factory.headers(waiter), factory.headers(manager)
    order = client.post("/api/v1/orders", headers=mine, json={"customer_name": "Ana", "items": [
        {"product_id": menu["taco"].id, "quantity": 2},
        {"product_id": menu["agua"].id, "quantity": 1, "modifiers": [{"name": "Grande", "price": "1.50"}]}]}).json
    url = f"/api/v1/orders/{order['id']}"
    client.post(f"{url}/discounts", headers=boss, json={"item_id": order["items"][0]["id"], "percent": "10",
                                                        "reason": "Regular"})
    client.post(f"{url}/payments", headers=mine, json={"method": "card", "amount": "40.00", "tip": "6.00",
                                                       "reference": "auth 123456"})
    client.post(f"{url}/payments", headers=mine, json={"method": "cash", "amount": "32.00", "tip": "4.00",
                                                       "tendered": "50.00"})
    client.post(f"{url}/close", headers=mine, json={})
    got = client.post(f"{url}/refunds", headers=boss, json={"items": [{"item_id": order["items"][0]["id"],
                                                                        "quantity": 1}], "reason": "Cold taco"}).json
    money = ("subtotal", "discount_total", "tax_total", "total", "tip_total", "paid_total", "refund_total",
             "balance_due", "item_count", "payment_method", "status", "version")
    assert {k: got[k] for k in money} == {k: shown[k] for k in money}
    line_fields = ("unit_price", "line_total", "modifiers", "tax_rate", "discount", "tax", "net")
    assert [[i[f] for f in line_fields] for i in got["items"]] == [[i[f] for f in line_fields] for i in shown["items"]]
    pay_fields = ("method", "amount", "tip", "tendered", "change", "reference")
    assert [[p[f] for f in pay_fields] for p in got["payments"]] == [
        [p[f] for f in pay_fields] for p in shown["payments"]]
    refund_fields = ("amount", "tax", "tip", "method", "reason")
    assert [[r[f] for f in refund_fields] for r in got["refunds"]] == [
        [r[f] for f in refund_fields] for r in shown["refunds"]]
    assert got["discounts"][0]["applied"] == shown["discounts"][0]["applied"]
