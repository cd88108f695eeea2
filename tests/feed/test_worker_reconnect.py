"""`flask webhooks work` outlives its database: stopped under it (as in a restart or a failover), the
worker keeps running, connects again with backoff once the server is back, and delivers what was
committed since. On a throwaway cluster of its own (tests/pgcluster.py): the shared server is never
stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from config import normalize_database_url
from tests.conftest import make_config
from tests.constants import ORDERS
from tests.factories import Factory
from tests.feed.conftest import WEBHOOKS
from tests.feed.receiver import receiving
from tests.pgcluster import ThrowawayPostgres, find_pg_bindir

ROOT = Path(__file__).resolve().parents[2]
BINDIR = find_pg_bindir()
pytestmark = [
    pytest.mark.skipif(BINDIR is None, reason="PostgreSQL server binaries (initdb, pg_ctl) not installed"),
    pytest.mark.deploy,  # a throwaway PostgreSQL cluster, stopped and started again
    pytest.mark.timeout(180),
]


@pytest.fixture
def cluster():
    pg = ThrowawayPostgres(BINDIR)
    try:
        yield pg
    finally:
        pg.stop()


def wait_until(check, seconds: float = 45) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_worker_survives_its_database_stopping_and_delivers_once_it_is_back(cluster):
    url = normalize_database_url(cluster.create_database("comanda_worker"))
    app = create_app(make_config(url, RATELIMIT_ENABLED=False, WEBHOOK_ALLOW_PRIVATE_URLS=True))
    client = app.test_client()
    with receiving() as receiver:
        with app.app_context():
            upgrade()
            factory = Factory()
            waiter, boss = factory.make_user("waiter"), factory.headers(factory.make_user("admin"))
            product, headers = factory.make_product(price="9.50").id, factory.headers(waiter)
            db.session.remove()
        assert client.post(WEBHOOKS, headers=boss, json={"url": receiver.url, "types": ["order.created"]}
                           ).status_code == 201
        env = {**os.environ, "FLASK_APP": "wsgi", "COMANDA_ENV": "testing", "DATABASE_URL": url,
               "WEBHOOK_ALLOW_PRIVATE_URLS": "1", "RATELIMIT_ENABLED": "0", "DB_CONNECT_TIMEOUT": "2"}
        worker = subprocess.Popen([sys.executable, "-m", "flask", "webhooks", "work"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            order = {"customer_name": "Ana", "items": [{"product_id": product, "quantity": 1}]}
            assert client.post(ORDERS, headers=headers, json=order).status_code == 201
            receiver.wait_for(1)
            with app.app_context():
                db.engine.dispose()  # the test's own pooled connections die with the server
            cluster.halt()
            time.sleep(4)  # several failed attempts to connect again
            assert worker.poll() is None, "the worker exited when its database went away"
            cluster.start()
            assert client.post(ORDERS, headers=headers, json=order).status_code == 201
            got = receiver.wait_for(2)
            assert len({r.headers["webhook-id"] for r in got}) == 2
            assert worker.poll() is None
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                code = worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
                raise
            errors = worker.stderr.read() if worker.stderr else ""
    assert code == 0, errors[-3000:]
    assert "lost the database; connecting again" in errors
    with app.app_context():
        db.engine.dispose()
