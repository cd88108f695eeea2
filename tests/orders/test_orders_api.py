"""Orders over HTTP: create, read, list, append, void, patch, close, cancel, and who may see what."""

from __future__ import annotations

import pytest

from tests.constants import ORDERS
from tests.helpers import assert_problem

V11_ORDER_FIELDS = {"subtotal", "discount_total", "tax_total", "tip_total", "paid_total", "refund_total",
                    "balance_due", "discounts", "payments", "refunds"}
V12_ORDER_FIELDS = {"folio"}  # the cash drawer's ticket folio (API.md v1.2)
V11_ORDER_FIELDS |= V12_ORDER_FIELDS
V11_LINE_FIELDS = {"modifiers", "tax_rate", "discount", "tax", "net"}
V12_FLOOR_ORDER_FIELDS = {"table_id", "guest_count", "split_from", "merged_into"}  # API.md v1.2 summary
V12_FLOOR_LINE_FIELDS = {"seat"}
V12_KITCHEN_LINE_FIELDS = {"course", "kitchen_status"}  # v1.2 "The kitchen"


def test_create_matches_the_contract(client, factory, waiter, menu):
    body = {
        "customer_name": " Ana ",
        "table": "12",
        "notes": None,
        "client_order_id": "tab3-000481",
        "items": [
            {"product_id": menu["taco"].id, "quantity": 2, "notes": "no onion"},
            {"product_name": "Agua de  Horchata", "unit_price": "25.50", "quantity": 1},
        ],
    }
    resp = client.post(ORDERS, json=body, headers=factory.headers(waiter))
    assert resp.status_code == 201
    order = resp.json
    assert resp.headers["Location"] == f"{ORDERS}/{order['id']}"
    assert resp.headers["ETag"] == '"1"'
    # v1's fields, plus exactly the money fields of the v1.1 additions (API.md "The order's money fields").
    assert set(order) >= V12_FLOOR_ORDER_FIELDS
    assert set(order) - V11_ORDER_FIELDS - V12_FLOOR_ORDER_FIELDS == {
        "id",
        "client_order_id",
        "customer_name",
        "table",
        "notes",
        "status",
        "waiter",
        "location_id",  # v1.1
        "items",
        "item_count",
        "total",
        "currency",
        "payment_method",
        "business_date",
        "created_at",
        "updated_at",
        "closed_at",
        "cancelled_at",
        "cancel_reason",
        "version",
    }
    assert order["customer_name"] == "Ana" and order["table"] == "12" and order["status"] == "open"
    assert order["waiter"] == {"id": waiter.id, "name": "Luis"}
    assert order["item_count"] == 3 and order["total"] == "75.50" and order["currency"] == "MXN"
    assert order["version"] == 1 and order["payment_method"] is None
    assert set(order) >= V11_ORDER_FIELDS
    taco, agua = order["items"]
    assert taco["course"] == 1 and taco["kitchen_status"] == "sent"
    assert {k: v for k, v in taco.items() if k not in V11_LINE_FIELDS | V12_FLOOR_LINE_FIELDS
            | V12_KITCHEN_LINE_FIELDS} == {
        "id": taco["id"],
        "product_id": menu["taco"].id,
        "product_name": "Taco al pastor",
        "unit_price": "25.00",
        "quantity": 2,
        "line_total": "50.00",
        "notes": "no onion",
        "voided": False,
    }
    # the ad-hoc line found the catalogue product by normalized name
    assert agua["product_id"] == menu["agua"].id and agua["product_name"] == "Agua de horchata"


