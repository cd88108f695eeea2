"""Offline batch sync: per-order results in input order, duplicates recognised, rejections isolated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, OrderItem
from tests.constants import BATCH, ORDERS


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def offline_order(cid: str, product_id: int, **extra) -> dict:
    return {
        "client_order_id": cid,
        "customer_name": "Mesa",
        "items": [{"product_id": product_id, "quantity": 2}],
        **extra,
    }


def count_orders() -> int:
    return db.session.scalar(select(func.count()).select_from(Order))


def test_results_in_input_order_and_rejections_do_not_block(client, factory, waiter, menu):
    taco = menu["taco"].id
    body = {
        "orders": [
            offline_order("t-1", taco),
            offline_order("t-2", 999999),  # unknown product
            {"client_order_id": "t-3", "items": []},  # invalid shape
            offline_order("t-4", taco, table="4"),
            offline_order("t-1", taco),  # repeats t-1 within the batch
            "not an object",
            offline_order("t-5", taco, total="1.00"),  # server-owned field
        ]
    }
    resp = client.post(BATCH, json=body, headers=factory.headers(waiter))
    assert resp.status_code == 200
    results = resp.json["results"]
    assert [r["status"] for r in results] == [
        "created",
        "rejected",
        "rejected",
        "created",
        "duplicate",
        "rejected",
        "rejected",
    ]
    assert [r["client_order_id"] for r in results] == ["t-1", "t-2", "t-3", "t-4", "t-1", None, "t-5"]
    assert results[4]["id"] == results[0]["id"]
    assert results[1]["error"]["code"] == "validation_error" and "items.0.product_id" in results[1]["error"]["errors"]
    assert {"customer_name", "items"} <= set(results[2]["error"]["errors"])
    assert "total" in results[6]["error"]["errors"]
    assert count_orders() == 2
    created = client.get(f"{ORDERS}/{results[3]['id']}", headers=factory.headers(waiter)).json
    assert created["table"] == "4" and created["total"] == "50.00" and created["waiter"]["id"] == waiter.id


def test_reposting_the_same_batch_creates_nothing(client, factory, waiter, menu):
    body = {"orders": [offline_order(f"r-{i}", menu["taco"].id) for i in range(20)]}
    first = client.post(BATCH, json=body, headers=factory.headers(waiter)).json["results"]
    second = client.post(BATCH, json=body, headers=factory.headers(waiter)).json["results"]
    assert {r["status"] for r in first} == {"created"}
    assert {r["status"] for r in second} == {"duplicate"}
    assert [r["id"] for r in first] == [r["id"] for r in second]
    assert count_orders() == 20
    assert db.session.scalar(select(func.count()).select_from(OrderItem)) == 20


def test_created_at_bounds_and_business_date(client, factory, waiter, menu):
    now = datetime.now(UTC)
    body = {
        "orders": [
            offline_order("c-past", menu["taco"].id, created_at=iso(now - timedelta(days=2))),
            offline_order("c-too-old", menu["taco"].id, created_at=iso(now - timedelta(days=7, minutes=5))),
            offline_order("c-future", menu["taco"].id, created_at=iso(now + timedelta(minutes=10))),
            offline_order("c-soon", menu["taco"].id, created_at=iso(now + timedelta(minutes=2))),
            offline_order("c-bad", menu["taco"].id, created_at="yesterday"),
        ]
    }
    results = client.post(BATCH, json=body, headers=factory.headers(waiter)).json["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "created", "rejected"]
    for rejected in (results[1], results[2], results[4]):
        assert "created_at" in rejected["error"]["errors"]
    past = client.get(f"{ORDERS}/{results[0]['id']}", headers=factory.headers(waiter)).json
    assert past["created_at"] == iso(now - timedelta(days=2))
    assert past["business_date"] == (now - timedelta(days=2)).date().isoformat()  # BUSINESS_TIMEZONE=UTC in tests


def test_batch_limits(client, factory, waiter, menu):
    headers = factory.headers(waiter)
    assert client.post(BATCH, json={"orders": []}, headers=headers).status_code == 422
    too_many = {"orders": [offline_order(f"x-{i}", menu["taco"].id) for i in range(501)]}
    assert client.post(BATCH, json=too_many, headers=headers).status_code == 422
    missing_cid = {"orders": [{"customer_name": "A", "items": [{"product_id": menu["taco"].id, "quantity": 1}]}]}
    result = client.post(BATCH, json=missing_cid, headers=headers).json["results"][0]
    assert result["status"] == "rejected" and "client_order_id" in result["error"]["errors"]


def test_full_batch_of_500_with_ad_hoc_products(client, factory, waiter, menu):
    orders = [
        {
            "client_order_id": f"big-{i}",
            "customer_name": f"C{i}",
            "items": [
                {"product_id": menu["taco"].id, "quantity": 1 + i % 3},
                {"product_name": f"Especial {i % 7}", "unit_price": "12.34", "quantity": 1},
                {"product_id": menu["agua"].id, "quantity": 2},
            ],
        }
        for i in range(500)
    ]
    resp = client.post(BATCH, json={"orders": orders}, headers=factory.headers(waiter))
    assert resp.status_code == 200
    assert [r["status"] for r in resp.json["results"]] == ["created"] * 500
    assert count_orders() == 500
    assert db.session.scalar(select(func.count()).select_from(OrderItem)) == 1500
    expected = sum(2500 * (1 + i % 3) + 1234 + 5100 for i in range(500))
    assert db.session.scalar(select(func.sum(Order.total_cents))) == expected
