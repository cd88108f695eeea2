"""Report reads on a real streaming replica (REPORTS_DATABASE_URL), its fallbacks, and the guards.

A throwaway Patroni cluster (deploy/ha/cluster.py, asynchronous, two nodes) gives a primary and a
streaming replica on loopback. The app writes through DATABASE_URL (the primary) and reads reports
through REPORTS_DATABASE_URL (the replica) while the replica is fresh enough; a paused, lagging or
unreachable replica is skipped for the primary, and no report fails because of it. With the primary
unreachable, report requests (their token check included) are served by the replica. Writes go
only to the node Patroni says holds the leader lock (DATABASE_PATRONI_URLS), and a commit the
synchronous standby never confirmed is not acknowledged (app/leader.py).
"""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import UTC, datetime

import psycopg2
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.leader import LEADER_GUARD
from app.replicas import EXTENSION, Replica
from config import ConfigError, normalize_database_url
from tests.conftest import make_config
from tests.deploy.ha_support import cluster as ha_cluster

pytestmark = [
    pytest.mark.ha,
    pytest.mark.skipif(
        bool(ha_cluster.missing_tools()),
        reason=f"needs {', '.join(ha_cluster.missing_tools())} (apt-get install -y patroni etcd-server)",
    ),
]


@pytest.fixture(scope="module")
def cluster():
    with ha_cluster.Cluster(synchronous=False, size=2) as running:
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


def test_no_primary_is_503_then_the_first_request_after_it_is_back_succeeds(app, cluster):
    """Multi-host URL, the primary stopped (Patroni in maintenance mode leaves it down): requests get
    503 problem+json with Retry-After within the connect timeout; once it is back, the very next
    request succeeds on the same app (pool pre-ping and invalidation on disconnect)."""
    leader, replica = cluster.leader(), cluster.replica()
    url = (f"postgresql://postgres@{replica.address},{leader.address}/comanda"
           "?target_session_attrs=read-write")  # the replica first: libpq must skip it  # fmt: skip
    multi_host = create_app(make_config(normalize_database_url(url), DB_CONNECT_TIMEOUT=2))
    client = multi_host.test_client()
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
        # This module's app held pooled connections to the server just restarted, possibly used less than
        # DB_PING_AFTER_IDLE_MS ago and so not pinged; a request would be run again on a new one
        # (app/database.py), but the fixtures' own statements outside a request are not: fresh ones.
        with app.app_context():
            db.engine.dispose()
    assert client.post("/api/v1/auth/login", json=login).status_code == 401
    with multi_host.app_context():
        db.engine.dispose()


def test_x_data_source_is_what_the_node_is_when_read(app, client, factory, cluster):
    """A report connection on a node that is not in recovery (as after a promotion) says `primary`."""
    headers = factory.headers(factory.make_user("manager"))
    live = app.extensions[EXTENSION]
    promoted = normalize_database_url(cluster.leader().dsn("comanda"))
    app.extensions[EXTENSION] = Replica(sa.create_engine(promoted, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]), 30)
    try:
        resp = client.get("/api/v1/reports/products", headers=headers)
        assert resp.status_code == 200, resp.get_json()
        assert resp.headers["X-Data-Source"] == "primary"
    finally:
        app.extensions[EXTENSION].engine.dispose()
        app.extensions[EXTENSION] = live
    assert products_report(client, headers)[1] == "replica"


def wait_on_replica(cluster, sql: str, expected) -> None:
    deadline = time.monotonic() + 20
    while replica_sql(cluster, sql)[0] != expected:
        assert time.monotonic() < deadline, f"the replica never replayed: {sql}"
        time.sleep(0.1)


def test_reads_go_on_from_the_replica_while_the_primary_is_unreachable(app, client, factory, cluster):
    """Token check, user, locations and report from the replica; writes 503; revocations honoured."""
    manager = factory.make_user("manager")
    headers = factory.headers(manager)
    create_order(client, headers)
    logged_out = factory.headers(factory.make_user("manager"))
    assert client.post("/api/v1/auth/logout", headers=logged_out).status_code == 204
    with app.app_context():
        orders = db.session.scalar(sa.text("SELECT count(*) FROM orders"))
        revoked = db.session.scalar(sa.text("SELECT count(*) FROM revoked_tokens"))
    wait_on_replica(cluster, "SELECT count(*) FROM orders", orders)
    wait_on_replica(cluster, "SELECT count(*) FROM revoked_tokens", revoked)

    # The same JWT secret, DATABASE_URL on a port nobody listens on: the primary is gone.
    gone = normalize_database_url(f"postgresql://postgres@127.0.0.1:{ha_cluster.free_port()}/comanda")
    replica_url = normalize_database_url(cluster.replica().dsn("comanda"))
    cut_off = create_app(make_config(gone, DB_CONNECT_TIMEOUT=2, REPORTS_DATABASE_URL=replica_url))
    other = cut_off.test_client()
    try:
        resp = other.get("/api/v1/reports/products", headers=headers)
        assert resp.status_code == 200, resp.get_json()
        assert resp.headers["X-Data-Source"] == "replica"
        assert resp.get_json()["totals"]["orders"] == orders
        # Only reports say how fresh they are: other reads still need the primary.
        assert other.get("/api/v1/auth/me", headers=headers).status_code == 503

        resp = other.get("/api/v1/reports/products", headers=logged_out)
        assert resp.status_code == 401, "a token revoked on the primary is refused by the replica path"
        assert resp.get_json()["detail"] == "The token has been revoked."

        body = {"customer_name": "Ana", "items": [{"product_name": "Taco", "unit_price": "25.00", "quantity": 1}]}
        resp = other.post("/api/v1/orders", json=body, headers=headers)
        assert resp.status_code == 503, resp.get_json()  # writes never move to the replica

        # A replica beyond the staleness bound is not used: the read is 503 like the write.
        cut_off.extensions[EXTENSION].max_lag_seconds = -1
        assert other.get("/api/v1/reports/products", headers=headers).status_code == 503
    finally:
        with cut_off.app_context():
            db.engine.dispose()
        cut_off.extensions[EXTENSION].engine.dispose()