def test_ad_hoc_line_creates_product_and_keeps_its_own_price(client, factory, waiter, menu, place):
    order = place(
        waiter,
        [
            {"product_name": "Tepache", "unit_price": 30, "quantity": 2},
            {"product_name": "agua de horchata", "unit_price": "20.00", "quantity": 1},
        ],
    )
    assert [i["unit_price"] for i in order["items"]] == ["30.00", "20.00"]
    assert order["total"] == "80.00"
    products = client.get("/api/v1/products?q=tepache", headers=factory.headers(waiter)).json["data"]
    assert [(p["name"], p["price"]) for p in products] == [("Tepache", "30.00")]
    # the catalogue price of an existing product is untouched by an ad-hoc price
    assert client.get(f"/api/v1/products/{menu['agua'].id}", headers=factory.headers(waiter)).json["price"] == "25.50"


def test_repeated_products_are_separate_lines(waiter, menu, place):
    order = place(
        waiter, [{"product_id": menu["taco"].id, "quantity": 1}, {"product_id": menu["taco"].id, "quantity": 3}]
    )
    assert [i["quantity"] for i in order["items"]] == [1, 3]
    assert order["total"] == "100.00"


def test_snapshot_survives_catalogue_changes(client, factory, waiter, manager, menu, place):
    order = place(waiter, [{"product_id": menu["mole"].id, "quantity": 1}])
    client.patch(
        f"/api/v1/products/{menu['mole'].id}",
        json={"name": "Mole negro", "price": "199.00"},
        headers=factory.headers(manager),
    )
    again = client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter)).json
    assert again["items"][0]["product_name"] == "Mole poblano" and again["total"] == "140.00"


@pytest.mark.parametrize(
    ("items", "key"),
    [
        ([], "items"),
        ([{"product_id": 1, "quantity": 0}], "items.0.quantity"),
        ([{"product_id": 1, "quantity": 1000}], "items.0.quantity"),
        ([{"product_id": 1, "quantity": 1.5}], "items.0.quantity"),
        ([{"product_id": 1, "quantity": "2"}], "items.0.quantity"),
        ([{"product_id": 1, "unit_price": "1.00", "quantity": 1}], "items.0.unit_price"),
        ([{"product_name": "X", "quantity": 1}], "items.0.unit_price"),
        ([{"quantity": 1}], "items.0.product_id"),
        ([{"product_name": "X", "unit_price": "1.001", "quantity": 1}], "items.0.unit_price"),
        ([{"product_id": 999999, "quantity": 1}], "items.0.product_id"),
        ([{"product_id": 1, "quantity": 1, "voided": True}], "items.0.voided"),
    ],
)
def test_bad_lines_are_422_by_dotted_path(client, factory, waiter, menu, items, key):
    items = [dict(line, product_id=menu["taco"].id) if line.get("product_id") == 1 else line for line in items]
    resp = client.post(ORDERS, json={"customer_name": "A", "items": items}, headers=factory.headers(waiter))
    assert resp.status_code == 422
    assert resp.json["code"] == "validation_error"
    assert key in resp.json["errors"], resp.json["errors"]


def test_too_many_lines_and_server_owned_fields(client, factory, waiter, menu):
    line = {"product_id": menu["taco"].id, "quantity": 1}
    too_many = client.post(ORDERS, json={"customer_name": "A", "items": [line] * 201}, headers=factory.headers(waiter))
    assert too_many.status_code == 422 and "items" in too_many.json["errors"]
    for field, value in [("id", 1), ("total", "1.00"), ("status", "closed"), ("waiter_id", 1), ("version", 9)]:
        resp = client.post(
            ORDERS, json={"customer_name": "A", "items": [line], field: value}, headers=factory.headers(waiter)
        )
        assert resp.status_code == 422 and field in resp.json["errors"]


def test_duplicate_client_order_id_names_the_existing_order(client, factory, waiter, other_waiter, menu, place):
    # API.md (issue 9): the existing order's id only to a caller who may see it, never another waiter
    first = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}], client_order_id="tab-1")
    body = {"customer_name": "B", "client_order_id": "tab-1", "items": [{"product_id": menu["taco"].id, "quantity": 1}]}
    resp = client.post(ORDERS, json=body, headers=factory.headers(waiter))
    assert resp.status_code == 409
    assert resp.json["code"] == "duplicate_client_order_id" and resp.json["order_id"] == first["id"]
    resp = client.post(ORDERS, json=body, headers=factory.headers(other_waiter))
    assert resp.status_code == 409
    assert resp.json["code"] == "duplicate_client_order_id" and "order_id" not in resp.json


