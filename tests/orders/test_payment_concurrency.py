"""Concurrent payments on PostgreSQL, real threads: the order's row lock keeps the balance exact."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order, OrderEvent, Payment
from tests.orders.test_concurrency import ORDERS, count, no_server_errors, order_body, run_together


@pytest.fixture
def setup(app, postgres_only, factory):
    waiter, manager = factory.make_user("waiter"), factory.make_user("manager")
    product = factory.make_product(price="12.50")
    return {"product": product.id, "waiter_headers": factory.headers(waiter),
            "manager_headers": factory.headers(manager)}


def new_order(client, setup) -> dict:
    resp = client.post(ORDERS, json=order_body(setup["product"]), headers=setup["waiter_headers"])  # 25.00
    assert resp.status_code == 201
    return resp.json


def test_two_waiters_paying_the_same_balance_never_overpay(app, client, setup):
    order = new_order(client, setup)
    body = {"method": "card", "amount": order["balance_due"]}
    pay = [lambda c, h=h: c.post(f"{ORDERS}/{order['id']}/payments", json=body, headers=h)
           for h in (setup["waiter_headers"], setup["manager_headers"])]
    answers = run_together(app, pay)
    no_server_errors(answers)
    statuses = sorted(a.status for a in answers)
    assert statuses == [201, 422], [(a.status, a.body) for a in answers]
    refused = next(a for a in answers if a.status == 422)
    assert refused.body["code"] == "exceeds_balance"
    stored = db.session.get(Order, order["id"])
    assert count(Payment, Payment.order_id == order["id"]) == 1
    assert stored.paid_total_cents == stored.total_cents == 2500 and stored.version == 2


def test_ten_concurrent_partial_payments_add_up_and_stop_at_the_balance(app, client, setup):
    order = new_order(client, setup)  # 25.00: four payments of 6.00 fit, the rest must not
    body = {"method": "cash", "amount": "6.00"}
    answers = run_together(app, [lambda c: c.post(f"{ORDERS}/{order['id']}/payments", json=body,
                                                  headers=setup["waiter_headers"])] * 10)
    no_server_errors(answers)
    assert Counter(a.status for a in answers) == {201: 4, 422: 6}
    stored = db.session.get(Order, order["id"])
    assert stored.paid_total_cents == 2400 and stored.version == 5
    versions = db.session.scalars(select(OrderEvent.data).where(OrderEvent.order_id == order["id"])
                                  .order_by(OrderEvent.id)).all()
    assert [data["version"] for data in versions] == [1, 2, 3, 4, 5]


def test_20_identical_keyed_payments_make_exactly_one(app, client, setup):
    order = new_order(client, setup)
    headers = {**setup["waiter_headers"], "Idempotency-Key": f"pay-{uuid.uuid4()}"}
    body = {"method": "cash", "amount": "10.00", "tip": "2.00", "tendered": "20.00"}
    answers = run_together(app, [lambda c: c.post(f"{ORDERS}/{order['id']}/payments", json=body,
                                                  headers=headers)] * 20)
    no_server_errors(answers)
    created = [a for a in answers if a.status == 201]
    assert all(a.status in (201, 409) for a in answers), Counter(a.status for a in answers)
    assert all(a.body["code"] == "idempotency_key_in_progress" for a in answers if a.status == 409)
    assert created and all(a.body == created[0].body for a in created)
    assert count(Payment, Payment.order_id == order["id"]) == 1
    stored = db.session.get(Order, order["id"])
    assert stored.paid_total_cents == 1000 and stored.tip_total_cents == 200 and stored.version == 2


def test_concurrent_refunds_of_one_line_never_exceed_its_quantity(app, client, setup):
    order = new_order(client, setup)  # one line of 2 units
    closed = client.post(f"{ORDERS}/{order['id']}/close", json={"payment_method": "card"},
                         headers=setup["manager_headers"])
    assert closed.status_code == 200
    body = {"items": [{"item_id": order["items"][0]["id"], "quantity": 1}], "reason": "race"}
    answers = run_together(app, [lambda c: c.post(f"{ORDERS}/{order['id']}/refunds", json=body,
                                                  headers=setup["manager_headers"])] * 6)
    no_server_errors(answers)
    assert Counter(a.status for a in answers) == {201: 2, 422: 4}
    assert all(a.body["code"] == "exceeds_refundable_quantity" for a in answers if a.status == 422)
    stored = db.session.get(Order, order["id"])
    assert stored.refund_total_cents == stored.total_cents == 2500 and stored.version == 4
