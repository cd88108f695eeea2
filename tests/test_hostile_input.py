"""Hostile input is refused at the edge, once, on every endpoint (issue 9): NUL and unpaired
surrogates in any text (422, keyed by dotted path; a batch rejects only the bad order), JSON nested
too deeply (400 `malformed_json`), dates at the calendar's edge (422), absurd If-Match (412),
and a duplicate client_order_id never reveals another waiter's order."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, Product, User
from tests.constants import BATCH, LOGIN, ORDERS, PASSWORD, PRODUCTS, REPORTS, USERS
from tests.helpers import assert_problem

NUL = "\u0000"
SURROGATE = "\ud800"
BAD_TEXTS = pytest.mark.parametrize("bad", [NUL, SURROGATE, f"Ana{NUL}", f"x{SURROGATE}y"], ids=["nul", "surrogate",
                                                                                                  "nul-inside",
                                                                                                  "surrogate-inside"])


def raw_json(client, method, path, document: str, headers=None):
    """Send `document` as the body byte for byte (escapes such as \\ud800 stay escapes)."""
    return client.open(path, method=method, data=document.encode(), content_type="application/json", headers=headers)


def dumps(value) -> str:
    return json.dumps(value)  # ensure_ascii: NUL -> \u0000, a lone surrogate -> \ud800


def assert_bad_text(resp, *paths: str) -> None:
    body = assert_problem(resp, 422, "validation_error")
    assert sorted(body["errors"]) == sorted(paths), body
    for path in paths:
        assert "NUL" in body["errors"][path][0]


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


# --- 1 and 2: NUL and unpaired surrogates -----------------------------------------------------

@BAD_TEXTS
def test_login_email_and_password(client, factory, bad):
    factory.make_user(email="ana@example.com")
    resp = raw_json(client, "POST", LOGIN, dumps({"email": bad, "password": "xxxxxxxxxx"}))
    assert_bad_text(resp, "email")
    resp = raw_json(client, "POST", LOGIN, dumps({"email": "ana@example.com", "password": f"{PASSWORD}{bad}"}))
    assert_bad_text(resp, "password")


def test_a_utf8_encoded_surrogate_in_the_raw_body_is_422(client, factory):
    body = b'{"email": "a\xed\xa0\x80@example.com", "password": "xxxxxxxxxx"}'
    resp = client.post(LOGIN, data=body, content_type="application/json")
    assert_bad_text(resp, "email")


@BAD_TEXTS
def test_every_text_field_of_an_order(client, factory, menu, waiter, bad):
    headers = factory.headers(waiter)
    body = {
        "customer_name": bad,
        "table": bad,
        "notes": bad,
        "client_order_id": bad,
        "items": [
            {"product_id": menu["taco"].id, "quantity": 1, "notes": bad},
            {"product_name": bad, "unit_price": "1.00", "quantity": 1},
        ],
    }
    resp = raw_json(client, "POST", ORDERS, dumps(body), headers)
    assert_bad_text(resp, "customer_name", "table", "notes", "client_order_id", "items.0.notes",
                    "items.1.product_name")
    assert count(Order) == 0


@BAD_TEXTS
def test_member_names_and_unknown_members_too(client, factory, waiter, bad):
    resp = raw_json(client, "POST", ORDERS, dumps({f"name{bad}": 1, "extra": {"deep": [bad]}}), factory.headers(waiter))
    assert_bad_text(resp, "_schema", "extra.deep.0")


@BAD_TEXTS
def test_patch_append_cancel(client, factory, menu, waiter, place, bad):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    headers = factory.headers(waiter)
    path = f"{ORDERS}/{order['id']}"
    resp = raw_json(client, "PATCH", path, dumps({"customer_name": bad}), {**headers, "If-Match": '"1"'})
    assert_bad_text(resp, "customer_name")
    resp = raw_json(client, "POST", f"{path}/items", dumps({"items": [{"product_name": bad, "unit_price": "2.00",
                                                                        "quantity": 1}]}), headers)
    assert_bad_text(resp, "items.0.product_name")
    resp = raw_json(client, "POST", f"{path}/cancel", dumps({"reason": bad}), headers)
    assert_bad_text(resp, "reason")
    assert client.get(path, headers=headers).json["status"] == "open"


@BAD_TEXTS
def test_an_idempotency_key_holding_bad_text_is_422(client, factory, menu, waiter, bad):
    body = {"customer_name": "Ana", "items": [{"product_id": menu["taco"].id, "quantity": 1}]}
    resp = client.post(ORDERS, json=body, headers=factory.headers(waiter, **{"Idempotency-Key": f"key{bad}"}))
    assert_bad_text(resp, "Idempotency-Key")
    assert count(Order) == 0


@BAD_TEXTS
def test_users_and_products(client, factory, bad):
    admin = factory.role_headers("admin")
    users_before, products_before = count(User), count(Product)
    resp = raw_json(client, "POST", USERS, dumps({"email": f"a{bad}@example.com", "name": bad,
                                                  "password": f"{PASSWORD}{bad}"}), admin)
    assert_bad_text(resp, "email", "name", "password")
    resp = raw_json(client, "POST", PRODUCTS, dumps({"name": bad, "price": "1.00", "category": bad}), admin)
    assert_bad_text(resp, "name", "category")
    product = factory.make_product()
    resp = raw_json(client, "PATCH", f"{PRODUCTS}/{product.id}", dumps({"name": bad}), admin)
    assert_bad_text(resp, "name")
    assert (count(User), count(Product)) == (users_before, products_before + 1)


@BAD_TEXTS
def test_a_batch_rejects_only_the_bad_order(client, factory, menu, waiter, bad):
    line = {"product_id": menu["taco"].id, "quantity": 1}
    orders = [
        {"client_order_id": "good-1", "customer_name": "Ana", "items": [line]},
        {"client_order_id": "bad-1", "customer_name": bad, "items": [{**line, "notes": bad}]},
        {"client_order_id": f"bad{bad}", "customer_name": "Ana", "items": [line]},
        {"client_order_id": "good-2", "customer_name": "Ana", "items": [line]},
    ]
    resp = raw_json(client, "POST", BATCH, dumps({"orders": orders}), factory.headers(waiter))
    assert resp.status_code == 200, resp.json
    results = resp.json["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "created"]
    assert results[1]["client_order_id"] == "bad-1"
    assert results[1]["error"]["code"] == "validation_error"
    assert sorted(results[1]["error"]["errors"]) == ["customer_name", "items.0.notes"]
    assert results[2]["client_order_id"] is None  # never echoed back: it is not text we can store
    assert sorted(results[2]["error"]["errors"]) == ["client_order_id"]
    assert count(Order) == 2


@BAD_TEXTS
def test_batch_envelope_text_outside_the_orders_is_refused_whole(client, factory, waiter, bad):
    resp = raw_json(client, "POST", BATCH, dumps({"orders": [], "note": bad}), factory.headers(waiter))
    assert_bad_text(resp, "note")


@pytest.mark.parametrize(
    "path",
    [
        f"{PRODUCTS}?q=%00",
        f"{PRODUCTS}?category=%00",
        f"{PRODUCTS}?q=taco%00",
        f"{USERS}?q=%00",
        f"{ORDERS}?client_order_id=%00",
        f"{ORDERS}?status=open&client_order_id=a%00b",
        f"{REPORTS}/sales?format=%00",
        f"{ORDERS}?%00=1",
    ],
)
def test_nul_in_a_query_string_is_422(client, factory, path):
    resp = client.get(path, headers=factory.role_headers("admin"))
    body = assert_problem(resp, 422, "validation_error")
    assert all("NUL" in messages[0] for messages in body["errors"].values()), body


@pytest.mark.parametrize(
    "path", [f"{PRODUCTS}?q=%ED%A0%80", f"{USERS}?q=%ED%A0%80", f"{ORDERS}?client_order_id=%ED%A0%80"]
)
def test_surrogate_bytes_in_a_query_string_are_plain_text(client, factory, path):
    # werkzeug decodes invalid UTF-8 as U+FFFD: no surrogate ever reaches the database
    assert client.get(path, headers=factory.role_headers("admin")).status_code == 200


def cursor_of(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "values"),
    [
        (PRODUCTS, [f"Taco{NUL}", 1]),
        (PRODUCTS, [f"Taco{SURROGATE}", 1]),
        (ORDERS, ["9999-12-31T23:59:59-23:59", 1]),
        (ORDERS, ["0001-01-01T00:00:00+14:00", 1]),
        (ORDERS, [[[[[]]]] * 1, 1]),
    ],
)
def test_hostile_cursors_are_400_invalid_cursor(client, factory, path, values):
    resp = client.get(f"{path}?cursor={cursor_of(values)}", headers=factory.role_headers("admin"))
    assert_problem(resp, 400, "invalid_cursor")


def test_a_deeply_nested_cursor_is_400(client, factory):
    cursor = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()
    resp = client.get(f"{ORDERS}?cursor={cursor}", headers=factory.role_headers("admin"))
    assert_problem(resp, 400, "invalid_cursor")


# --- 3: nesting -------------------------------------------------------------------------------

DEEP = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize("document", [DEEP, '{"a":' * 1000 + "1" + "}" * 1000, '{"items": ' + DEEP + "}",
                                      "[" * 100000])
@pytest.mark.parametrize("method_path", [("POST", LOGIN), ("POST", ORDERS), ("POST", BATCH), ("POST", USERS),
                                         ("POST", PRODUCTS), ("PATCH", f"{ORDERS}/1"), ("POST", f"{ORDERS}/1/cancel")])
def test_deep_nesting_is_400_malformed_json(client, factory, method_path, document):
    method, path = method_path
    headers = {**factory.role_headers("admin"), "If-Match": '"1"'}
    assert_problem(raw_json(client, method, path, document, headers), 400, "malformed_json")


def test_nesting_up_to_the_bound_is_fine_and_brackets_in_strings_do_not_count(client, factory, waiter, menu):
    from app.web.json_body import MAX_JSON_DEPTH

    headers = factory.headers(waiter)
    deep_unknown = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    resp = raw_json(client, "POST", ORDERS, '{"x": ' + deep_unknown + "}", headers)
    assert_problem(resp, 422, "validation_error")  # parsed: only the schema objects
    one_deeper = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert_problem(raw_json(client, "POST", ORDERS, '{"x": ' + one_deeper + "}", headers), 400, "malformed_json")
    body = {"customer_name": "[" * 5000 + '\\"{' * 100, "items": [{"product_id": menu["taco"].id, "quantity": 1}]}
    resp = raw_json(client, "POST", ORDERS, json.dumps(body), headers)
    assert resp.status_code == 422  # too long a name: the brackets inside the string were never counted
    assert "customer_name" in resp.json["errors"]


# --- 4: the calendar's edge -------------------------------------------------------------------

@pytest.mark.parametrize("report", ["sales", "waiters", "products"])
@pytest.mark.parametrize(
    "query",
    ["end_date=9999-12-31", "start_date=9999-12-30&end_date=9999-12-31", "end_date=0001-01-29",
     "end_date=0001-01-01", "start_date=0001-01-01&end_date=0001-01-02", "start_date=9999-12-31",
     "end_date=1899-12-31"],
)
def test_report_dates_at_the_calendars_edge_are_422(client, factory, report, query):
    for role in ("waiter", "manager"):
        resp = client.get(f"{REPORTS}/{report}?{query}", headers=factory.role_headers(role))
        if role == "waiter" and resp.status_code == 403:
            continue
        body = assert_problem(resp, 422, "validation_error")
        assert set(body["errors"]) <= {"start_date", "end_date"}


@pytest.mark.parametrize("report", ["sales", "waiters", "products"])
def test_report_dates_inside_the_bounds_still_work(client, factory, report):
    manager = factory.role_headers("manager")
    for query in ("end_date=9998-12-31", "start_date=1900-01-01&end_date=1900-01-31", "end_date=1900-01-05"):
        assert client.get(f"{REPORTS}/{report}?{query}", headers=manager).status_code == 200, query


def test_report_range_bound_is_documented(client):
    spec = client.get("/openapi.json").json
    params = spec["paths"]["/api/v1/reports/sales"]["get"]["parameters"]
    described = {p["name"]: p.get("description", "") for p in params}
    assert "1098 days" in described["start_date"]
    assert "1900-01-01" in described["end_date"] and "9998-12-31" in described["end_date"]


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-23:59",
                                        "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_batch_created_at_at_the_calendars_edge_rejects_that_order(client, factory, menu, waiter, created_at):
    line = {"product_id": menu["taco"].id, "quantity": 1}
    orders = [
        {"client_order_id": "edge", "customer_name": "Ana", "items": [line], "created_at": created_at},
        {"client_order_id": "fine", "customer_name": "Ana", "items": [line]},
    ]
    resp = client.post(BATCH, json={"orders": orders}, headers=factory.headers(waiter))
    assert resp.status_code == 200, resp.json
    edge, fine = resp.json["results"]
    assert edge["status"] == "rejected" and list(edge["error"]["errors"]) == ["created_at"]
    assert fine["status"] == "created"


# --- 5: If-Match ------------------------------------------------------------------------------

@pytest.mark.parametrize("if_match", ["5" * 5000, '"' + "9" * 5000 + '"', "W/\"" + "1" * 4301 + '"', "²", '"¹"',
                                      "1" * 19])
def test_absurd_if_match_is_412(client, factory, menu, waiter, place, if_match):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    headers = {**factory.headers(waiter), "If-Match": if_match}
    resp = client.patch(f"{ORDERS}/{order['id']}", json={"customer_name": "Bea"}, headers=headers)
    body = assert_problem(resp, 412, "precondition_failed")
    assert body["current_version"] == 1


# --- 10: duplicates do not reveal others' orders ------------------------------------------------

def test_a_duplicate_of_another_waiters_order_is_409_without_its_id(client, factory, menu, waiter, other_waiter,
                                                                    manager, place):
    line = {"product_id": menu["taco"].id, "quantity": 1}
    theirs = place(other_waiter, [line], client_order_id="tab1-7")
    resp = client.post(ORDERS, json={"customer_name": "Ana", "client_order_id": "tab1-7", "items": [line]},
                       headers=factory.headers(waiter))
    body = assert_problem(resp, 409, "duplicate_client_order_id")
    assert "order_id" not in body and str(theirs["id"]) not in resp.get_data(as_text=True).replace(
        body["request_id"] or "", "")
    # the owner and staff see the id
    for user in (other_waiter, manager):
        resp = client.post(ORDERS, json={"customer_name": "Ana", "client_order_id": "tab1-7", "items": [line]},
                           headers=factory.headers(user))
        assert assert_problem(resp, 409, "duplicate_client_order_id")["order_id"] == theirs["id"]


def test_a_batch_duplicate_of_another_waiters_order_has_no_id(client, factory, menu, waiter, other_waiter, manager,
                                                              place):
    line = {"product_id": menu["taco"].id, "quantity": 1}
    theirs = place(other_waiter, [line], client_order_id="tab1-8")
    orders = [{"client_order_id": "tab1-8", "customer_name": "Ana", "items": [line]},
              {"client_order_id": "tab1-8", "customer_name": "Ana", "items": [line]}]
    resp = client.post(BATCH, json={"orders": orders}, headers=factory.headers(waiter))
    assert resp.json["results"] == [{"client_order_id": "tab1-8", "status": "duplicate"}] * 2
    for user in (other_waiter, manager):
        resp = client.post(BATCH, json={"orders": orders[:1]}, headers=factory.headers(user))
        assert resp.json["results"] == [{"client_order_id": "tab1-8", "status": "duplicate", "id": theirs["id"]}]


@pytest.mark.parametrize(
    ("document", "too_deep"),
    [
        ("[]", False),
        ("[" * 32 + "]" * 32, False),
        ("[" * 33 + "]" * 33, True),
        ('["[[[[", {"a": "]]]"}]', False),
        ('["\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]', False),
        ('{"a": [1, {"b": [[]]}], "c": {}}', False),
        ("[" * 100000, True),
        ("[{]}", True),
    ],
)
def test_the_nesting_scan(document, too_deep):
    from app.web.json_body import MAX_JSON_DEPTH, nesting_exceeds

    assert nesting_exceeds(document, MAX_JSON_DEPTH) is too_deep


@pytest.mark.parametrize(
    ("raw", "maybe"),
    [(b'"\\u0000"', True), (b'"\\uD800"', True), (b'"\\udfff"', True), (b'"\\u00e9"', False), (b'"\\ud7ff"', False),
     (b'"\x00"', True), ("\ud800".encode("utf-8", "surrogatepass"), True), ("é ñ 漢".encode(), False)],
)
def test_the_raw_pre_check_never_misses_bad_text(raw, maybe):
    from app.web.json_body import _MAYBE_BAD_TEXT

    assert bool(_MAYBE_BAD_TEXT.search(raw)) is maybe
