"""Concurrent tablets on the embedded default: a FILE SQLite database (WAL) served over real HTTP
by a threaded server, every request on its own thread and connection (issue 9, item 11).

Write transactions start with BEGIN IMMEDIATE, so a second writer waits (busy_timeout) instead
of failing at once with SQLITE_BUSY (which was answered 503). The same tests run on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from app.extensions import db
from app.models import IdempotencyKey, Order, OrderItem
from tests.constants import ORDERS
from tests.helpers import all_at_once, http_json, serving

TABLETS = 20
APPENDS = 10


def test_the_sqlite_database_is_a_file_in_wal_mode(app, backend):
    if backend != "sqlite":
        return
    assert db.engine.url.database not in (None, "", ":memory:")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000


def test_twenty_tablets_posting_keyed_orders_at_once_all_succeed(app, factory, menu):
    waiters = [factory.make_user("waiter") for _ in range(TABLETS)]
    line = {"product_id": menu["taco"].id, "quantity": 2}
    calls = [
        lambda n=n, headers=factory.headers(w, **{"Idempotency-Key": f"tablet-{n}"}): http_json(
            port, "POST", ORDERS, {"customer_name": f"Table {n}", "client_order_id": f"t{n}", "items": [line]}, headers
        )
        for n, w in enumerate(waiters)
    ]
    with serving(app) as server:
        port = server.port
        answers = all_at_once(calls)
    assert Counter(status for status, _ in answers) == Counter({201: TABLETS}), answers
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Order)) == TABLETS
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == TABLETS


def test_ten_appends_to_one_order_at_once_all_succeed(app, factory, menu, waiter, manager):
    headers = factory.headers(waiter)
    with serving(app) as server:
        port = server.port
        status, order = http_json(port, "POST", ORDERS, {"customer_name": "Ana", "items": [
            {"product_id": menu["taco"].id, "quantity": 1}]}, headers)
        assert status == 201
        path = f"{ORDERS}/{order['id']}/items"
        agua = menu["agua"].id
        calls = [
            lambda n=n, h=factory.headers(waiter if n % 2 else manager, **{"Idempotency-Key": f"add-{n}"}): http_json(
                port, "POST", path, {"items": [{"product_id": agua, "quantity": n + 1}]}, h
            )
            for n in range(APPENDS)
        ]
        answers = all_at_once(calls)
        assert Counter(status for status, _ in answers) == Counter({201: APPENDS}), answers
        status, final = http_json(port, "GET", f"{ORDERS}/{order['id']}", headers=headers)
    assert len(final["items"]) == APPENDS + 1
    assert final["item_count"] == 1 + sum(range(1, APPENDS + 1))
    assert final["version"] == APPENDS + 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OrderItem)) == APPENDS + 1
