"""The pool's pre-ping only after idle (app/database.py): a connection used a moment ago goes straight
to work, and when it died meanwhile the request's first statement fails on it before anything was done,
so the request runs again on a new connection: answered once, stored once (PostgreSQL)."""

from __future__ import annotations

import uuid

import psycopg2
import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import Order
from tests.constants import ORDERS
from tests.deploy.loopback import pg_url


@pytest.fixture
def disconnects(app):
    """Every disconnect the engine saw outside the pool's ping: (statement, pre-ping?)."""
    seen: list[tuple[str | None, bool]] = []

    def record(context) -> None:
        if context.is_disconnect:
            seen.append((context.statement, context.is_pre_ping))

    event.listen(db.engine, "handle_error", record)
    yield seen
    event.remove(db.engine, "handle_error", record)


def kill_pooled_connections() -> None:
    """Terminate the backend of every connection in the app's pool (the session gives its own back first)."""
    db.session.rollback()  # back to the pool, recently used: no ping at the next checkout
    admin = psycopg2.connect(pg_url(db.engine.url.render_as_string(hide_password=False)))
    try:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND pid <> pg_backend_pid() AND application_name = 'comanda'")
            killed = [ok for (ok,) in cur.fetchall()]  # each returns once its backend is gone
    finally:
        admin.close()
    assert killed and all(killed)


@pytest.fixture
def taco(menu) -> int:
    return menu["taco"].id  # read now: after the kill, the test's own session must not touch the database


def order_body(product_id: int) -> dict:
    return {"customer_name": "Ana", "client_order_id": uuid.uuid4().hex,
            "items": [{"product_id": product_id, "quantity": 2}]}


def test_a_connection_that_died_in_the_pool_is_replaced_and_the_order_is_stored_once(
        app, client, factory, waiter, taco, postgres_only, disconnects, monkeypatch):
    monkeypatch.setitem(app.config, "DB_PING_AFTER_IDLE_MS", 600_000)  # this machine may be slow: no ping
    headers = factory.headers(waiter)
    db.session.commit()
    assert client.post(ORDERS, json=order_body(taco), headers=headers).status_code == 201
    kill_pooled_connections()
    body = order_body(taco)
    resp = client.post(ORDERS, json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    # The retry ran: the first statement met the dead connection (not the ping, which was skipped).
    assert [pre_ping for _, pre_ping in disconnects] == [False]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Order).where(
        Order.client_order_id == body["client_order_id"])) == 1
    order = client.get(f"{ORDERS}/{resp.json['id']}", headers=headers).json
    assert order["version"] == 1


def test_after_idle_the_pool_pings_and_no_request_is_retried(
        app, client, factory, waiter, taco, postgres_only, disconnects, monkeypatch):
    monkeypatch.setitem(app.config, "DB_PING_AFTER_IDLE_MS", 0)  # every checkout counts as idle: pinged
    headers = factory.headers(waiter)
    db.session.commit()
    assert client.post(ORDERS, json=order_body(taco), headers=headers).status_code == 201
    kill_pooled_connections()
    assert client.post(ORDERS, json=order_body(taco), headers=headers).status_code == 201
    assert [pre_ping for _, pre_ping in disconnects] == [True]


def test_a_disconnect_after_the_first_statement_is_not_retried(
        app, client, factory, waiter, taco, postgres_only, disconnects, monkeypatch):
    """A connection that already answered in this transaction is not 'stale': its failure is the usual 503,
    and nothing is stored (the view does not run twice)."""
    monkeypatch.setitem(app.config, "DB_PING_AFTER_IDLE_MS", 600_000)
    headers = factory.headers(waiter)
    db.session.commit()
    assert client.post(ORDERS, json=order_body(taco), headers=headers).status_code == 201
    body = order_body(taco)
    killed = []

    def kill_before_insert(conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ORDERS") and not killed:
            admin = psycopg2.connect(pg_url(db.engine.url.render_as_string(hide_password=False)))
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(%s)", (conn.connection.dbapi_connection.info.backend_pid,))
            admin.close()
            killed.append(True)

    event.listen(db.engine, "before_cursor_execute", kill_before_insert)
    try:
        resp = client.post(ORDERS, json=body, headers=headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", kill_before_insert)
    assert resp.status_code == 503, resp.json
    assert killed == [True]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Order).where(
        Order.client_order_id == body["client_order_id"])) == 0
