"""The worker's keep-alive connections to receivers, and the claim's per-subject probe: faster, with every
guarantee kept (the URL checked at each delivery, a delivery made once per attempt, per-subject order)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from app.columns import utcnow
from app.extensions import db
from app.feed.worker import CLAIM_SQL, Worker
from tests.feed.conftest import WEBHOOKS
from tests.feed.receiver import receiving


@pytest.fixture
def private_ok(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_SCHEDULE", (0.0, 0.0))


def hook_for(client, headers, url):
    resp = client.post(WEBHOOKS, headers=headers, json={"url": url, "types": ["order.*"]})
    assert resp.status_code == 201, resp.json
    return resp.json


def one_by_one(worker: Worker, n: int) -> None:
    """`n` busy rounds of a batch-1 worker: each delivery goes out after the previous one was answered."""
    for _ in range(n):
        assert worker.run_once()


def deliveries(client, headers, hook) -> list[dict]:
    return client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=headers).json["data"]


def test_deliveries_reuse_one_connection_and_the_url_is_still_checked_at_each(
        app, client, factory, admin, place, waiter, menu, private_ok, monkeypatch):
    worker = Worker(batch=1)
    try:
        with receiving(keep_alive=True) as receiver:
            boss = factory.headers(admin)
            hook = hook_for(client, boss, receiver.url)
            for _ in range(3):
                place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
            one_by_one(worker, 3)
            got = receiver.wait_for(3)
            assert len({r.peer for r in got}) == 1  # one TCP connection for the three
            # An idle connection to the receiver is kept, yet the next delivery checks the URL again first.
            monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
            place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
            one_by_one(worker, 1)
            assert len(receiver.requests) == 3
    finally:
        worker.close()
    rows = deliveries(client, boss, hook)  # newest first
    assert rows[0]["last_error"].startswith("refused") and rows[0]["last_status_code"] is None
    assert [(r["status"], r["attempts"]) for r in rows[1:]] == [("delivered", 1)] * 3


def test_a_connection_the_receiver_closed_while_idle_is_replaced_once(
        client, factory, admin, place, waiter, menu, private_ok):
    worker = Worker(batch=1)
    try:
        with receiving(keep_alive=True, drop_idle=True) as receiver:
            boss = factory.headers(admin)
            hook = hook_for(client, boss, receiver.url)
            for _ in range(3):
                place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
            one_by_one(worker, 3)
            got = receiver.wait_for(3)
    finally:
        worker.close()
    assert len(got) == 3 and len({r.headers["webhook-id"] for r in got}) == 3  # each made once
    assert len({r.peer for r in got}) == 3  # each on a new connection, after the kept one was found closed
    assert [(r["status"], r["attempts"]) for r in deliveries(client, boss, hook)] == [("delivered", 1)] * 3


def test_the_claim_probes_each_subject_on_its_index_even_before_any_analyze(client, factory, admin, private_ok):
    """Before statistics exist (a fresh table, a burst after a quiet spell) PostgreSQL's planner took the
    per-subject NOT EXISTS as a scan of every pending delivery for each pending delivery (quadratic: 1.5 s
    a claim with 2,000 pending). The probe must be a lookup on (webhook_id, subject_key, id), or a hash."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the plan of PostgreSQL's claim")
    hook = hook_for(client, factory.headers(admin), "http://127.0.0.1:9/hook")
    db.session.execute(text("""
        INSERT INTO webhook_deliveries (webhook_id, event_type, subject_key, status, manual, attempts,
                                        next_attempt_at, created_at)
        SELECT :hook, 'order.updated', 'order:' || (g / 4), 'pending', false, 0, now(), now()
        FROM generate_series(1, 2000) g"""), {"hook": hook["id"]})
    db.session.commit()
    sql = "EXPLAIN (FORMAT JSON) " + CLAIM_SQL.text + " FOR UPDATE OF d SKIP LOCKED"
    plan = db.session.execute(text(sql), {"now": utcnow(), "limit": 50}).scalar()
    db.session.rollback()
    nodes, stack = [], [(plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack += node.get("Plans", [])
    [anti] = [n for n in nodes if n.get("Join Type") == "Anti"]
    probe = anti["Plans"][1]
    assert anti["Node Type"] == "Hash Join" or probe.get("Index Name") == "ix_webhook_deliveries_subject", probe
