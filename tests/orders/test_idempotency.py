"""Idempotency-Key on every POST under /orders: replays, reuse with another body, per-user scope."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from app.columns import utcnow
from app.extensions import db
from app.models import IdempotencyKey, Order, OrderItem
from tests.constants import ORDERS, PROBLEM

REPLAYED = "Idempotent-Replayed"


@pytest.fixture
def product(factory):
    return factory.make_product(price="12.50")


def keyed(factory, user, key: str) -> dict[str, str]:
    return factory.headers(user, **{"Idempotency-Key": key})


def new_key() -> str:
    return f"key-{uuid.uuid4()}"


def order_body(product, quantity: int = 2, **extra) -> dict:
    return {"customer_name": "Ana", "items": [{"product_id": product.id, "quantity": quantity}], **extra}


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def assert_replay(first, again) -> None:
    """Same status, byte-identical body and the same Location/ETag, flagged as a replay."""
    assert REPLAYED not in first.headers
    assert again.headers.get(REPLAYED) == "true"
    assert again.status_code == first.status_code
    assert again.get_data() == first.get_data()
    assert again.mimetype == "application/json"
    for header in ("Location", "ETag"):
        assert again.headers.get(header) == first.headers.get(header)


def test_replay_returns_the_stored_answer(client, factory, waiter, product):
    headers = keyed(factory, waiter, new_key())
    first = client.post(ORDERS, json=order_body(product), headers=headers)
    assert first.status_code == 201 and first.headers["Location"].endswith(f"/orders/{first.json['id']}")

    again = client.post(ORDERS, json=order_body(product), headers=headers)

    assert_replay(first, again)
    assert count(Order) == 1 and count(OrderItem) == 1


def test_replay_ignores_key_order_and_white_space(client, factory, waiter, product):
    headers = keyed(factory, waiter, new_key())
    first = client.post(ORDERS, json=order_body(product), headers=headers)
    reordered = json.dumps(dict(reversed(list(order_body(product).items()))), indent=4)

    again = client.post(ORDERS, data=reordered, content_type="application/json", headers=headers)

    assert_replay(first, again)
    assert count(Order) == 1


def test_replay_with_a_new_token_of_the_same_user(client, factory, waiter, product):
    key = new_key()
    first = client.post(ORDERS, json=order_body(product), headers=keyed(factory, waiter, key))
    again = client.post(ORDERS, json=order_body(product), headers=keyed(factory, waiter, key))
    assert_replay(first, again)


def test_same_key_with_another_body_is_422(client, factory, waiter, product):
    headers = keyed(factory, waiter, new_key())
    first = client.post(ORDERS, json=order_body(product, quantity=2), headers=headers)
    assert first.status_code == 201

    other = client.post(ORDERS, json=order_body(product, quantity=3), headers=headers)

    assert other.status_code == 422
    assert other.mimetype == PROBLEM
    assert other.json["code"] == "idempotency_key_reused"
    assert REPLAYED not in other.headers
    assert count(Order) == 1
    # the stored answer is untouched: the original body still replays
    assert_replay(first, client.post(ORDERS, json=order_body(product, quantity=2), headers=headers))


def test_same_key_on_another_route_is_422(client, factory, waiter, product):
    key = new_key()
    order = client.post(ORDERS, json=order_body(product), headers=keyed(factory, waiter, key)).json
    resp = client.post(f"{ORDERS}/{order['id']}/close", json={"payment_method": "cash"},
                       headers=keyed(factory, waiter, key))
    assert resp.status_code == 422 and resp.json["code"] == "idempotency_key_reused"
    assert client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter)).json["status"] == "open"


def test_keys_are_scoped_to_the_caller(client, factory, waiter, product):
    other_waiter = factory.make_user("waiter")
    key = new_key()
    mine = client.post(ORDERS, json=order_body(product), headers=keyed(factory, waiter, key))
    theirs = client.post(ORDERS, json=order_body(product), headers=keyed(factory, other_waiter, key))

    assert mine.status_code == theirs.status_code == 201
    assert REPLAYED not in theirs.headers
    assert theirs.json["id"] != mine.json["id"]
    assert theirs.json["waiter"]["id"] == other_waiter.id
    assert count(Order) == 2
    assert count(IdempotencyKey) == 2


@pytest.mark.parametrize(
    "failing",
    [
        pytest.param({"customer_name": "Ana", "items": [{"product_id": 1, "quantity": 0}]}, id="invalid-body"),
        pytest.param({"customer_name": "Ana", "items": [{"product_id": 999999, "quantity": 1}]}, id="unknown-product"),
    ],
)
def test_a_failed_attempt_stores_nothing(client, factory, waiter, product, failing):
    headers = keyed(factory, waiter, new_key())
    failed = client.post(ORDERS, json=failing, headers=headers)
    assert failed.status_code == 422 and failed.json["code"] == "validation_error"
    assert count(IdempotencyKey) == 0

    # Nothing was stored, so a corrected request with the same key is a fresh request.
    fixed = client.post(ORDERS, json=order_body(product), headers=headers)
    assert fixed.status_code == 201 and REPLAYED not in fixed.headers
    assert_replay(fixed, client.post(ORDERS, json=order_body(product), headers=headers))
    assert count(Order) == 1


def test_a_duplicate_client_order_id_stores_nothing(client, factory, waiter, product):
    taken = client.post(ORDERS, json=order_body(product, client_order_id="tab-1"),
                        headers=factory.headers(waiter))
    headers = keyed(factory, waiter, new_key())
    clash = client.post(ORDERS, json=order_body(product, client_order_id="tab-1"), headers=headers)
    assert clash.status_code == 409 and clash.json["code"] == "duplicate_client_order_id"
    assert clash.json["order_id"] == taken.json["id"]

    fresh = client.post(ORDERS, json=order_body(product, client_order_id="tab-2"), headers=headers)
    assert fresh.status_code == 201 and REPLAYED not in fresh.headers
    assert count(Order) == 2


@pytest.mark.parametrize("length", [1, 255])
def test_key_length_limits_accepted(client, factory, waiter, product, length):
    resp = client.post(ORDERS, json=order_body(product), headers=keyed(factory, waiter, "k" * length))
    assert resp.status_code == 201


@pytest.mark.parametrize("length", [0, 256, 1000])
def test_key_length_limits_rejected(client, factory, waiter, product, length):
    resp = client.post(ORDERS, json=order_body(product), headers=keyed(factory, waiter, "k" * length))
    assert resp.status_code == 422
    assert resp.mimetype == PROBLEM
    assert resp.json["code"] == "validation_error"
    assert count(Order) == 0 and count(IdempotencyKey) == 0


def test_append_items_replay_does_not_append_twice(client, factory, waiter, product):
    order = client.post(ORDERS, json=order_body(product), headers=factory.headers(waiter)).json
    headers = keyed(factory, waiter, new_key())
    body = {"items": [{"product_id": product.id, "quantity": 1},
                      {"product_name": "Agua de horchata", "unit_price": "25.50", "quantity": 1}]}
    first = client.post(f"{ORDERS}/{order['id']}/items", json=body, headers=headers)
    assert first.status_code == 201 and first.json["version"] == 2 and len(first.json["items"]) == 3

    again = client.post(f"{ORDERS}/{order['id']}/items", json=body, headers=headers)

    assert_replay(first, again)
    current = client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter)).json
    assert current["version"] == 2 and len(current["items"]) == 3 and current["total"] == "63.00"
    assert count(OrderItem) == 3


def test_close_replay_is_200_not_order_not_open(client, factory, waiter, product):
    order = client.post(ORDERS, json=order_body(product), headers=factory.headers(waiter)).json
    headers = keyed(factory, waiter, new_key())
    first = client.post(f"{ORDERS}/{order['id']}/close", json={"payment_method": "card"}, headers=headers)
    assert first.status_code == 200 and first.json["status"] == "closed" and first.json["version"] == 2

    again = client.post(f"{ORDERS}/{order['id']}/close", json={"payment_method": "card"}, headers=headers)

    assert_replay(first, again)
    unkeyed = client.post(f"{ORDERS}/{order['id']}/close", json={"payment_method": "card"},
                          headers=factory.headers(waiter))
    assert unkeyed.status_code == 409 and unkeyed.json["code"] == "order_not_open"
    assert client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter)).json["version"] == 2


def test_cancel_replay(client, factory, waiter, product):
    order = client.post(ORDERS, json=order_body(product), headers=factory.headers(waiter)).json
    headers = keyed(factory, waiter, new_key())
    first = client.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "left"}, headers=headers)
    assert first.status_code == 200 and first.json["status"] == "cancelled"

    again = client.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "left"}, headers=headers)

    assert_replay(first, again)
    assert client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter)).json["version"] == 2
    other = client.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "changed"}, headers=headers)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"


def test_batch_replay_returns_the_first_results(client, factory, waiter, product):
    batch = {"orders": [{"client_order_id": f"b-{n}", "customer_name": "Ana",
                         "items": [{"product_id": product.id, "quantity": 1}]} for n in range(5)]}
    batch["orders"].append({"client_order_id": "b-bad", "customer_name": "", "items": []})
    headers = keyed(factory, waiter, new_key())
    first = client.post(f"{ORDERS}/batch", json=batch, headers=headers)
    assert first.status_code == 200
    assert [r["status"] for r in first.json["results"]] == ["created"] * 5 + ["rejected"]

    again = client.post(f"{ORDERS}/batch", json=batch, headers=headers)

    assert_replay(first, again)
    assert count(Order) == 5 and count(OrderItem) == 5
    # without the key the same batch is recognised order by order
    unkeyed = client.post(f"{ORDERS}/batch", json=batch, headers=factory.headers(waiter)).json["results"]
    assert [r["status"] for r in unkeyed] == ["duplicate"] * 5 + ["rejected"]
    assert [r["id"] for r in unkeyed[:5]] == [r["id"] for r in first.json["results"][:5]]
    assert count(Order) == 5


def test_key_row_is_written_with_the_order(client, factory, waiter, product):
    key = new_key()
    resp = client.post(ORDERS, json=order_body(product), headers=keyed(factory, waiter, key))
    db.session.rollback()
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == key))
    assert row is not None and row.user_id == waiter.id
    assert row.response_status == 201 and json.loads(row.response_body) == resp.json
    assert len(row.request_hash) == 64


def test_a_key_held_by_a_running_request_is_409_in_progress(app, postgres_only, client, factory, waiter, product):
    """A twin that waits longer than IDEMPOTENCY_WAIT_MS gets 409 with Retry-After; nothing is stored."""
    key = new_key()
    db.session.commit()
    saved = app.config["IDEMPOTENCY_WAIT_MS"]
    app.config["IDEMPOTENCY_WAIT_MS"] = 200
    holder = db.engine.connect()
    try:
        holding = holder.begin()  # plays the first request, still running: its key row is not committed
        holder.execute(IdempotencyKey.__table__.insert().values(
            user_id=waiter.id, key=key, request_hash="0" * 64, created_at=utcnow()))
        resp = client.post(ORDERS, json=order_body(product), headers=keyed(factory, waiter, key))
        assert resp.status_code == 409
        assert resp.json["code"] == "idempotency_key_in_progress"
        assert resp.headers.get("Retry-After")
        holding.rollback()  # the first request failed: the key is free again
    finally:
        holder.close()
        app.config["IDEMPOTENCY_WAIT_MS"] = saved
    assert count(Order) == 0
    retry = client.post(ORDERS, json=order_body(product), headers=keyed(factory, waiter, key))
    assert retry.status_code == 201 and REPLAYED not in retry.headers