def test_body_gate_errors(client, factory, waiter):
    headers = factory.headers(waiter)
    assert (
        client.post(ORDERS, data="{not json", content_type="application/json", headers=headers).json["code"]
        == "malformed_json"
    )
    assert (
        client.post(ORDERS, data="[1, 2]", content_type="application/json", headers=headers).json["code"]
        == "malformed_json"
    )
    assert client.post(ORDERS, data="NaN", content_type="application/json", headers=headers).status_code == 400
    resp = client.post(
        ORDERS, data="customer_name=A", content_type="application/x-www-form-urlencoded", headers=headers
    )
    assert resp.status_code == 415 and resp.json["code"] == "unsupported_media_type"
    big = client.post(
        ORDERS, data='{"x": "' + "a" * (1024 * 1024) + '"}', content_type="application/json", headers=headers
    )
    assert big.status_code == 413 and big.json["code"] == "payload_too_large"
    assert client.post(ORDERS, headers=headers).status_code == 422  # no body at all


def test_get_has_etag_and_waiters_see_only_their_own(client, factory, waiter, other_waiter, manager, menu, place):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    mine = client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter))
    assert mine.status_code == 200 and mine.headers["ETag"] == '"1"'
    assert client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(manager)).status_code == 200
    hidden = client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(other_waiter))
    assert hidden.status_code == 404 and hidden.json["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("post", "/items", {"items": [{"product_name": "X", "unit_price": "1.00", "quantity": 1}]}),
        ("delete", "/items/{item}", None),
        ("patch", "", {"notes": "mine now"}),
        ("post", "/close", {"payment_method": "cash"}),
        ("post", "/cancel", {"reason": "nope"}),
    ],
)
def test_bola_other_waiters_order_is_404_and_unchanged(
    client, factory, waiter, other_waiter, menu, place, method, suffix, body
):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    url = f"{ORDERS}/{order['id']}{suffix}".replace("{item}", str(order["items"][0]["id"]))
    headers = factory.headers(other_waiter, **{"If-Match": '"1"'})
    resp = (
        getattr(client, method)(url, json=body, headers=headers)
        if body
        else getattr(client, method)(url, headers=headers)
    )
    assert resp.status_code == 404
    assert client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter)).json == order


def test_append_void_close_and_versions(client, factory, waiter, menu, place):
    headers = factory.headers(waiter)
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 2}])
    resp = client.post(
        f"{ORDERS}/{order['id']}/items",
        json={"items": [{"product_id": menu["agua"].id, "quantity": 2}]},
        headers=headers,
    )
    assert resp.status_code == 201 and resp.json["version"] == 2 and resp.json["total"] == "101.00"
    line = resp.json["items"][0]["id"]
    voided = client.delete(f"{ORDERS}/{order['id']}/items/{line}", headers=headers)
    assert voided.status_code == 200
    assert voided.json["items"][0]["voided"] is True and voided.json["total"] == "51.00"
    assert voided.json["item_count"] == 2 and voided.json["version"] == 3
    # voiding twice changes nothing
    assert client.delete(f"{ORDERS}/{order['id']}/items/{line}", headers=headers).json["version"] == 3
    assert client.delete(f"{ORDERS}/{order['id']}/items/999999", headers=headers).status_code == 404
    closed = client.post(f"{ORDERS}/{order['id']}/close", json={"payment_method": "card"}, headers=headers)
    assert closed.status_code == 200
    assert closed.json["status"] == "closed" and closed.json["payment_method"] == "card"
    assert closed.json["closed_at"].endswith("Z") and closed.json["version"] == 4
    for method, url, body in [
        ("post", f"{ORDERS}/{order['id']}/items", {"items": [{"product_id": menu["taco"].id, "quantity": 1}]}),
        ("post", f"{ORDERS}/{order['id']}/close", {"payment_method": "cash"}),
        ("delete", f"{ORDERS}/{order['id']}/items/{line}", None),
    ]:
        resp = getattr(client, method)(url, json=body, headers=headers) if body else client.delete(url, headers=headers)
        assert resp.status_code == 409 and resp.json["code"] == "order_not_open"


