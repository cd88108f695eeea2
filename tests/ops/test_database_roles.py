"""The app's database role cannot erase the history (issue 22): migrations run as an owner role
(MIGRATION_DATABASE_URL), the app as a role deploy/roles.sql gives rows only, and `flask db upgrade`
takes UPDATE and DELETE on the append-only tables back from it (app/grants.py).

PostgreSQL only: a fresh database and two roles of its own on the test server, made by the very
script the deployment docs and docker compose run."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from config import normalize_database_url
from tests.conftest import make_config
from tests.constants import LOGIN, ORDERS, PRODUCTS

REPO = Path(__file__).resolve().parents[2]
INSUFFICIENT_PRIVILEGE = "42501"

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only")


def dsn(url, **parts) -> str:
    return url.set(drivername="postgresql", **parts).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def roles():
    """A new database with an owner and an app role, set up by deploy/roles.sql."""
    server = make_url(normalize_database_url(os.environ["TEST_DATABASE_URL"]))
    suffix = uuid.uuid4().hex[:8]
    name, owner, app_role = f"{server.database}_roles_{suffix}", f"comanda_owner_{suffix}", f"comanda_app_{suffix}"
    admin = psycopg2.connect(dsn(server))
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(["psql", "-X", "-q", "-d", dsn(server, database=name), "-v", f"owner={owner}",
                        "-v", "owner_password=", "-v", f"app={app_role}", "-v", "app_password=",
                        "-f", str(REPO / "deploy" / "roles.sql")], check=True, capture_output=True, timeout=60)
        yield {"owner": server.set(database=name, username=owner, password=None),
               "app": server.set(database=name, username=app_role, password=None)}
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in (app_role, owner):
            admin.cursor().execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.close()


@pytest.fixture(scope="module")
def role_app(roles):
    app = create_app(make_config(roles["app"].render_as_string(hide_password=False),
                                 MIGRATION_DATABASE_URL=roles["owner"].render_as_string(hide_password=False)))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def refused(url, statement: str) -> str:
    """Run `statement` as the role of `url`; the SQLSTATE it failed with."""
    conn = psycopg2.connect(dsn(url))
    try:
        with pytest.raises(psycopg2.Error) as failure, conn.cursor() as cur:
            cur.execute(statement)
        return failure.value.pgcode
    finally:
        conn.rollback()
        conn.close()


def run(url, statement: str):
    conn = psycopg2.connect(dsn(url))
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            rows = cur.fetchall() if cur.description else None
        conn.commit()
        return rows
    finally:
        conn.close()


def test_the_app_role_writes_orders_but_cannot_erase_or_unguard_the_history(role_app, roles):
    runner = role_app.test_cli_runner()
    created = runner.invoke(args=["users", "create", "--email", "boss@example.com", "--name", "Boss",
                                  "--role", "manager", "--password", "roles-test-password"])
    assert created.exit_code == 0, created.output
    client = role_app.test_client()
    token = client.post(LOGIN, json={"email": "boss@example.com", "password": "roles-test-password"}).json
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    product = client.post(PRODUCTS, json={"name": "Taco", "price": "25.00"}, headers=auth)
    assert product.status_code == 201, product.json
    order = client.post(ORDERS, json={"customer_name": "Ana", "items": [{"product_id": product.json["id"],
                                                                         "quantity": 2}]}, headers=auth)
    assert order.status_code == 201, order.json
    paid = client.post(f"{ORDERS}/{order.json['id']}/close", json={"payment_method": "cash"}, headers=auth)
    assert paid.status_code == 200, paid.json
    events = run(roles["app"], "SELECT count(*) FROM order_events")[0][0]
    assert events == 2
    # the close's payment entered the till's rollups (0014) as the app role: rows granted, no TRUNCATE
    till = "SELECT method, payments, amount_cents FROM report_payment_daily"
    assert run(roles["app"], till) == [("cash", 1, 5000)]
    assert run(roles["app"], "SELECT count(*) FROM report_payment_waiter_daily")[0][0] == 1
    assert refused(roles["app"], "TRUNCATE report_payment_daily") == INSUFFICIENT_PRIVILEGE

    app = roles["app"]
    for statement in (
        "UPDATE order_events SET type = type",
        "DELETE FROM order_events",
        "TRUNCATE order_events",
        "ALTER TABLE order_events DISABLE TRIGGER order_events_append_only",
        "DROP TRIGGER order_events_append_only ON order_events",
        "ALTER TABLE order_events ADD COLUMN note text",
        "DROP TABLE order_events",
        "TRUNCATE orders",
        "CREATE TABLE scratch (id int)",
        "UPDATE alembic_version SET version_num = 'x'",
    ):
        assert refused(app, statement) == INSUFFICIENT_PRIVILEGE, statement
    assert run(app, "SELECT count(*) FROM order_events")[0][0] == events
    assert run(roles["owner"], "SELECT count(*) FROM pg_trigger WHERE tgname = 'order_events_append_only'"
               " AND tgenabled = 'O'")[0][0] == 1


def test_tables_of_later_migrations_are_granted_and_append_only_ones_narrowed(role_app, roles, monkeypatch):
    """A later migration's tables reach the app through the default privileges; one named in
    APPEND_ONLY_TABLES (the feed's event table, say) loses UPDATE and DELETE at the upgrade."""
    from app import grants

    owner, app = roles["owner"], roles["app"]
    run(owner, "CREATE TABLE later_rows (id serial PRIMARY KEY, note text)")
    run(owner, "CREATE TABLE later_events (id serial PRIMARY KEY, note text)")
    monkeypatch.setattr(grants, "APPEND_ONLY_TABLES", [*grants.APPEND_ONLY_TABLES, "later_events"])
    with role_app.app_context():
        upgrade()  # nothing to migrate; the grants are enforced all the same
    for table in ("later_rows", "later_events"):
        run(app, f"INSERT INTO {table} (note) VALUES ('x')")  # noqa: S608 - fixed names
        assert run(app, f"SELECT note FROM {table}") == [("x",)]  # noqa: S608
    run(app, "UPDATE later_rows SET note = 'y'")
    run(app, "DELETE FROM later_rows")
    for statement in ("UPDATE later_events SET note = 'y'", "DELETE FROM later_events", "TRUNCATE later_events",
                      "TRUNCATE later_rows"):
        assert refused(app, statement) == INSUFFICIENT_PRIVILEGE, statement
