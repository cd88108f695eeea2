"""`flask webhooks work` as real processes against PostgreSQL and a real receiver: a worker killed with
SIGKILL mid-delivery leaves the delivery to be made again with the same webhook-id; two workers never
deliver one event to one webhook at the same time and keep per-subject order; SIGTERM stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import WebhookDelivery
from tests.constants import ORDERS
from tests.feed.conftest import WEBHOOKS
from tests.feed.receiver import receiving

ROOT = Path(__file__).resolve().parents[2]


def start_worker(app) -> subprocess.Popen:
    """The worker, once it has said "webhook worker started" (its SIGTERM handler is in place by then: a
    SIGTERM during a slow start under load would otherwise end it with -15). Its stderr is read on."""
    env = {**os.environ, "FLASK_APP": "wsgi", "COMANDA_ENV": "testing",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "WEBHOOK_ALLOW_PRIVATE_URLS": "1",
           "WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2", "RATELIMIT_ENABLED": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "flask", "webhooks", "work"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = threading.Event()

    def read() -> None:  # also keeps the pipe from filling up
        for line in proc.stderr:
            if "webhook worker started" in line:
                started.set()

    threading.Thread(target=read, daemon=True).start()
    assert started.wait(60), f"the worker did not start (exit code {proc.poll()})"
    return proc


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def statuses() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.id)))


def wait_until(check, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def private_ok(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)


def test_a_worker_killed_mid_delivery_leaves_it_to_be_made_again(app, client, factory, admin, place, waiter, menu,
                                                                 postgres_only, private_ok):
    hold = threading.Event()

    def respond(received):
        if len(receiver.requests) == 1:
            hold.wait(30)  # the first attempt never answers: its worker dies meanwhile
        return 200

    with receiving(respond) as receiver:
        client.post(WEBHOOKS, headers=factory.headers(admin), json={"url": receiver.url, "types": ["*"]})
        first = start_worker(app)
        second = None
        try:
            place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
            assert receiver.arrived.wait(30)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
            assert statuses() == ["pending"]  # the killed worker's claim went with its connection
            second = start_worker(app)
            a, b = receiver.wait_for(2)
            wait_until(lambda: statuses() == ["delivered"])
            assert stop(second) == 0  # SIGTERM: a clean exit
        finally:
            hold.set()
            for proc in (first, second):
                if proc and proc.poll() is None:
                    proc.kill()
    assert a.headers["webhook-id"] == b.headers["webhook-id"]


def test_two_workers_never_deliver_one_event_twice_at_once_and_keep_subject_order(
        app, client, factory, admin, waiter, menu, postgres_only, private_ok):
    def respond(received):
        time.sleep(0.03)
        return 200

    with receiving(respond) as receiver:
        client.post(WEBHOOKS, headers=factory.headers(admin), json={"url": receiver.url, "types": ["order.*"]})
        workers = [start_worker(app), start_worker(app)]
        try:
            mine = factory.headers(waiter)
            for n in range(12):
                order = client.post(ORDERS, headers=mine, json={"customer_name": f"C{n}", "items": [
                    {"product_id": menu["taco"].id, "quantity": 1}]}).json
                client.post(f"{ORDERS}/{order['id']}/items", headers=mine,
                            json={"items": [{"product_id": menu["agua"].id, "quantity": 1}]})
            wait_until(lambda: statuses() == ["delivered"] * 24, 60)
            assert [stop(w) for w in workers] == [0, 0]
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
    assert receiver.overlaps == []
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(set(ids)) == 24
    by_subject: dict[int, list[int]] = {}
    for r in receiver.requests:
        by_subject.setdefault(r.json["subject"]["id"], []).append(r.json["subject"]["version"])
    assert all(versions == sorted(versions) for versions in by_subject.values())
