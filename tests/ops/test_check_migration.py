"""0003_check migrates v1 orders to consistent check figures; v1 answers stay the same."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.conftest import make_config
from tests.ops.test_migrations import fresh_database  # noqa: F401

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


def _v1_rows(conn) -> None:
    conn.execute(sa.text(
        "INSERT INTO users (id, email, name, role, password_hash, active, token_version, created_at, updated_at) "
        "VALUES (1, 'w@example.com', 'Luis', 'waiter', 'x', :t, 0, :now, :now)"), {"now": NOW, "t": True})
    conn.execute(sa.text(
        "INSERT INTO products (id, name, name_key, price_cents, active, created_at, updated_at) "
        "VALUES (1, 'Taco', 'taco', 2500, :t, :now, :now)"), {"now": NOW, "t": True})
    for oid, status, method, total in ((1, "open", None, 5000), (2, "closed", "card", 7500),
                                       (3, "cancelled", "cash", 2500)):
        conn.execute(sa.text(
            "INSERT INTO orders (id, customer_name, status, waiter_id, total_cents, item_count, payment_method, "
            "business_date, local_hour, created_at, updated_at, closed_at, version) VALUES (:id, 'Ana', :status, "
            "1, :total, 1, :method, :day, :hour, :now, :now, :closed, 2)"),
            {"id": oid, "status": status, "total": total, "method": method, "day": date(2026, 11, 20),
             "hour": datetime(2026, 11, 20, 20), "now": NOW, "closed": NOW if method else None})
        conn.execute(sa.text(
            "INSERT INTO order_items (order_id, product_id, product_name, unit_price_cents, quantity, voided, "
            "created_at) VALUES (:id, 1, 'Taco', 2500, :q, :f, :now)"),
            {"id": oid, "q": total // 2500, "now": NOW, "f": False})
        conn.execute(sa.text(
            "INSERT INTO order_items (order_id, product_id, product_name, unit_price_cents, quantity, voided, "
            "created_at) VALUES (:id, 1, 'Taco', 2500, 1, :t, :now)"), {"id": oid, "now": NOW, "t": True})


def test_existing_orders_migrate_to_consistent_values(fresh_database):  # noqa: F811
    app = create_app(make_config(fresh_database))
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            _v1_rows(conn)
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM order_items")).scalar() == 6
            orders = conn.execute(sa.text(
                "SELECT id, subtotal_cents, total_cents, discount_total_cents, tax_total_cents, paid_total_cents, "
                "tip_total_cents, refund_total_cents, tax_rate_thousandths, payment_method "
                "FROM orders ORDER BY id")).all()
            assert [tuple(o) for o in orders] == [
                (1, 5000, 5000, 0, 0, 0, 0, 0, 0, None),
                (2, 7500, 7500, 0, 0, 7500, 0, 0, 0, "card"),
                (3, 2500, 2500, 0, 0, 0, 0, 0, 0, "cash"),
            ]
            payments = conn.execute(sa.text(
                "SELECT order_id, method, amount_cents, tip_cents, created_by_id, business_date FROM payments")).all()
            assert [tuple(p[:5]) for p in payments] == [(2, "card", 7500, 0, 1)]
            assert str(payments[0][5]) == "2026-11-20"
            lines = conn.execute(sa.text(
                "SELECT order_id, voided, net_cents, discount_cents, tax_cents, modifiers FROM order_items "
                "ORDER BY id")).all()
            live = [(line[0], line[2]) for line in lines if not line[1]]
            assert live == [(1, 5000), (2, 7500), (3, 2500)]
            assert all(line[3] == line[4] == 0 for line in lines)
            assert all(line[5] in ([], "[]") for line in lines)
        downgrade(revision="0001")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT payment_method FROM orders WHERE id = 2")).scalar() == "card"
            # no data lost on the way down either (SQLite: no table is recreated, nothing cascades)
            assert conn.execute(sa.text("SELECT count(*) FROM order_items")).scalar() == 6
        db.engine.dispose()
