"""Report reads on a real streaming replica (REPORTS_DATABASE_URL), and its fallbacks.

A throwaway Patroni cluster (deploy/ha/cluster.py, asynchronous) gives a primary and a streaming
replica on loopback. The app writes through DATABASE_URL (the primary) and reads reports through
REPORTS_DATABASE_URL (the replica) while the replica is fresh enough; a paused, lagging or
unreachable replica is skipped for the primary, and no report fails because of it.
"""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime

import psycopg2
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.replicas import EXTENSION, Replica
from config import normalize_database_url
from tests.conftest import make_config
from tests.deploy.ha_support import cluster as ha_cluster

pytestmark = pytest.mark.skipif(
    bool(ha_cluster.missing_tools()),
    reason=f"needs {', '.join(ha_cluster.missing_tools())} (apt-get install -y patroni etcd-server)",
)


@pytest.fixture(scope="module")
def cluster():
    with ha_cluster.Cluster(synchronous=False) as running:
        conn = psycopg2.connect(running.leader().dsn(), connect_timeout=5)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE comanda")
        conn.close()
        running.set_maintenance(True)  # Patroni would resume the replay the tests pause
        yield running


@pytest.fixture(scope="module")
def app(cluster):
    """Overrides the suite's app: primary for everything, the replica for report reads."""
    app = create_app(make_config(
        normalize_database_url(cluster.leader().dsn("comanda")),
        REPORTS_DATABASE_URL=normalize_database_url(cluster.replica().dsn("comanda")),
        REPORTS_MAX_LAG_SECONDS=30,
    ))  # fmt: skip
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()
        app.extensions[EXTENSION].engine.dispose()


def replica_sql(cluster, sql: str):
    conn = psycopg2.connect(cluster.replica().dsn("comanda"), connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone() if cur.description else None
    finally:
        conn.close()


def wait_replayed(cluster, orders: int) -> None:
    deadline = time.monotonic() + 20
    while replica_sql(cluster, "SELECT count(*) FROM orders")[0] != orders:
        assert time.monotonic() < deadline, "the replica never replayed the orders"
        time.sleep(0.1)


def create_order(client, headers) -> dict:
    body = {"customer_name": "Ana", "items": [{"product_name": "Taco", "unit_price": "25.00", "quantity": 2}]}
    resp = client.post("/api/v1/orders", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()  # writes go to the primary, never the replica
    return resp.get_json()


def products_report(client, headers):
    resp = client.get("/api/v1/reports/products", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    as_of = datetime.fromisoformat(resp.headers["X-Data-As-Of"].replace("Z", "+00:00"))
    return resp.get_json()["totals"]["orders"], resp.headers["X-Data-Source"], as_of


def test_reports_read_the_replica_and_say_how_fresh(app, client, factory, cluster):
    assert app.extensions[EXTENSION].max_lag_seconds == 30  # REPORTS_MAX_LAG_SECONDS
    headers = factory.headers(factory.make_user("manager"))
    create_order(client, headers)
    wait_replayed(cluster, 1)
    orders, source, as_of = products_report(client, headers)
    assert (orders, source) == (1, "replica")
    assert abs((datetime.now(UTC) - as_of).total_seconds()) < 5

    # A replica behind by less than the bound still answers, with the older as-of it really has.
    replica_sql(cluster, "SELECT pg_wal_replay_pause()")
    try:
        time.sleep(0.5)
        before_second = datetime.now(UTC)  # created_at is answered in whole seconds: compare with the clock
        create_order(client, headers)
        orders, source, as_of = products_report(client, headers)
        assert (orders, source) == (1, "replica"), "the replica's (older) figures were expected"
        assert as_of < before_second

        # Past the bound, the primary answers, with everything.
        app.extensions[EXTENSION].max_lag_seconds = 0
        time.sleep(1.1)
        orders, source, as_of = products_report(client, headers)
        assert (orders, source) == (2, "primary")
        assert abs((datetime.now(UTC) - as_of).total_seconds()) < 5
    finally:
        app.extensions[EXTENSION].max_lag_seconds = 30
        replica_sql(cluster, "SELECT pg_wal_replay_resume()")


def test_an_unreachable_replica_never_fails_a_report(app, client, factory):
    headers = factory.headers(factory.make_user("manager"))
    create_order(client, headers)
    live = app.extensions[EXTENSION]
    dead_url = normalize_database_url(f"postgresql://postgres@127.0.0.1:{ha_cluster.free_port()}/comanda")
    app.extensions[EXTENSION] = Replica(sa.create_engine(dead_url, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]), 30)
    try:
        assert products_report(client, headers)[:2] == (1, "primary")
        assert app.extensions[EXTENSION].down_until > time.monotonic()  # not retried on every report
        assert products_report(client, headers)[:2] == (1, "primary")
    finally:
        app.extensions[EXTENSION].engine.dispose()
        app.extensions[EXTENSION] = live


def test_a_replica_failing_mid_report_is_retried_on_the_primary(app, client, factory, cluster):
    """The freshness check passes, then the replica's session dies before the report's queries."""
    headers = factory.headers(factory.make_user("manager"))
    create_order(client, headers)
    wait_replayed(cluster, 1)
    replica = app.extensions[EXTENSION]

    @sa.event.listens_for(replica.engine, "before_cursor_execute")
    def kill_after_the_freshness_check(conn, cursor, statement, *args):
        if "pg_is_in_recovery" not in statement:
            conn.invalidate()  # as if the server went away: the next use raises

    try:
        assert products_report(client, headers)[:2] == (1, "primary")
    finally:
        sa.event.remove(replica.engine, "before_cursor_execute", kill_after_the_freshness_check)
        replica.down_until = 0.0
    assert products_report(client, headers)[:2] == (1, "replica")


def pg_ctl(node, *args: str) -> None:
    done = subprocess.run([f"{ha_cluster.PG_BIN_DIR}/pg_ctl", "-D", str(node.data_dir), *args],
                          capture_output=True, text=True, timeout=60, **ha_cluster._run_as())  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_primary_is_503_then_the_first_request_after_it_is_back_succeeds(cluster):
    """Multi-host URL, the primary stopped (Patroni in maintenance mode leaves it down): requests get
    503 problem+json with Retry-After within the connect timeout; once it is back, the very next
    request succeeds on the same app (pool pre-ping and invalidation on disconnect)."""
    leader, replica = cluster.leader(), cluster.replica()
    url = (f"postgresql://postgres@{replica.address},{leader.address}/comanda"
           "?target_session_attrs=read-write")  # the replica first: libpq must skip it  # fmt: skip
    app = create_app(make_config(normalize_database_url(url), DB_CONNECT_TIMEOUT=2))
    client = app.test_client()
    login = {"email": "nobody@example.com", "password": "wrong-password"}
    assert client.post("/api/v1/auth/login", json=login).status_code == 401  # the primary answers

    pg_ctl(leader, "stop", "-m", "immediate", "-w")
    try:
        for _ in range(3):
            started = time.monotonic()
            resp = client.post("/api/v1/auth/login", json=login)
            assert time.monotonic() - started < 2 * 2 + 1  # at most one connect timeout per host
            assert resp.status_code == 503, resp.get_json()
            assert resp.mimetype == "application/problem+json"
            assert resp.get_json()["code"] == "service_unavailable"
            assert int(resp.headers["Retry-After"]) >= 1
    finally:
        pg_ctl(leader, "start", "-w", "-l", str(cluster.root / f"{leader.name}.restart.log"))
    assert client.post("/api/v1/auth/login", json=login).status_code == 401
    with app.app_context():
        db.engine.dispose()