def test_close_rejects_unknown_payment_method(client, factory, waiter, menu, place):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    resp = client.post(
        f"{ORDERS}/{order['id']}/close", json={"payment_method": "bitcoin"}, headers=factory.headers(waiter)
    )
    assert resp.status_code == 422 and "payment_method" in resp.json["errors"]


def test_patch_needs_if_match(client, factory, waiter, menu, place):
    headers = factory.headers(waiter)
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    url = f"{ORDERS}/{order['id']}"
    missing = client.patch(url, json={"table": "7"}, headers=headers)
    assert missing.status_code == 428 and missing.json["code"] == "precondition_required"
    stale = client.patch(url, json={"table": "7"}, headers={**headers, "If-Match": '"2"'})
    assert stale.status_code == 412 and stale.json["code"] == "precondition_failed"
    ok = client.patch(
        url, json={"table": "7", "customer_name": "Bea", "notes": "window"}, headers={**headers, "If-Match": '"1"'}
    )
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    assert (ok.json["table"], ok.json["customer_name"], ok.json["notes"], ok.json["version"]) == (
        "7",
        "Bea",
        "window",
        2,
    )
    cleared = client.patch(url, json={"table": None}, headers={**headers, "If-Match": 'W/"2"'})
    assert cleared.status_code == 200 and cleared.json["table"] is None and cleared.json["notes"] == "window"
    assert client.patch(url, json={"status": "closed"}, headers={**headers, "If-Match": '"3"'}).status_code == 422
    assert client.patch(url, json={}, headers={**headers, "If-Match": '"3"'}).status_code == 422


def test_cancel_rules(client, factory, waiter, manager, menu, place):
    headers = factory.headers(waiter)
    open_order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    resp = client.post(f"{ORDERS}/{open_order['id']}/cancel", json={"reason": "customer left"}, headers=headers)
    assert resp.status_code == 200
    assert resp.json["status"] == "cancelled" and resp.json["cancel_reason"] == "customer left"
    assert resp.json["cancelled_at"].endswith("Z") and resp.json["version"] == 2
    again = client.post(f"{ORDERS}/{open_order['id']}/cancel", json={"reason": "x"}, headers=headers)
    assert again.status_code == 409 and again.json["code"] == "order_not_open"

    closed = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    client.post(f"{ORDERS}/{closed['id']}/close", json={"payment_method": "cash"}, headers=headers)
    denied = client.post(f"{ORDERS}/{closed['id']}/cancel", json={"reason": "refund"}, headers=headers)
    assert denied.status_code == 403 and denied.json["code"] == "forbidden"
    allowed = client.post(
        f"{ORDERS}/{closed['id']}/cancel", json={"reason": "refund"}, headers=factory.headers(manager)
    )
    assert allowed.status_code == 200 and allowed.json["status"] == "cancelled"
    assert client.post(f"{ORDERS}/{closed['id']}/cancel", json={"reason": ""}, headers=headers).status_code == 422
    assert (
        client.post(f"{ORDERS}/{closed['id']}/cancel", json={"reason": "x" * 201}, headers=headers).status_code == 422
    )


