"""Payments, tips, close rules, refunds and cancelling a closed order (issue 12)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, Payment, Refund
from tests.constants import ORDERS


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def check(place, waiter, menu):
    """An open order of 3 tacos and a mole: 215.00."""
    return place(waiter, [{"product_id": menu["taco"].id, "quantity": 3},
                          {"product_id": menu["mole"].id, "quantity": 1}])


def pay(client, factory, user, order_id, **body):
    return client.post(f"{ORDERS}/{order_id}/payments", headers=factory.headers(user), json=body)


def test_split_payments_tips_and_change(client, factory, waiter, check):
    first = pay(client, factory, waiter, check["id"], method="card", amount="100.00", tip="10.00",
                reference="auth 42")
    assert first.status_code == 201, first.json
    order = first.json
    assert order["status"] == "open" and order["version"] == 2
    assert (order["paid_total"], order["tip_total"], order["balance_due"], order["total"]) == (
        "100.00", "10.00", "115.00", "215.00")
    [card] = order["payments"]
    assert card["tendered"] is None and card["change"] is None and card["reference"] == "auth 42"
    assert card["created_by"] == {"id": waiter.id, "name": "Luis"} and order["payment_method"] == "card"
    cash = pay(client, factory, waiter, check["id"], method="cash", amount="115.00", tip="5.00", tendered="200")
    assert cash.status_code == 201
    assert cash.json["payments"][1]["change"] == "80.00" and cash.json["payments"][1]["tendered"] == "200.00"
    assert cash.json["balance_due"] == "0.00" and cash.json["payment_method"] == "mixed"
    over = pay(client, factory, waiter, check["id"], method="cash", amount="0.01")
    assert over.status_code == 422 and over.json["code"] == "exceeds_balance" and "amount" in over.json["errors"]
    closed = client.post(f"{ORDERS}/{check['id']}/close", headers=factory.headers(waiter), json={})
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert closed.json["payment_method"] == "mixed" and len(closed.json["payments"]) == 2
    late = pay(client, factory, waiter, check["id"], method="cash", amount="1.00")
    assert late.status_code == 409 and late.json["code"] == "order_not_open"


@pytest.mark.parametrize(("body", "path"), [
    ({"method": "cash", "amount": "0"}, "amount"),
    ({"method": "cash", "amount": "-1.00"}, "amount"),
    ({"method": "cash", "amount": "1.001"}, "amount"),
    ({"method": "cash"}, "amount"),
    ({"method": "bitcoin", "amount": "1.00"}, "method"),
    ({"method": "card", "amount": "1.00", "tendered": "5.00"}, "tendered"),
    ({"method": "cash", "amount": "10.00", "tip": "1.00", "tendered": "10.50"}, "tendered"),
    ({"method": "cash", "amount": "1.00", "tip": "-1.00"}, "tip"),
    ({"method": "cash", "amount": "1.00", "change": "1.00"}, "change"),
])
def test_bad_payments_are_422_and_write_nothing(client, factory, waiter, check, body, path):
    resp = client.post(f"{ORDERS}/{check['id']}/payments", headers=factory.headers(waiter), json=body)
    assert resp.status_code == 422 and path in resp.json["errors"], resp.json
    assert count(Payment) == 0
    assert db.session.get(Order, check["id"]).version == 1


def test_more_than_the_balance_is_exceeds_balance(client, factory, waiter, other_waiter, check):
    resp = pay(client, factory, waiter, check["id"], method="cash", amount="215.01")
    assert resp.status_code == 422 and resp.json["code"] == "exceeds_balance"
    assert pay(client, factory, other_waiter, check["id"], method="cash", amount="1.00").status_code == 404
    assert count(Payment) == 0


def test_v1_close_records_one_payment_of_the_balance(client, factory, waiter, check):
    pay(client, factory, waiter, check["id"], method="card", amount="15.00")
    closed = client.post(f"{ORDERS}/{check['id']}/close", headers=factory.headers(waiter),
                         json={"payment_method": "cash", "tip": "20.00"})
    assert closed.status_code == 200
    order = closed.json
    assert [(p["method"], p["amount"], p["tip"]) for p in order["payments"]] == [
        ("card", "15.00", "0.00"), ("cash", "200.00", "20.00")]
    assert order["payment_method"] == "mixed" and order["balance_due"] == "0.00" and order["version"] == 3
    assert order["paid_total"] == "215.00" and order["tip_total"] == "20.00"


def test_v1_close_answers_like_v1(client, factory, waiter, check):
    closed = client.post(f"{ORDERS}/{check['id']}/close", headers=factory.headers(waiter),
                         json={"payment_method": "card"}).json
    assert closed["payment_method"] == "card" and closed["total"] == "215.00" and closed["version"] == 2
    assert [(p["method"], p["amount"], p["tip"]) for p in closed["payments"]] == [("card", "215.00", "0.00")]


def test_close_with_nothing_owed(client, factory, waiter, manager, place, menu):
    headers = factory.headers(waiter)
    empty = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    client.delete(f"{ORDERS}/{empty['id']}/items/{empty['items'][0]['id']}", headers=headers)
    plain = client.post(f"{ORDERS}/{empty['id']}/close", headers=headers, json={"payment_method": "other"}).json
    assert plain["payments"] == [] and plain["payment_method"] == "other"  # as in v1
    tipped = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    pay(client, factory, waiter, tipped["id"], method="card", amount="25.00")
    tip_only = client.post(f"{ORDERS}/{tipped['id']}/close", headers=headers,
                           json={"payment_method": "cash", "tip": "5.00"}).json
    assert [(p["method"], p["amount"], p["tip"]) for p in tip_only["payments"]] == [
        ("card", "25.00", "0.00"), ("cash", "0.00", "5.00")]
    assert tip_only["payment_method"] == "mixed" and tip_only["tip_total"] == "5.00"


def test_close_with_an_empty_body_needs_a_zero_balance(client, factory, waiter, check):
    resp = client.post(f"{ORDERS}/{check['id']}/close", headers=factory.headers(waiter), json={})
    assert resp.status_code == 409 and resp.json["code"] == "balance_due"
    tip = client.post(f"{ORDERS}/{check['id']}/close", headers=factory.headers(waiter), json={"tip": "1.00"})
    assert tip.status_code == 422 and "tip" in tip.json["errors"]
    order = db.session.get(Order, check["id"])
    assert order.status == "open" and order.version == 1


def test_payment_is_idempotent_with_a_key(client, factory, waiter, check):
    headers = factory.headers(waiter, **{"Idempotency-Key": "pay-1"})
    body = {"method": "cash", "amount": "15.00"}
    first = client.post(f"{ORDERS}/{check['id']}/payments", headers=headers, json=body)
    again = client.post(f"{ORDERS}/{check['id']}/payments", headers=headers, json=body)
    assert first.status_code == again.status_code == 201 and again.json == first.json
    assert count(Payment) == 1


def refund(client, factory, user, order_id, **body):
    return client.post(f"{ORDERS}/{order_id}/refunds", headers=factory.headers(user), json=body)


@pytest.fixture
def closed(client, factory, place, waiter, manager, menu):
    """A closed order: 3 mole at 140.00 with 10.00 off (3.33/3.33/3.34 ... shared on one line), paid by card."""
    order = place(waiter, [{"product_id": menu["mole"].id, "quantity": 3},
                           {"product_id": menu["agua"].id, "quantity": 1}])
    boss = factory.headers(manager)
    client.post(f"{ORDERS}/{order['id']}/discounts", headers=boss,
                json={"item_id": order["items"][0]["id"], "amount": "10.00", "reason": "x"})
    resp = client.post(f"{ORDERS}/{order['id']}/close", headers=boss, json={"payment_method": "card", "tip": "30"})
    assert resp.status_code == 200
    return resp.json


def test_refunds_in_parts_return_exactly_what_the_line_cost(client, factory, manager, closed):
    mole = closed["items"][0]
    assert mole["net"] == "410.00"
    url_id = closed["id"]
    first = refund(client, factory, manager, url_id, items=[{"item_id": mole["id"], "quantity": 1}], reason="Cold")
    assert first.status_code == 201, first.json
    [part] = first.json["refunds"]
    assert part["amount"] == "136.67" and part["items"][0]["amount"] == "136.67" and part["tip"] == "0.00"
    assert part["method"] == "card" and part["reason"] == "Cold" and part["created_by"]["id"] == manager.id
    assert part["business_date"] == closed["business_date"]
    second = refund(client, factory, manager, url_id, items=[{"item_id": mole["id"], "quantity": 1}], reason="x",
                    method="cash")
    assert second.json["refunds"][1]["amount"] == "136.67" and second.json["refunds"][1]["method"] == "cash"
    too_many = refund(client, factory, manager, url_id, items=[{"item_id": mole["id"], "quantity": 2}], reason="x")
    assert too_many.status_code == 422 and too_many.json["code"] == "exceeds_refundable_quantity"
    assert "items.0.quantity" in too_many.json["errors"]
    last = refund(client, factory, manager, url_id, items=[{"item_id": mole["id"], "quantity": 1}], reason="x")
    amounts = [r["amount"] for r in last.json["refunds"]]
    assert amounts == ["136.67", "136.67", "136.66"]  # the last unit takes the remainder: 410.00 in all
    assert last.json["refund_total"] == "410.00" and last.json["version"] == closed["version"] + 3
    assert last.json["status"] == "closed" and last.json["paid_total"] == closed["paid_total"]


@pytest.mark.parametrize(("items", "path"), [
    ([{"item_id": 999999, "quantity": 1}], "items.0.item_id"),
    ([{"item_id": "MOLE", "quantity": 0}], "items.0.quantity"),
    ([{"item_id": "MOLE", "quantity": -1}], "items.0.quantity"),
    ([{"item_id": "MOLE", "quantity": 4}], "items.0.quantity"),
    ([{"item_id": "MOLE"}], "items.0.quantity"),
    ([{"item_id": "MOLE", "quantity": 1}, {"item_id": "MOLE", "quantity": 1}], "items.1.item_id"),
    ([{"item_id": "MOLE", "quantity": 1, "amount": "1.00"}], "items.0.amount"),
    ([], "items"),
])
def test_bad_refunds_are_422_and_write_nothing(client, factory, manager, closed, items, path):
    mole = closed["items"][0]["id"]
    items = [{**i, "item_id": mole} if i.get("item_id") == "MOLE" else i for i in items]
    resp = refund(client, factory, manager, closed["id"], items=items, reason="x")
    assert resp.status_code == 422 and path in resp.json["errors"], resp.json
    assert count(Refund) == 0


def test_refund_rules_roles_state_and_voided_lines(client, factory, waiter, manager, place, menu, closed):
    mole = closed["items"][0]["id"]
    assert refund(client, factory, waiter, closed["id"], items=[{"item_id": mole, "quantity": 1}],
                  reason="x").status_code == 403
    no_reason = refund(client, factory, manager, closed["id"], items=[{"item_id": mole, "quantity": 1}])
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    open_order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 2},
                                {"product_id": menu["agua"].id, "quantity": 1}])
    resp = refund(client, factory, manager, open_order["id"], items=[{"item_id": open_order["items"][0]["id"],
                                                                       "quantity": 1}], reason="x")
    assert resp.status_code == 409 and resp.json["code"] == "order_not_open"
    boss = factory.headers(manager)
    client.delete(f"{ORDERS}/{open_order['id']}/items/{open_order['items'][1]['id']}", headers=boss)
    client.post(f"{ORDERS}/{open_order['id']}/close", headers=boss, json={"payment_method": "cash"})
    voided = refund(client, factory, manager, open_order["id"],
                    items=[{"item_id": open_order["items"][1]["id"], "quantity": 1}], reason="x")
    assert voided.status_code == 422 and "items.0.item_id" in voided.json["errors"]
    assert count(Refund) == 0


def test_cancelling_a_closed_order_refunds_what_is_left_with_tips(client, factory, manager, closed):
    mole = closed["items"][0]
    refund(client, factory, manager, closed["id"], items=[{"item_id": mole["id"], "quantity": 1}], reason="x")
    cancelled = client.post(f"{ORDERS}/{closed['id']}/cancel", headers=factory.headers(manager),
                            json={"reason": "Wrong table"})
    assert cancelled.status_code == 200
    order = cancelled.json
    assert order["status"] == "cancelled" and order["version"] == closed["version"] + 2
    last = order["refunds"][-1]
    assert [(i["item_id"], i["quantity"]) for i in last["items"]] == [(mole["id"], 2), (closed["items"][1]["id"], 1)]
    assert last["tip"] == "30.00" and last["reason"] == "Wrong table" and last["method"] == "card"
    assert order["refund_total"] == order["paid_total"] == closed["total"]
    again = client.post(f"{ORDERS}/{closed['id']}/cancel", headers=factory.headers(manager), json={"reason": "x"})
    assert again.status_code == 409


def test_a_cancelled_order_takes_no_refund_and_no_payment(client, factory, manager, closed):
    boss = factory.headers(manager)
    client.post(f"{ORDERS}/{closed['id']}/cancel", headers=boss, json={"reason": "x"})
    before = count(Refund)
    resp = refund(client, factory, manager, closed["id"], items=[{"item_id": closed["items"][0]["id"],
                                                                   "quantity": 1}], reason="x")
    assert resp.status_code == 409 and resp.json["code"] == "order_not_open"
    paid = client.post(f"{ORDERS}/{closed['id']}/payments", headers=boss, json={"method": "cash", "amount": "1"})
    assert paid.status_code == 409 and paid.json["code"] == "order_not_open"
    assert count(Refund) == before


def test_cancelling_a_fully_refunded_closed_order_records_no_refund_without_tips(
        client, factory, manager, waiter, place, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    boss = factory.headers(manager)
    client.post(f"{ORDERS}/{order['id']}/close", headers=boss, json={"payment_method": "cash"})
    refund(client, factory, manager, order["id"], items=[{"item_id": order["items"][0]["id"], "quantity": 1}],
           reason="x")
    cancelled = client.post(f"{ORDERS}/{order['id']}/cancel", headers=boss, json={"reason": "x"}).json
    assert len(cancelled["refunds"]) == 1 and cancelled["refund_total"] == "25.00"


def test_waiter_cancelling_an_open_order_with_a_payment_gets_it_refunded(client, factory, waiter, check):
    pay(client, factory, waiter, check["id"], method="cash", amount="50.00", tip="5.00")
    cancelled = client.post(f"{ORDERS}/{check['id']}/cancel", headers=factory.headers(waiter),
                            json={"reason": "Left"}).json
    [back] = cancelled["refunds"]
    assert (back["amount"], back["tip"], back["items"], back["method"]) == ("50.00", "5.00", [], "cash")


def _banquet(client, factory, user, quantity):
    body = {"customer_name": "Boda", "items": [{"product_name": "Banquete", "unit_price": "999999.99",
                                                "quantity": quantity}]}
    resp = client.post(ORDERS, json=body, headers=factory.headers(user))
    assert resp.status_code == 201, resp.json
    return resp.json


def test_a_payment_is_bounded_by_the_balance_alone_as_close_records_it(client, factory, waiter):
    """API.md v1.2 details: the per-unit 999,999.99 does not bound a payment (issue 22)."""
    big = _banquet(client, factory, waiter, 999)
    assert big["balance_due"] == "998999990.01"
    paid = pay(client, factory, waiter, big["id"], method="card", amount=big["balance_due"])
    assert paid.status_code == 201, paid.json
    assert paid.json["balance_due"] == "0.00" and paid.json["payments"][0]["amount"] == "998999990.01"
    closed_at_once = _banquet(client, factory, waiter, 999)
    closed = client.post(f"{ORDERS}/{closed_at_once['id']}/close", headers=factory.headers(waiter),
                         json={"payment_method": "card"})
    assert closed.status_code == 200 and closed.json["payments"][0]["amount"] == paid.json["payments"][0]["amount"]


def test_cash_of_the_unit_cap_takes_change_and_tendered_goes_to_99_999_999_99(client, factory, waiter):
    one = _banquet(client, factory, waiter, 1)
    cash = pay(client, factory, waiter, one["id"], method="cash", amount="999999.99", tendered="1000000.00")
    assert cash.status_code == 201, cash.json
    assert cash.json["payments"][0]["change"] == "0.01"
    two = _banquet(client, factory, waiter, 1)
    most = pay(client, factory, waiter, two["id"], method="cash", amount="1.00", tendered="99999999.99")
    assert most.status_code == 201 and most.json["payments"][0]["change"] == "99999998.99"
    three = _banquet(client, factory, waiter, 1)
    over = pay(client, factory, waiter, three["id"], method="cash", amount="1.00", tendered="100000000.00")
    assert over.status_code == 422 and list(over.json["errors"]) == ["tendered"], over.json
