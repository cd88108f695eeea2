"""Transfer, merge, split and shares (API.md v1.2): every rule and error code, one version and one event
per changed order, and the reports before and after."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Location, Order, OrderEvent, OrderItem
from tests.constants import API, ORDERS, REPORTS
from tests.helpers import assert_problem

LOCATIONS = f"{API}/locations"


@pytest.fixture
def home(app) -> Location:
    return db.session.scalar(select(Location).where(Location.is_default))


@pytest.fixture
def tables(client, factory, manager, home):
    made = []
    for name in ("T1", "T2"):
        resp = client.post(f"{LOCATIONS}/{home.id}/tables", json={"name": name}, headers=factory.headers(manager))
        made.append(resp.json["id"])
    return made


def line(product, quantity=1, seat=None, **extra):
    return {"product_id": product.id, "quantity": quantity, "seat": seat, **extra}


def place(client, factory, user, lines, **fields):
    resp = client.post(ORDERS, json={"customer_name": "Ana", "items": lines, **fields}, headers=factory.headers(user))
    assert resp.status_code == 201, resp.json
    return resp.json


def post(client, factory, user, path, body, version=1):
    headers = factory.headers(user)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return client.post(f"{ORDERS}/{path}", json=body, headers=headers)


def events(client, factory, user, order_id):
    return client.get(f"{ORDERS}/{order_id}/events", headers=factory.headers(user)).json["data"]


def get(client, factory, user, order_id):
    return client.get(f"{ORDERS}/{order_id}", headers=factory.headers(user)).json


# -- transfer --------------------------------------------------------------------------------------------


def test_a_waiter_moves_their_order_to_another_table(client, factory, waiter, menu, tables):
    order = place(client, factory, waiter, [line(menu["taco"])], table_id=tables[0])
    resp = post(client, factory, waiter, f"{order['id']}/transfer", {"table_id": tables[1]})
    assert resp.status_code == 200, resp.json
    assert (resp.json["table_id"], resp.json["table"], resp.json["version"]) == (tables[1], "T2", 2)
    assert resp.headers["ETag"] == '"2"'
    last = events(client, factory, waiter, order["id"])[-1]
    assert last["type"] == "transferred"
    assert last["data"] == {"from_table_id": tables[0], "to_table_id": tables[1], "from_waiter_id": waiter.id,
                            "to_waiter_id": waiter.id, "version": 2}


def test_handing_over_needs_a_manager_and_moves_the_reports(client, factory, waiter, other_waiter, manager, menu):
    order = place(client, factory, waiter, [line(menu["taco"], 2)])
    assert_problem(post(client, factory, waiter, f"{order['id']}/transfer", {"waiter_id": other_waiter.id}), 403,
                   "forbidden")
    # a waiter "handing" to themself is no hand-over
    assert post(client, factory, waiter, f"{order['id']}/transfer", {"waiter_id": waiter.id}).status_code == 200

    def waiters_report():
        rows = client.get(f"{REPORTS}/waiters", headers=factory.headers(manager)).json["data"]
        return {row["waiter_id"]: row["revenue"] for row in rows if row["orders"]}

    assert waiters_report() == {waiter.id: "50.00"}
    resp = post(client, factory, manager, f"{order['id']}/transfer", {"waiter_id": other_waiter.id}, version=2)
    assert resp.status_code == 200 and resp.json["waiter"] == {"id": other_waiter.id, "name": "Ana"}
    assert waiters_report() == {other_waiter.id: "50.00"}
    assert client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter)).status_code == 404
    assert get(client, factory, other_waiter, order["id"])["version"] == 3


@pytest.mark.parametrize("body,field", [({}, "_schema"), ({"table_id": None, "waiter_id": None}, "table_id"),
                                        ({"table_id": "1"}, "table_id"), ({"waiter_id": 2**40}, "waiter_id"),
                                        ({"table_id": 1, "extra": 1}, "extra")])
def test_bad_transfer_bodies(client, factory, waiter, menu, body, field):
    order = place(client, factory, waiter, [line(menu["taco"])])
    resp = post(client, factory, waiter, f"{order['id']}/transfer", body)
    assert field in assert_problem(resp, 422, "validation_error")["errors"]


def test_transfer_targets_must_belong_to_the_location(client, factory, waiter, manager, menu, tables):
    order = place(client, factory, waiter, [line(menu["taco"])])
    away = Location(name="Away", timezone="UTC", day_starts_at="00:00")
    db.session.add(away)
    db.session.commit()
    stranger = factory.make_user("waiter")
    stranger.locations = [away]
    inactive = factory.make_user("waiter", active=False)
    db.session.commit()
    for waiter_id in (stranger.id, inactive.id, 999999):
        resp = post(client, factory, manager, f"{order['id']}/transfer", {"waiter_id": waiter_id})
        assert "waiter_id" in assert_problem(resp, 422, "validation_error")["errors"]
    resp = post(client, factory, manager, f"{order['id']}/transfer", {"table_id": 999999})
    assert "table_id" in assert_problem(resp, 422, "validation_error")["errors"]
    assert get(client, factory, manager, order["id"])["version"] == 1


def test_transfer_preconditions_and_closed_orders(client, factory, waiter, menu, tables):
    order = place(client, factory, waiter, [line(menu["taco"])])
    path = f"{order['id']}/transfer"
    assert_problem(post(client, factory, waiter, path, {"table_id": tables[0]}, version=None), 428,
                   "precondition_required")
    assert_problem(post(client, factory, waiter, path, {"table_id": tables[0]}, version=7), 412,
                   "precondition_failed")
    client.post(f"{ORDERS}/{order['id']}/close", json={"payment_method": "cash"}, headers=factory.headers(waiter))
    assert_problem(post(client, factory, waiter, path, {"table_id": tables[0]}, version=2), 409, "order_not_open")


# -- merge -----------------------------------------------------------------------------------------------


def test_merge_moves_lines_with_their_discounts_and_keeps_ids(client, factory, waiter, manager, menu, tables):
    target = place(client, factory, waiter, [line(menu["taco"], 2, 1)], table_id=tables[0], guest_count=2)
    source = place(client, factory, waiter, [line(menu["mole"], 1, 2, notes="sin picante"), line(menu["agua"], 1, 3)],
                   table_id=tables[1], guest_count=3)
    mole_id, agua_id = (item["id"] for item in source["items"])
    client.delete(f"{ORDERS}/{source['id']}/items/{agua_id}", headers=factory.headers(waiter))
    resp = client.post(f"{ORDERS}/{source['id']}/discounts", json={"item_id": mole_id, "percent": "10",
                                                                  "reason": "x"}, headers=factory.headers(manager))
    assert resp.status_code == 201
    resp = post(client, factory, waiter, f"{target['id']}/merge", {"from_order_id": source["id"]})
    assert resp.status_code == 200, resp.json
    merged = resp.json
    assert [(i["id"], i["seat"], i["notes"]) for i in merged["items"]] == [
        (target["items"][0]["id"], 1, None), (mole_id, 2, "sin picante")]
    assert merged["discount_total"] == "14.00" and merged["subtotal"] == "190.00" and merged["guest_count"] == 5
    assert merged["version"] == 2 and merged["discounts"][0]["item_id"] == mole_id
    gone = get(client, factory, waiter, source["id"])
    assert (gone["status"], gone["merged_into"], gone["version"]) == ("merged", target["id"], 4)
    assert [i["id"] for i in gone["items"]] == [agua_id]  # the voided line stays
    assert all(gone[k] == "0.00" for k in ("subtotal", "discount_total", "tax_total", "total", "balance_due"))
    assert events(client, factory, waiter, target["id"])[-1]["data"] == {
        "from_order_id": source["id"], "item_ids": [mole_id], "total": merged["total"], "version": 2}
    assert events(client, factory, waiter, source["id"])[-1]["data"] == {"into_order_id": target["id"], "version": 4}
    # the merged order appears in no report
    sales = client.get(f"{REPORTS}/sales", headers=factory.headers(manager)).json
    assert sales["totals"]["orders"] == 1 and sales["totals"]["gross"] == "190.00"
    # and takes no more changes
    assert_problem(client.post(f"{ORDERS}/{source['id']}/items", json={"items": [line(menu["taco"])]},
                               headers=factory.headers(waiter)), 409, "order_not_open")


def test_merge_refusals(client, factory, waiter, other_waiter, manager, menu):
    target = place(client, factory, waiter, [line(menu["taco"])])
    source = place(client, factory, waiter, [line(menu["taco"])])
    theirs = place(client, factory, other_waiter, [line(menu["taco"])])
    for from_id in (target["id"], theirs["id"], 999999):
        resp = post(client, factory, waiter, f"{target['id']}/merge", {"from_order_id": from_id})
        assert "from_order_id" in assert_problem(resp, 422, "validation_error")["errors"]
    assert_problem(post(client, factory, waiter, f"{target['id']}/merge", {"from_order_id": source["id"]},
                        version=9), 412, "precondition_failed")
    client.post(f"{ORDERS}/{source['id']}/payments", json={"method": "cash", "amount": "1.00"},
                headers=factory.headers(waiter))
    body = assert_problem(post(client, factory, waiter, f"{target['id']}/merge", {"from_order_id": source["id"]}),
                          409, "split_not_allowed")
    assert "payments" in body["detail"]
    other = place(client, factory, waiter, [line(menu["taco"])])
    client.post(f"{ORDERS}/{target['id']}/discounts", json={"amount": "1.00", "reason": "x"},
                headers=factory.headers(manager))
    body = assert_problem(post(client, factory, waiter, f"{target['id']}/merge", {"from_order_id": other["id"]},
                               version=2), 409, "split_not_allowed")
    assert "order-level discount" in body["detail"]
    client.post(f"{ORDERS}/{other['id']}/cancel", json={"reason": "x"}, headers=factory.headers(waiter))
    assert_problem(post(client, factory, waiter, f"{target['id']}/merge", {"from_order_id": other["id"]}, version=2),
                   409, "order_not_open")
    # a manager may merge orders of two waiters of the location
    fresh = place(client, factory, waiter, [line(menu["taco"])])
    resp = post(client, factory, manager, f"{fresh['id']}/merge", {"from_order_id": theirs["id"]})
    assert resp.status_code == 200 and len(resp.json["items"]) == 2


# -- split -----------------------------------------------------------------------------------------------


def test_split_by_items_moves_whole_and_partial_lines(client, factory, waiter, manager, menu, tables):
    order = place(client, factory, waiter, [line(menu["taco"], 3, 1, notes="extra salsa",
                                                 modifiers=[{"name": "Queso", "price": "5.00"}]),
                                            line(menu["agua"], 1, 2)], table_id=tables[0], guest_count=4)
    taco_id, agua_id = (item["id"] for item in order["items"])
    client.post(f"{ORDERS}/{order['id']}/discounts", json={"item_id": taco_id, "percent": "10", "reason": "x"},
                headers=factory.headers(manager))
    resp = post(client, factory, waiter, f"{order['id']}/split",
                {"by": "items", "items": [{"item_id": taco_id, "quantity": 1}, {"item_id": agua_id, "quantity": 1}]},
                version=2)
    assert resp.status_code == 201, resp.json
    source, (new,) = resp.json["source"], resp.json["orders"]
    assert resp.headers["ETag"] == '"3"'
    assert [(i["id"], i["quantity"]) for i in source["items"]] == [(taco_id, 2)]
    assert [i["quantity"] for i in new["items"]] == [1, 1]
    part, agua = new["items"]
    assert part["id"] not in (taco_id, agua_id) and agua["id"] == agua_id
    assert (part["unit_price"], part["notes"], part["seat"], part["modifiers"]) == (
        "30.00", "extra salsa", 1, [{"name": "Queso", "price": "5.00"}])
    assert part["discount"] == "3.00" and source["discount_total"] == "6.00"
    assert (new["split_from"], new["table_id"], new["guest_count"], new["waiter"]["id"], new["status"],
            new["version"], new["business_date"]) == (order["id"], tables[0], None, waiter.id, "open", 1,
                                                      order["business_date"])
    assert source["subtotal"] == "60.00" and new["subtotal"] == "55.50"  # 90.00 + 25.50 before
    assert source["version"] == 3
    split_event = events(client, factory, waiter, order["id"])[-1]
    assert split_event["type"] == "split"
    assert split_event["data"]["order_ids"] == [new["id"]]
    assert split_event["data"]["items"] == [{"item_id": taco_id, "quantity": 1, "to_order_id": new["id"]},
                                            {"item_id": agua_id, "quantity": 1, "to_order_id": new["id"]}]
    created = events(client, factory, waiter, new["id"])
    assert [e["type"] for e in created] == ["created"] and created[0]["data"]["split_from"] == order["id"]
    # both orders sit at the table
    table = client.get(f"{LOCATIONS}/{order['location_id']}/tables", headers=factory.headers(waiter)).json["data"][0]
    assert [o["id"] for o in table["open_orders"]] == [order["id"], new["id"]]


def test_split_shares_stacked_percentages_exactly_and_the_shares_stay(client, factory, waiter, manager, menu):
    """Three 5% on 4 x 8.29 take 1.66 each; moving one unit shares each 1.66 between the parts (in proportion
    to what each has left, largest remainder, a tie to the part that stays): rounded on their own in each
    part they would take 1.65 each. The shares stay through later changes and a merge (docs/tables.md)."""
    boss = factory.headers(manager)
    order = place(client, factory, waiter, [{"product_name": "Mole", "unit_price": "8.29", "quantity": 4},
                                            line(menu["agua"])])
    mole_id = order["items"][0]["id"]
    for _ in range(3):
        resp = client.post(f"{ORDERS}/{order['id']}/discounts", headers=boss,
                           json={"item_id": mole_id, "percent": "5", "reason": "x"})
        assert resp.status_code == 201
    assert [d["applied"] for d in resp.json["discounts"]] == ["1.66"] * 3
    resp = post(client, factory, waiter, f"{order['id']}/split",
                {"by": "items", "items": [{"item_id": mole_id, "quantity": 1}]}, version=4)
    assert resp.status_code == 201, resp.json
    source, (new,) = resp.json["source"], resp.json["orders"]
    assert [d["applied"] for d in source["discounts"]] == ["1.25", "1.24", "1.25"]
    assert [(d["percent"], d["applied"]) for d in new["discounts"]] == [("5", "0.41"), ("5", "0.42"), ("5", "0.41")]
    assert (source["items"][0]["discount"], new["items"][0]["discount"]) == ("3.74", "1.24")  # 4.98 as before
    assert (source["discount_total"], new["discount_total"]) == ("3.74", "1.24")
    # a later change reprices the source: the shares stay; a removed share leaves the others as they are
    resp = client.post(f"{ORDERS}/{order['id']}/items", headers=factory.headers(waiter),
                       json={"items": [line(menu["agua"])]})
    assert resp.status_code == 201 and resp.json["discount_total"] == "3.74"
    resp = client.delete(f"{ORDERS}/{order['id']}/discounts/{source['discounts'][1]['id']}", headers=boss)
    assert resp.status_code == 200
    assert [d["applied"] for d in resp.json["discounts"] if d["id"] != source["discounts"][1]["id"]] == ["1.25"] * 2
    # merged back, the part keeps its line and its shares
    resp = post(client, factory, waiter, f"{order['id']}/merge", {"from_order_id": new["id"]}, version=7)
    assert resp.status_code == 200, resp.json
    part = next(item for item in resp.json["items"] if item["id"] == new["items"][0]["id"])
    assert part["discount"] == "1.24" and resp.json["discount_total"] == "3.74"


def test_split_by_seat(client, factory, waiter, menu):
    order = place(client, factory, waiter, [line(menu["taco"], 1, 2), line(menu["agua"], 1, 0),
                                            line(menu["mole"], 1, 5), line(menu["taco"], 2, 2),
                                            line(menu["agua"], 1, None), line(menu["mole"], 1, 3)])
    ids = [item["id"] for item in order["items"]]
    resp = post(client, factory, waiter, f"{order['id']}/split", {"by": "seat"})
    assert resp.status_code == 201, resp.json
    source, orders = resp.json["source"], resp.json["orders"]
    assert [i["id"] for i in source["items"]] == [ids[0], ids[1], ids[3], ids[4]]  # seat 2 and shared stay
    assert [[i["id"] for i in o["items"]] for o in orders] == [[ids[5]], [ids[2]]]  # seat 3, seat 5
    assert [o["id"] for o in orders] == sorted(o["id"] for o in orders)


def test_split_refusals(client, factory, waiter, manager, menu):
    order = place(client, factory, waiter, [line(menu["taco"], 2, 1), line(menu["agua"], 1, 1)])
    taco_id, agua_id = (item["id"] for item in order["items"])
    path = f"{order['id']}/split"
    body = assert_problem(post(client, factory, waiter, path, {"by": "seat"}), 409, "split_not_allowed")
    assert "two seats" in body["detail"]
    body = assert_problem(post(client, factory, waiter, path, {"by": "items", "items": [
        {"item_id": taco_id, "quantity": 2}, {"item_id": agua_id, "quantity": 1}]}), 409, "split_not_allowed")
    assert "no line" in body["detail"]
    resp = post(client, factory, waiter, path, {"by": "items", "items": [{"item_id": taco_id, "quantity": 3}]})
    assert "items.0.quantity" in assert_problem(resp, 422, "exceeds_quantity")["errors"]
    resp = post(client, factory, waiter, path, {"by": "items", "items": [{"item_id": 999999, "quantity": 1}]})
    assert "items.0.item_id" in assert_problem(resp, 422, "validation_error")["errors"]
    client.delete(f"{ORDERS}/{order['id']}/items/{agua_id}", headers=factory.headers(waiter))
    resp = post(client, factory, waiter, path, {"by": "items", "items": [{"item_id": agua_id, "quantity": 1}]},
                version=2)
    assert "items.0.item_id" in assert_problem(resp, 422, "validation_error")["errors"]
    client.post(f"{ORDERS}/{order['id']}/discounts", json={"item_id": taco_id, "amount": "2.00", "reason": "x"},
                headers=factory.headers(manager))
    body = assert_problem(post(client, factory, waiter, path, {"by": "items", "items": [
        {"item_id": taco_id, "quantity": 1}]}, version=3), 409, "split_not_allowed")
    assert "amount discount" in body["detail"]
    assert_problem(post(client, factory, waiter, path, {"by": "items", "items": [{"item_id": taco_id, "quantity": 1}]},
                        version=1), 412, "precondition_failed")
    got = get(client, factory, waiter, order["id"])
    assert got["version"] == 3 and db.session.scalar(select(func.count()).select_from(Order)) == 1
    client.post(f"{ORDERS}/{order['id']}/payments", json={"method": "card", "amount": "1.00"},
                headers=factory.headers(waiter))
    body = assert_problem(post(client, factory, waiter, path, {"by": "seat"}, version=4), 409, "split_not_allowed")
    assert "payments" in body["detail"]


@pytest.mark.parametrize("body,field", [
    ({}, "by"), ({"by": "table"}, "by"), ({"by": "items"}, "items"), ({"by": "items", "items": []}, "items"),
    ({"by": "seat", "items": [{"item_id": 1, "quantity": 1}]}, "items"),
    ({"by": "items", "items": [{"item_id": 1, "quantity": 0}]}, "items.0.quantity"),
    ({"by": "items", "items": [{"item_id": 1, "quantity": 10**20}]}, "items.0.quantity"),
    ({"by": "items", "items": [{"item_id": "1", "quantity": 1}]}, "items.0.item_id"),
    ({"by": "items", "items": [{"item_id": 1, "quantity": 1, "seat": 2}]}, "items.0.seat"),
    ({"by": "seat\x00"}, "by"),
])
def test_bad_split_bodies(client, factory, waiter, menu, body, field):
    order = place(client, factory, waiter, [line(menu["taco"], 2)])
    resp = post(client, factory, waiter, f"{order['id']}/split", body)
    assert field in assert_problem(resp, 422, "validation_error")["errors"]
    assert db.session.scalar(select(func.count()).select_from(OrderItem)) == 1


def test_split_keeps_the_reports(client, factory, waiter, manager, menu):
    order = place(client, factory, waiter, [line(menu["taco"], 3, 1), line(menu["mole"], 2, 2)])

    def figures():
        sales = client.get(f"{REPORTS}/sales", headers=factory.headers(manager)).json["totals"]
        products = client.get(f"{REPORTS}/products", headers=factory.headers(manager)).json["data"]
        return ({k: sales[k] for k in ("items", "gross", "revenue", "tax")},
                sorted((p["product_id"], p["quantity"], p["gross"]) for p in products))

    before = figures()
    post(client, factory, waiter, f"{order['id']}/split", {"by": "seat"})
    assert figures() == before


def test_each_change_is_one_version_and_one_event(client, factory, waiter, menu):
    order = place(client, factory, waiter, [line(menu["taco"], 3, 1), line(menu["mole"], 2, 2)])
    other = place(client, factory, waiter, [line(menu["agua"], 1)])
    post(client, factory, waiter, f"{order['id']}/split", {"by": "seat"})
    post(client, factory, waiter, f"{order['id']}/merge", {"from_order_id": other["id"]}, version=2)
    post(client, factory, waiter, f"{order['id']}/transfer", {"waiter_id": waiter.id}, version=3)
    db.session.expire_all()
    for got in db.session.scalars(select(Order)):
        count = db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == got.id))
        assert got.version == count, got.id


# -- shares ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("parts,expected", [(3, ["33.34", "33.33", "33.33"]), (2, ["50.00", "50.00"]),
                                            (7, ["14.29", "14.29", "14.29", "14.29", "14.28", "14.28", "14.28"])])
def test_shares(client, factory, waiter, factory_products, parts, expected):
    order = place(client, factory, waiter, [line(factory_products, 1)])
    resp = client.get(f"{ORDERS}/{order['id']}/shares", query_string={"parts": parts}, headers=factory.headers(waiter))
    assert resp.status_code == 200
    assert resp.json == {"balance_due": "100.00", "parts": parts, "shares": expected}


@pytest.fixture
def factory_products(factory):
    return factory.make_product("Menú", "100.00")


@pytest.mark.parametrize("query", [{}, {"parts": 1}, {"parts": 21}, {"parts": "x"}, {"parts": 3, "extra": 1},
                                   {"parts": "99999999999999999999"}])
def test_bad_shares_queries(client, factory, waiter, factory_products, query):
    order = place(client, factory, waiter, [line(factory_products, 1)])
    resp = client.get(f"{ORDERS}/{order['id']}/shares", query_string=query, headers=factory.headers(waiter))
    body = assert_problem(resp, 422, "validation_error")
    assert set(body["errors"]) <= {"parts", "extra"} and body["errors"]


def test_a_missing_if_match_is_428_before_the_idempotency_key(client, factory, waiter, menu, tables):
    order = place(client, factory, waiter, [line(menu["taco"], 2)])
    keyed = {**factory.headers(waiter), "Idempotency-Key": "floor-1"}
    resp = client.post(f"{ORDERS}/{order['id']}/transfer", json={"table_id": tables[0]},
                       headers={**keyed, "If-Match": '"1"'})
    assert resp.status_code == 200
    for path, body in (("transfer", {"table_id": tables[1]}), ("merge", {"from_order_id": 1}),
                       ("split", {"by": "seat"})):
        resp = client.post(f"{ORDERS}/{order['id']}/{path}", json=body, headers=keyed)
        assert_problem(resp, 428, "precondition_required")