def patroni_app(cluster, urls: list[str], **overrides):
    nodes = [cluster.leader(), cluster.replica()]
    url = normalize_database_url("postgresql://postgres@" + ",".join(n.address for n in nodes)
                                 + "/comanda?target_session_attrs=read-write")  # fmt: skip
    return create_app(make_config(url, DATABASE_PATRONI_URLS=urls, DB_CONNECT_TIMEOUT=2, **overrides))


def test_writes_go_only_to_the_node_whose_patroni_holds_the_leader_lock(factory, cluster):
    headers = factory.headers(factory.make_user("manager"))
    leader, replica = cluster.leader(), cluster.replica()
    body = {"customer_name": "Ana", "items": [{"product_name": "Taco", "unit_price": "25.00", "quantity": 1}]}

    fenced = patroni_app(cluster, [leader.api_url, replica.api_url])
    try:
        assert fenced.test_client().post("/api/v1/orders", json=body, headers=headers).status_code == 201
        guard = fenced.extensions[LEADER_GUARD]
        assert guard.last_leader.api == leader.api_url
    finally:
        with fenced.app_context():
            db.engine.dispose()

    # The leader's PostgreSQL takes writes, but its Patroni does not answer (as when it was killed):
    # no node holds the lock as far as the app can tell, so nothing is written anywhere.
    dead_api = f"http://127.0.0.1:{ha_cluster.free_port()}"
    fenced = patroni_app(cluster, [dead_api, replica.api_url])
    try:
        started = time.monotonic()
        resp = fenced.test_client().post("/api/v1/orders", json=body, headers=headers)
        assert resp.status_code == 503, resp.get_json()
        assert resp.get_json()["code"] == "service_unavailable"
        assert time.monotonic() - started < 5
    finally:
        with fenced.app_context():
            db.engine.dispose()

    with pytest.raises(ConfigError, match="DATABASE_PATRONI_URLS names 1 Patroni APIs for 2 hosts"):
        patroni_app(cluster, [leader.api_url])


def test_a_commit_the_synchronous_standby_never_confirmed_is_not_acknowledged(factory, cluster):
    """A COMMIT waits for a standby that never answers; someone cancels the wait (pg_cancel_backend, as a
    tool killing "stuck" queries does). PostgreSQL then reports the COMMIT as done, with a WARNING; the
    app answers 504 outcome_unknown instead of 201, at once (not after its own response deadline)."""
    headers = factory.headers(factory.make_user("manager"))
    leader = cluster.leader()
    strict = create_app(make_config(normalize_database_url(leader.dsn("comanda"))))
    admin = psycopg2.connect(leader.dsn(), connect_timeout=5)
    admin.autocommit = True
    body = {"customer_name": "Ana", "client_order_id": "unconfirmed-1",
            "items": [{"product_name": "Taco", "unit_price": "25.00", "quantity": 1}]}  # fmt: skip
    answers: list = []
    try:
        with admin.cursor() as cur:
            cur.execute("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
            cur.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)
        started = time.monotonic()
        poster = threading.Thread(target=lambda: answers.append(
            strict.test_client().post("/api/v1/orders", json=body, headers=headers)))  # fmt: skip
        poster.start()
        with admin.cursor() as cur:
            deadline = time.monotonic() + 10
            while True:  # the request's COMMIT waiting for the standby
                cur.execute("SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
                waiting = [row[0] for row in cur.fetchall()]
                if waiting:
                    break
                assert time.monotonic() < deadline, "the COMMIT never waited for the standby"
                time.sleep(0.1)
            cur.execute("SELECT pg_cancel_backend(%s)", (waiting[0],))
        poster.join(timeout=30)
        assert time.monotonic() - started < 10, "answered by the response deadline, not by the guard"
        assert answers[0].status_code == 504, answers[0].get_json()
        assert answers[0].get_json()["code"] == "outcome_unknown"
    finally:
        with admin.cursor() as cur:
            cur.execute("ALTER SYSTEM RESET synchronous_standby_names")
            cur.execute("SELECT pg_reload_conf()")
        admin.close()
        with strict.app_context():
            db.engine.dispose()
    # Committed locally all the same: what a demoted primary would have acknowledged and lost.
    conn = psycopg2.connect(leader.dsn("comanda"), connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM orders WHERE client_order_id = 'unconfirmed-1'")
            assert cur.fetchone()[0] == 1
    finally:
        conn.close()
