"""Schema only through migrations: upgrade, downgrade to base, upgrade again; models agree."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from config import normalize_database_url
from tests.conftest import make_config


@pytest.fixture
def fresh_database(backend, tmp_path):
    """An empty database of the current backend, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'mig.db'}"
        return
    server = sa.create_engine(normalize_database_url(os.environ["TEST_DATABASE_URL"]), isolation_level="AUTOCOMMIT")
    name = f"comanda_mig_{uuid.uuid4().hex[:8]}"
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade_and_models_match(fresh_database):
    app = create_app(make_config(fresh_database))
    with app.app_context():
        upgrade()
        expected = {table.name for table in db.metadata.sorted_tables}
        assert tables(db.engine) == expected
        downgrade(revision="base")
        assert tables(db.engine) == set()
        upgrade()
        assert tables(db.engine) == expected
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        db.engine.dispose()


# Every id that grows with orders, and every column pointing at one (0007_bigint_ids).
BIG_IDS = {
    "orders": ("id",), "order_items": ("id", "order_id"), "order_discounts": ("id", "order_id", "item_id"),
    "payments": ("id", "order_id"), "refunds": ("id", "order_id"), "refund_items": ("id", "refund_id", "item_id"),
    "order_events": ("id", "order_id"), "idempotency_keys": ("id",),
}


def test_ids_that_grow_with_orders_are_bigint_on_postgresql(app, backend):
    if backend != "postgresql":
        pytest.skip("SQLite's INTEGER is 64-bit already")
    with db.engine.connect() as conn:
        types = dict(((t, c), d) for t, c, d in conn.execute(sa.text(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema()")))
        sequences = {name: type_ for name, type_ in conn.execute(sa.text(
            "SELECT sequencename, data_type::text FROM pg_sequences WHERE schemaname = current_schema()"))}
    for table, columns in BIG_IDS.items():
        for column in columns:
            assert types[table, column] == "bigint", (table, column)
        assert sequences[f"{table}_id_seq"] == "bigint", table


def test_an_order_id_past_two_to_the_31_works(app, backend, factory, client):
    """Ids past INTEGER's range are stored, read back and reachable by URL (SQLite: the rowid is 64-bit)."""
    from app.models import Order
    from tests.constants import ORDERS

    waiter, product = factory.make_user("waiter"), factory.make_product(price="10.00")
    start = 2**31 + 5
    if backend == "postgresql":
        for table in BIG_IDS:
            db.session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {start})"))
        db.session.commit()
    else:  # a row at a big id: the next one follows it
        body = {"customer_name": "Seed", "items": [{"product_id": product.id, "quantity": 1}]}
        first = client.post(ORDERS, json=body, headers=factory.headers(waiter)).json["id"]
        db.session.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
        for table, column in (("orders", "id"), ("order_items", "order_id"), ("order_events", "order_id")):
            db.session.execute(sa.text(f"UPDATE {table} SET {column} = :big WHERE {column} = :id"),  # noqa: S608
                               {"big": start, "id": first})
        db.session.commit()
    headers = factory.headers(waiter)
    resp = client.post(ORDERS, json={"customer_name": "Big", "items": [{"product_id": product.id, "quantity": 2}]},
                       headers=headers)
    assert resp.status_code == 201, resp.json
    order_id, item_id = resp.json["id"], resp.json["items"][0]["id"]
    assert order_id > 2**31 and (backend == "sqlite" or item_id > 2**31)
    assert client.get(f"{ORDERS}/{order_id}", headers=headers).status_code == 200
    assert client.delete(f"{ORDERS}/{order_id}/items/{item_id}", headers=headers).status_code == 200
    assert db.session.get(Order, order_id).items[0].order_id == order_id


def test_bodies_that_name_an_order_or_a_line_take_ids_past_two_to_the_31(app, backend, factory, client):
    """Merge's from_order_id and split's item_id are 64-bit like the ids they name (they were capped at
    2^31-1: a chain past that many orders could not merge or split). PostgreSQL: the sequences start past it."""
    from tests.constants import ORDERS

    if backend != "postgresql":
        pytest.skip("SQLite's INTEGER is 64-bit already; the schemas are the same code")
    for table in BIG_IDS:
        db.session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {2**31 + 5})"))
    db.session.commit()
    waiter, product = factory.make_user("waiter"), factory.make_product(price="10.00")
    headers = factory.headers(waiter)
    body = {"customer_name": "Big", "items": [{"product_id": product.id, "quantity": 2}]}
    first, second = (client.post(ORDERS, json=body, headers=headers).json for _ in range(2))
    item_id = first["items"][0]["id"]
    assert item_id > 2**31
    split_body = {"by": "items", "items": [{"item_id": item_id, "quantity": 1}]}
    split = client.post(f"{ORDERS}/{first['id']}/split", json=split_body,
                        headers={**headers, "If-Match": f'"{first["version"]}"'})
    assert split.status_code == 201, split.json
    merge = client.post(f"{ORDERS}/{first['id']}/merge", json={"from_order_id": second["id"]},
                        headers={**headers, "If-Match": f'"{split.json["source"]["version"]}"'})
    assert merge.status_code == 200, merge.json