def test_list_filters_scope_and_pagination(client, factory, waiter, other_waiter, manager, menu, place):
    line = [{"product_id": menu["taco"].id, "quantity": 1}]
    mine = [place(waiter, line, client_order_id=f"w-{i}") for i in range(5)]
    theirs = place(other_waiter, line)
    client.post(f"{ORDERS}/{mine[0]['id']}/close", json={"payment_method": "cash"}, headers=factory.headers(waiter))

    as_waiter = client.get(ORDERS, headers=factory.headers(waiter)).json
    assert [o["id"] for o in as_waiter["data"]] == [o["id"] for o in reversed(mine)]
    assert as_waiter["next_cursor"] is None
    assert client.get(f"{ORDERS}?waiter_id={other_waiter.id}", headers=factory.headers(waiter)).json["data"] == []

    staff = factory.headers(manager)
    assert len(client.get(ORDERS, headers=staff).json["data"]) == 6
    assert [o["id"] for o in client.get(f"{ORDERS}?waiter_id={other_waiter.id}", headers=staff).json["data"]] == [
        theirs["id"]
    ]
    assert [o["id"] for o in client.get(f"{ORDERS}?status=closed", headers=staff).json["data"]] == [mine[0]["id"]]
    assert [o["id"] for o in client.get(f"{ORDERS}?client_order_id=w-3", headers=staff).json["data"]] == [mine[3]["id"]]
    today = mine[0]["business_date"]
    assert len(client.get(f"{ORDERS}?start_date={today}&end_date={today}", headers=staff).json["data"]) == 6
    # API.md allows 400 invalid_query or 422 for a bad query value; Comanda answers 422 validation_error
    for bad in ("start_date=2001-01-02&end_date=2001-01-01", "status=lost", "start_date=yesterday"):
        assert_problem(client.get(f"{ORDERS}?{bad}", headers=staff), 422, "validation_error")

    # pages of 2, with an order inserted between page fetches: no duplicates, no gaps
    first = client.get(f"{ORDERS}?limit=2", headers=staff).json
    place(waiter, line)
    seen, cursor = [o["id"] for o in first["data"]], first["next_cursor"]
    while cursor:
        page = client.get(ORDERS, query_string={"limit": 2, "cursor": cursor}, headers=staff).json
        seen += [o["id"] for o in page["data"]]
        cursor = page["next_cursor"]
    assert seen == sorted({o["id"] for o in mine} | {theirs["id"]}, reverse=True)
    assert client.get(f"{ORDERS}?cursor=%%%", headers=staff).json["code"] == "invalid_cursor"


def test_unauthenticated_requests_are_401(client, menu):
    resp = client.post(ORDERS, json={"customer_name": "A", "items": [{"product_id": menu["taco"].id, "quantity": 1}]})
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == "Bearer"
    assert resp.json["code"] == "unauthorized"


def test_blank_optional_texts_become_null(client, factory, waiter, menu, place):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1, "notes": "  "}], table="", notes="")
    assert (order["table"], order["notes"], order["items"][0]["notes"]) == (None, None, None)
    resp = client.patch(
        f"{ORDERS}/{order['id']}",
        json={"notes": "", "table": " 7 "},
        headers=factory.headers(waiter, **{"If-Match": '"1"'}),
    )
    assert resp.status_code == 200 and (resp.json["notes"], resp.json["table"]) == (None, "7")


def test_absurd_ids_are_404_or_422_never_500(client, factory, waiter, menu):
    headers = factory.headers(waiter)
    huge = 744882009299395280896
    assert client.get(f"{ORDERS}/{huge}", headers=headers).status_code == 404
    assert client.post(f"{ORDERS}/{2**31}/close", json={"payment_method": "card"}, headers=headers).status_code == 404
    assert client.get(f"{ORDERS}/0", headers=headers).status_code == 404
    resp = client.post(
        ORDERS, json={"customer_name": "A", "items": [{"product_id": huge, "quantity": 1}]}, headers=headers
    )
    assert resp.status_code == 422 and "items.0.product_id" in resp.json["errors"]
    assert_problem(client.get(f"{ORDERS}?waiter_id={huge}", headers=headers), 422, "validation_error")
