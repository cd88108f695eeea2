"""Concurrent waiters on PostgreSQL: real threads, real commits, one test client per thread.

Each thread's request pushes its own app context, so it gets its own session and connection and
commits on its own; a Barrier releases all requests together so they really overlap.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, OrderItem, Product, normalize_name
from tests.constants import ORDERS

JOIN_TIMEOUT = 60


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict | None


def run_together(app, calls: list[Callable]) -> list[Answer]:
    """Run each call(client) in its own thread, released together by a barrier; every answer, in order."""
    db.session.commit()  # the setup data is visible to the threads; this session holds no transaction
    db.session.close()
    barrier = threading.Barrier(len(calls))
    answers: list[Answer | None] = [None] * len(calls)
    failures: list[BaseException] = []

    def worker(index: int, call: Callable) -> None:
        client = app.test_client()
        try:
            barrier.wait(timeout=30)
            resp = call(client)
            body = json.loads(resp.get_data()) if resp.get_data() else None
            answers[index] = Answer(resp.status_code, dict(resp.headers), body)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOIN_TIMEOUT  # one bound for the whole group
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    assert not failures, failures
    db.session.rollback()  # see everything the threads committed
    return answers  # type: ignore[return-value]


def no_server_errors(answers: list[Answer]) -> None:
    bad = [(a.status, a.body) for a in answers if a.status >= 500]
    assert not bad, bad


def order_body(product_id: int, **extra) -> dict:
    return {"customer_name": "Ana", "table": "4", "items": [{"product_id": product_id, "quantity": 2}], **extra}


@pytest.fixture
def setup(app, postgres_only, factory):
    waiter = factory.make_user("waiter")
    manager = factory.make_user("manager")
    product = factory.make_product(price="12.50")
    return {
        "waiter": waiter.id,
        "manager": manager.id,
        "product": product.id,
        "waiter_headers": factory.headers(waiter),
        "manager_headers": factory.headers(manager),
    }


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def idempotency_wait(app):
    saved = app.config["IDEMPOTENCY_WAIT_MS"]

    def configure(ms: int) -> None:
        app.config["IDEMPOTENCY_WAIT_MS"] = ms

    try:
        yield configure
    finally:
        app.config["IDEMPOTENCY_WAIT_MS"] = saved


@pytest.mark.parametrize("wait_ms", [10_000, 1], ids=["twins-wait-and-replay", "twins-give-up-409"])
def test_same_idempotency_key_30_times_makes_one_order(app, setup, idempotency_wait, wait_ms):
    idempotency_wait(wait_ms)
    key = f"k-{uuid.uuid4()}"
    headers = {**setup["waiter_headers"], "Idempotency-Key": key}
    body = {
        "customer_name": "Ana",
        "items": [
            {"product_id": setup["product"], "quantity": 2},
            {"product_name": f"Horchata {uuid.uuid4().hex[:6]}", "unit_price": "25.50", "quantity": 1},
        ],
    }
    answers = run_together(app, [lambda c: c.post(ORDERS, json=body, headers=headers)] * 30)

    no_server_errors(answers)
    created = [a for a in answers if a.status == 201]
    in_progress = [a for a in answers if a.status == 409]
    assert len(created) + len(in_progress) == 30, Counter(a.status for a in answers)
    assert all(a.body["code"] == "idempotency_key_in_progress" for a in in_progress)
    assert created, "no request created the order"
    first = [a for a in created if a.headers.get("Idempotent-Replayed") != "true"]
    assert len(first) == 1, "exactly one response is the original, the rest are replays"
    assert all(a.body == first[0].body for a in created)
    assert all(a.headers["Location"] == first[0].headers["Location"] for a in created)
    assert count(Order) == 1
    assert db.session.scalar(select(Order.id)) == first[0].body["id"]
    assert count(OrderItem) == 2
    if wait_ms == 1:
        assert in_progress, "with a 1 ms wait some twins must give up with 409"


def test_same_batch_with_the_same_key_from_5_threads(app, setup):
    headers = {**setup["waiter_headers"], "Idempotency-Key": f"k-{uuid.uuid4()}"}
    orders = [{"client_order_id": f"kb-{n}", "customer_name": "Ana",
               "items": [{"product_id": setup["product"], "quantity": 1}]} for n in range(20)]
    answers = run_together(
        app, [lambda c: c.post(f"{ORDERS}/batch", json={"orders": orders}, headers=headers)] * 5
    )

    no_server_errors(answers)
    done = [a for a in answers if a.status == 200]
    assert all(a.status == 200 or a.body["code"] == "idempotency_key_in_progress" for a in answers)
    assert sum(a.headers.get("Idempotent-Replayed") != "true" for a in done) == 1
    assert all(a.body == done[0].body for a in done)
    assert [r["status"] for r in done[0].body["results"]] == ["created"] * 20
    assert count(Order) == 20 and count(OrderItem) == 20


def test_same_client_order_id_30_times_without_key(app, setup):
    body = order_body(setup["product"], client_order_id="tab3-000481")
    answers = run_together(
        app, [lambda c: c.post(ORDERS, json=body, headers=setup["waiter_headers"])] * 30
    )

    no_server_errors(answers)
    statuses = Counter(a.status for a in answers)
    assert statuses == {201: 1, 409: 29}, statuses
    created = next(a for a in answers if a.status == 201)
    for answer in answers:
        if answer.status == 409:
            assert answer.body["code"] == "duplicate_client_order_id"
            assert answer.body["order_id"] == created.body["id"]
    assert count(Order) == 1 and count(OrderItem) == 1


def test_20_concurrent_appends_keep_every_line(app, client, setup):
    created = client.post(ORDERS, json=order_body(setup["product"]), headers=setup["waiter_headers"])
    assert created.status_code == 201
    order_id = created.json["id"]
    adhoc = f"Refresco {uuid.uuid4().hex[:6]}"

    def append(n: int) -> Callable:
        headers = setup["waiter_headers"] if n % 2 else setup["manager_headers"]
        line = (
            {"product_id": setup["product"], "quantity": n}
            if n % 3
            else {"product_name": adhoc, "unit_price": f"{n}.05", "quantity": n}
        )
        return lambda c: c.post(f"{ORDERS}/{order_id}/items", json={"items": [line]}, headers=headers)

    answers = run_together(app, [append(n) for n in range(1, 21)])

    no_server_errors(answers)
    assert [a.status for a in answers] == [201] * 20, [(a.status, a.body) for a in answers]
    assert sorted(a.body["version"] for a in answers) == list(range(2, 22))
    final = client.get(f"{ORDERS}/{order_id}", headers=setup["manager_headers"]).json
    assert final["version"] == 21
    assert len(final["items"]) == 21
    assert sorted(item["quantity"] for item in final["items"]) == sorted([2, *range(1, 21)])
    expected = sum(Decimal(item["unit_price"]) * item["quantity"] for item in final["items"])
    assert Decimal(final["total"]) == expected
    assert final["total"] == f"{expected:.2f}"
    assert final["item_count"] == 2 + sum(range(1, 21))
    assert count(OrderItem, OrderItem.order_id == order_id) == 21
    assert count(Product, Product.name_key == normalize_name(adhoc)) == 1


def test_two_patches_with_the_same_if_match(app, client, setup):
    order = client.post(ORDERS, json=order_body(setup["product"]), headers=setup["waiter_headers"]).json
    etag = f'"{order["version"]}"'

    def patch(name: str) -> Callable:
        headers = {**setup["waiter_headers"], "If-Match": etag}
        return lambda c: c.patch(f"{ORDERS}/{order['id']}", json={"customer_name": name}, headers=headers)

    answers = run_together(app, [patch("Beto"), patch("Carla")])

    assert sorted(a.status for a in answers) == [200, 412], [(a.status, a.body) for a in answers]
    winner = next(a for a in answers if a.status == 200)
    loser = next(a for a in answers if a.status == 412)
    assert loser.body["code"] == "precondition_failed"
    final = client.get(f"{ORDERS}/{order['id']}", headers=setup["waiter_headers"]).json
    assert final["version"] == 2
    assert final["customer_name"] == winner.body["customer_name"]


def test_two_orders_introducing_the_same_new_product(app, setup):
    base = f"Agua de jamaica {uuid.uuid4().hex[:6]}"
    spellings = [f"  {base.upper()}  ", base.replace(" ", "   ")]

    def create(name: str) -> Callable:
        body = {"customer_name": "Ana", "items": [{"product_name": name, "unit_price": "30.00", "quantity": 1}]}
        return lambda c: c.post(ORDERS, json=body, headers=setup["waiter_headers"])

    answers = run_together(app, [create(name) for name in spellings])

    assert [a.status for a in answers] == [201, 201], [(a.status, a.body) for a in answers]
    assert count(Product, Product.name_key == normalize_name(base)) == 1
    product_ids = {a.body["items"][0]["product_id"] for a in answers}
    assert len(product_ids) == 1


def test_orders_introducing_the_same_new_products_in_opposite_order(app, setup):
    names = [f"Nuevo {uuid.uuid4().hex[:8]}" for _ in range(60)]

    def create(ordered: list[str]) -> Callable:
        items = [{"product_name": name, "unit_price": "1.00", "quantity": 1} for name in ordered]
        body = {"customer_name": "Ana", "items": items}
        return lambda c: c.post(ORDERS, json=body, headers=setup["waiter_headers"])

    answers = run_together(app, [create(names), create(names[::-1])] * 2)

    assert [a.status for a in answers] == [201] * 4, [(a.status, a.body and a.body.get("code")) for a in answers]
    keys = [normalize_name(name) for name in names]
    assert count(Product, Product.name_key.in_(keys)) == 60


def test_the_same_batch_posted_by_5_threads(app, setup):
    prefix = uuid.uuid4().hex[:6]
    orders = [
        {
            "client_order_id": f"{prefix}-{n:03d}",
            "customer_name": f"Mesa {n}",
            "items": [
                {"product_id": setup["product"], "quantity": 1 + n % 3},
                {"product_name": f"Extra {prefix}", "unit_price": "5.00", "quantity": 1},
            ],
        }
        for n in range(50)
    ]
    answers = run_together(
        app,
        [lambda c: c.post(f"{ORDERS}/batch", json={"orders": orders}, headers=setup["waiter_headers"])] * 5,
    )

    no_server_errors(answers)
    assert [a.status for a in answers] == [200] * 5, [(a.status, a.body) for a in answers]
    db_ids = dict(db.session.execute(select(Order.client_order_id, Order.id)).all())
    assert len(db_ids) == 50
    created_per_cid: Counter = Counter()
    for answer in answers:
        results = answer.body["results"]
        assert [r["client_order_id"] for r in results] == [o["client_order_id"] for o in orders]
        for result in results:
            assert result["status"] in ("created", "duplicate"), result
            assert result["id"] == db_ids[result["client_order_id"]]
            created_per_cid[result["client_order_id"]] += result["status"] == "created"
    assert all(created_per_cid[cid] == 1 for cid in db_ids), created_per_cid
    assert count(OrderItem) == 100
    assert count(Product, Product.name_key == normalize_name(f"Extra {prefix}")) == 1


def test_overlapping_batches_in_opposite_order(app, setup):
    """Re-posts listing the same orders in different orders: each order created once, no 5xx.

    The batch insert locks client_order_ids in sorted order, like new products above; unlike that
    test, this one did not reproduce a deadlock on this machine without the sort (validating the
    batches staggers the inserts), so it guards the outcome rather than proving the lock order.
    """
    prefix = uuid.uuid4().hex[:6]
    orders = [{"client_order_id": f"{prefix}-{n:03d}", **order_body(setup["product"])} for n in range(150)]

    def post(ordered: list[dict]) -> Callable:
        return lambda c: c.post(f"{ORDERS}/batch", json={"orders": ordered}, headers=setup["waiter_headers"])

    answers = run_together(app, [post(orders), post(orders[::-1])] * 4)

    no_server_errors(answers)
    assert [a.status for a in answers] == [200] * 8, [(a.status, a.body) for a in answers]
    assert count(Order) == 150 and count(OrderItem) == 150
    created = Counter(r["client_order_id"] for a in answers for r in a.body["results"] if r["status"] == "created")
    assert set(created.values()) == {1} and len(created) == 150
