"""Money is exact end to end: random carts through the JSON API, checked with Decimal.

Bodies are sent as raw JSON text so numbers such as 12.5 reach the server exactly as written.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.constants import ORDERS, PROBLEM

CENT = Decimal("0.01")
CATALOGUE_PRICES = ["0.00", "0.01", "7.05", "12.50", "33.33", "999999.99"]
ADHOC_NAMES = ["Agua de horchata", "  agua  DE horchata ", "Taco al pastor", "Flan", "Café de olla"]
ENCODINGS = ["string", "string_short", "number", "number_short"]


def money(value: Decimal) -> str:
    """The two-place string the API must answer for an exact amount."""
    return str(value.quantize(CENT))


def price_literal(cents: int, encoding: str) -> str:
    """A JSON literal for the price: "12.50", "12.5", 12.50 or 12.5 (raw numbers are never floats)."""
    two_places = f"{cents // 100}.{cents % 100:02d}"
    short = two_places.rstrip("0").rstrip(".") if cents % 100 else str(cents // 100)
    text = short if encoding.endswith("short") else two_places
    return json.dumps(text) if encoding.startswith("string") else text


def line_json(line: dict) -> str:
    fields = [f'"quantity": {line["quantity"]}']
    if "product_id" in line:
        fields.append(f'"product_id": {line["product_id"]}')
    else:
        fields.append(f'"product_name": {json.dumps(line["name"])}')
        fields.append(f'"unit_price": {price_literal(line["cents"], line["encoding"])}')
    return "{" + ", ".join(fields) + "}"


def items_json(lines: list[dict]) -> str:
    return "[" + ", ".join(line_json(line) for line in lines) + "]"


def post_raw(client, url: str, text: str, headers: dict):
    return client.post(url, data=text, content_type="application/json", headers=headers)


def check_order(order: dict, expected_lines: list[tuple[Decimal, int]], voided: set[int] = frozenset()) -> None:
    """Every line_total, the total and item_count against Decimal arithmetic."""
    assert len(order["items"]) == len(expected_lines)
    total, count = Decimal(0), 0
    for index, (item, (price, quantity)) in enumerate(zip(order["items"], expected_lines, strict=True)):
        assert item["unit_price"] == money(price)
        assert item["quantity"] == quantity
        assert item["line_total"] == money(price * quantity)
        assert Decimal(item["line_total"]) == Decimal(item["unit_price"]) * item["quantity"]
        assert item["voided"] is (index in voided)
        if index not in voided:
            total += price * quantity
            count += quantity
    assert order["total"] == money(total)
    assert order["item_count"] == count
    live = [item for item in order["items"] if not item["voided"]]
    assert Decimal(order["total"]) == sum((Decimal(item["line_total"]) for item in live), Decimal(0))


@pytest.fixture
def shop(factory):
    waiter = factory.make_user("waiter")
    products = [(factory.make_product(price=p).id, Decimal(p)) for p in CATALOGUE_PRICES]
    return {"headers": factory.headers(waiter), "products": products}


cents = st.one_of(
    st.integers(min_value=0, max_value=99_999_999),
    st.sampled_from([0, 1, 5, 10, 99, 100, 12_345, 99_999_999]),
)
adhoc_line = st.fixed_dictionaries({
    "name": st.sampled_from(ADHOC_NAMES),
    "cents": cents,
    "encoding": st.sampled_from(ENCODINGS),
    "quantity": st.integers(min_value=1, max_value=999),
})
catalogue_line = st.fixed_dictionaries({
    "catalogue": st.integers(min_value=0, max_value=len(CATALOGUE_PRICES) - 1),
    "quantity": st.integers(min_value=1, max_value=999),
})
carts = st.lists(st.one_of(adhoc_line, catalogue_line), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cart=carts, split=st.integers(min_value=1, max_value=20), data=st.data())
def test_random_carts_are_exact(client, shop, cart, split, data):
    lines, expected = [], []
    for entry in cart:
        if "catalogue" in entry:
            product_id, price = shop["products"][entry["catalogue"]]
            lines.append({"product_id": product_id, "quantity": entry["quantity"]})
            expected.append((price, entry["quantity"]))
        else:
            lines.append(entry)
            expected.append((Decimal(entry["cents"]) / 100, entry["quantity"]))
    split = min(split, len(lines))  # some lines at creation, the rest appended
    headers = shop["headers"]

    created = post_raw(client, ORDERS,
                       f'{{"customer_name": "Prop", "items": {items_json(lines[:split])}}}', headers)
    assert created.status_code == 201, created.json
    order = created.json
    check_order(order, expected[:split])
    if split < len(lines):
        appended = post_raw(client, f"{ORDERS}/{order['id']}/items",
                            f'{{"items": {items_json(lines[split:])}}}', headers)
        assert appended.status_code == 201, appended.json
        order = appended.json
    check_order(order, expected)
    fetched = client.get(f"{ORDERS}/{order['id']}", headers=headers)
    assert fetched.json == order

    to_void = data.draw(st.sets(st.integers(min_value=0, max_value=len(lines) - 1), max_size=len(lines)))
    for index in sorted(to_void):
        resp = client.delete(f"{ORDERS}/{order['id']}/items/{order['items'][index]['id']}", headers=headers)
        assert resp.status_code == 200, resp.json
    final = client.get(f"{ORDERS}/{order['id']}", headers=headers).json
    check_order(final, expected, voided=to_void)
    assert final["version"] == order["version"] + len(to_void)


def adhoc_order(price_literal_text: str, index: int = 0) -> str:
    lines = ['{"product_name": "Flan", "unit_price": "10.00", "quantity": 1}'] * index
    lines.append(f'{{"product_name": "Flan", "unit_price": {price_literal_text}, "quantity": 3}}')
    return f'{{"customer_name": "Ana", "items": [{", ".join(lines)}]}}'


@pytest.mark.parametrize("literal", ['"12.345"', "12.345", '"0.001"', "0.001", '"1e-3"', "1E-3"])
@pytest.mark.parametrize("index", [0, 2])
def test_three_decimals_is_422_on_that_line(client, shop, literal, index):
    resp = post_raw(client, ORDERS, adhoc_order(literal, index), shop["headers"])
    assert resp.status_code == 422
    assert resp.mimetype == PROBLEM
    assert resp.json["code"] == "validation_error"
    assert list(resp.json["errors"]) == [f"items.{index}.unit_price"]


@pytest.mark.parametrize(
    "literal",
    ['"-0.01"', "-0.01", "-1", '"1000000.00"', "1000000", "999999.991", '"1E+400"', "1e400",
     '"NaN"', '"Infinity"', '"-Infinity"', '"sNaN"', "true", "false", "null", '""', '"  "', '"12,50"',
     '"0x10"', '"12.5.0"', '"$12"', "[12]", '{"amount": 12}'],
)
def test_invalid_prices_are_422(client, shop, literal):
    resp = post_raw(client, ORDERS, adhoc_order(literal), shop["headers"])
    assert resp.status_code == 422, resp.json
    assert resp.json["code"] == "validation_error"
    assert "items.0.unit_price" in resp.json["errors"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_literals_are_malformed_json(client, shop, literal):
    resp = post_raw(client, ORDERS, adhoc_order(literal), shop["headers"])
    assert resp.status_code == 400
    assert resp.mimetype == PROBLEM
    assert resp.json["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("literal", "expected"),
    [("0", "0.00"), ('"0"', "0.00"), ("999999.99", "999999.99"), ('"999999.99"', "999999.99"),
     ("0.1", "0.10"), ("12.50", "12.50"), ('"7"', "7.00"), ("-0", "0.00"), ('"-0.00"', "0.00")],
)
def test_boundary_prices_are_exact(client, shop, literal, expected):
    resp = post_raw(client, ORDERS, adhoc_order(literal), shop["headers"])
    assert resp.status_code == 201, resp.json
    line = resp.json["items"][0]
    assert line["unit_price"] == expected
    assert line["line_total"] == money(Decimal(expected) * 3)


@pytest.mark.parametrize(
    "literal",
    ['"1e2"', '"1E+2"', '" 12.50 "', '"+12.50"', '"١٢.٥٠"', '"12."', '".5"', '"1_000"', '"12.500"', "12.500"],
)
def test_strings_must_be_plain_decimals(client, shop, literal):
    """Strings are digits with an optional point and at most two decimals; anything else is 422, never 500."""
    resp = post_raw(client, ORDERS, adhoc_order(literal), shop["headers"])
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert resp.json["code"] == "validation_error" and "items.0.unit_price" in resp.json["errors"]


@pytest.mark.parametrize(("literal", "expected"), [("1e2", "100.00"), ("1.5e1", "15.00"), ("12.5", "12.50")])
def test_json_numbers_in_any_notation_are_exact(client, shop, literal, expected):
    resp = post_raw(client, ORDERS, adhoc_order(literal), shop["headers"])
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.json["items"][0]["unit_price"] == expected


def test_a_0_1_plus_0_2_cart_is_exact(client, shop):
    text = ('{"customer_name": "Ana", "items": ['
            '{"product_name": "Flan", "unit_price": 0.1, "quantity": 1},'
            '{"product_name": "Flan", "unit_price": 0.2, "quantity": 1},'
            '{"product_name": "Flan", "unit_price": "0.7", "quantity": 3}]}')
    resp = post_raw(client, ORDERS, text, shop["headers"])
    assert resp.status_code == 201
    assert [i["line_total"] for i in resp.json["items"]] == ["0.10", "0.20", "2.10"]
    assert resp.json["total"] == "2.40"


def test_huge_totals_stay_exact(client, shop):
    items = ", ".join(['{"product_name": "Banquete", "unit_price": 999999.99, "quantity": 999}'] * 200)
    resp = post_raw(client, ORDERS, f'{{"customer_name": "Boda", "items": [{items}]}}', shop["headers"])
    assert resp.status_code == 201, resp.json
    expected = Decimal("999999.99") * 999 * 200
    assert resp.json["total"] == money(expected) == "199799998002.00"
    assert resp.json["item_count"] == 199_800
    assert {item["line_total"] for item in resp.json["items"]} == {"998999990.01"}
    fetched = client.get(f"{ORDERS}/{resp.json['id']}", headers=shop["headers"]).json
    assert fetched["total"] == "199799998002.00"
    voided = client.delete(f"{ORDERS}/{resp.json['id']}/items/{resp.json['items'][0]['id']}", headers=shop["headers"])
    assert voided.json["total"] == money(expected - Decimal("998999990.01"))


def test_catalogue_price_changes_never_touch_existing_lines(client, factory, shop):
    manager = factory.headers(factory.make_user("manager"))
    product_id, price = shop["products"][3]
    body = {"customer_name": "Ana", "items": [{"product_id": product_id, "quantity": 3}]}
    order = client.post(ORDERS, json=body, headers=shop["headers"]).json
    patched = client.patch(f"/api/v1/products/{product_id}", json={"price": "99.99"}, headers=manager)
    assert patched.status_code == 200, patched.json
    fetched = client.get(f"{ORDERS}/{order['id']}", headers=shop["headers"]).json
    assert fetched["items"][0]["unit_price"] == money(price)
    assert fetched["total"] == money(price * 3)
