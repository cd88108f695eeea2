"""Migration 0002_locations on a database that holds v1 data: every order, report and total reads the
same afterwards, the default location is made from the business clock, and downgrade restores v1."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_jwt_extended import create_access_token
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from app.models import User
from tests.conftest import make_config
from tests.helpers import v1_totals as v1_report_totals
from tests.ops.test_migrations import fresh_database  # noqa: F401  (fixture)

ZONE, START = "America/Mexico_City", "04:00"
NOV = date(2026, 11, 21)
OCT = date(2026, 10, 12)  # October is folded into the monthly rollups, as `flask reports compact` leaves it
# (order id, waiter id, status, business date, local hour, [(product id, quantity, unit cents, voided)])
ORDERS = [
    (1, 3, "open", NOV, 13, [(1, 2, 2500, False), (2, 1, 2550, False)]),
    (2, 3, "closed", NOV, 14, [(1, 1, 2500, False), (3, 1, 14000, True)]),
    (3, 4, "closed", NOV, 20, [(3, 2, 14000, False)]),
    (4, 4, "cancelled", NOV, 21, [(1, 5, 2500, False)]),
    (5, 2, "open", NOV, 2, [(2, 1, 2550, True)]),  # every line voided: counts nowhere
    (6, 3, "closed", OCT, 14, [(1, 4, 2500, False), (2, 2, 2550, False)]),
    (7, 4, "open", OCT, 20, [(3, 1, 14000, False)]),
    (8, 4, "closed", date(2026, 11, 22), 3, [(2, 3, 2550, False)]),
]


def v1_rows(conn) -> None:
    """Users, products, orders, lines and the rollup rows v1 kept for them."""
    stamp = datetime(2026, 11, 1, 12)
    users = [(1, "admin"), (2, "manager"), (3, "waiter"), (4, "waiter")]
    conn.execute(sa.text("INSERT INTO users (id, email, name, role, password_hash, active, token_version, created_at, "
                         "updated_at) VALUES (:id, :email, :name, :role, 'x', true, 1, :t, :t)"),
                 [{"id": i, "email": f"u{i}@example.com", "name": f"User {i}", "role": r, "t": stamp}
                  for i, r in users])
    conn.execute(sa.text("INSERT INTO products (id, name, name_key, price_cents, active, created_at, updated_at) "
                         "VALUES (:id, :name, :key, :price, true, :t, :t)"),
                 [{"id": i, "name": n, "key": n.lower(), "price": p, "t": stamp}
                  for i, n, p in ((1, "Taco", 2500), (2, "Agua", 2550), (3, "Mole", 14000))])
    products, waiters, hours = defaultdict(lambda: [0, 0, 0]), defaultdict(lambda: [0, 0, 0]), defaultdict(
        lambda: [0, 0, 0])
    item_id = 0
    for oid, wid, status, day, hour, lines in ORDERS:
        live = [line for line in lines if not line[3]]
        total, count = sum(q * c for _, q, c, _ in live), sum(q for _, q, _, _ in live)
        local = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)
        conn.execute(sa.text(
            "INSERT INTO orders (id, customer_name, status, waiter_id, total_cents, item_count, business_date, "
            "local_hour, created_at, updated_at, version) VALUES (:id, 'Ana', :status, :wid, :total, :count, :day, "
            ":hour, :t, :t, 1)"), {"id": oid, "status": status, "wid": wid, "total": total, "count": count,
                                    "day": day, "hour": local, "t": stamp})
        for pid, q, c, voided in lines:
            item_id += 1
            conn.execute(sa.text(
                "INSERT INTO order_items (id, order_id, product_id, product_name, unit_price_cents, quantity, "
                "voided, created_at) VALUES (:id, :oid, :pid, 'x', :c, :q, :v, :t)"),
                {"id": item_id, "oid": oid, "pid": pid, "c": c, "q": q, "v": voided, "t": stamp})
        if status == "cancelled" or not live:
            continue
        closed = status == "closed"
        for pid in {line[0] for line in live}:
            sums = products[(day, pid, closed)]
            sums[0] += sum(q for p, q, _, _ in live if p == pid)
            sums[1] += sum(q * c for p, q, c, _ in live if p == pid)
            sums[2] += 1
        for acc, key in ((waiters, (day, wid, closed)), (hours, (day, local, closed))):
            acc[key][0] += 1
            acc[key][1] += count
            acc[key][2] += total
    for table, acc, cols, month_table, month_key in (
        ("report_product_daily", products, ("product_id", "quantity", "revenue_cents", "orders"),
         "report_product_monthly", lambda k: {"product_id": k[1]}),
        ("report_waiter_daily", waiters, ("waiter_id", "orders", "items", "revenue_cents"),
         "report_waiter_monthly", lambda k: {"waiter_id": k[1]}),
        ("report_sales_hourly", hours, ("local_hour", "orders", "items", "revenue_cents"),
         "report_sales_monthly", lambda k: {}),
    ):
        for (day, key, closed), values in acc.items():
            folded = day.month == 10
            row = dict(zip(cols, (key, *values), strict=True)) | {"business_date": day, "closed": closed,
                                                                   "folded": folded}
            columns, values_ = ", ".join(row), ", ".join(":" + c for c in row)
            conn.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({values_})"), row)  # noqa: S608
            if folded:
                monthly = {"month": day.replace(day=1), "closed": closed, **month_key((day, key)),
                           **dict(zip(cols[1:], values, strict=True))}
                columns, values_ = ", ".join(monthly), ", ".join(":" + c for c in monthly)
                conn.execute(sa.text(f"INSERT INTO {month_table} ({columns}) VALUES ({values_})"), monthly)  # noqa: S608


# The v1 columns of a line (0003_check adds modifiers, tax and discount figures after them).
V1_ITEM_COLUMNS = ("id, order_id, product_id, product_name, unit_price_cents, quantity, notes, voided, voided_at, "
                   "created_at")
V1_ORDER_COLUMNS = ("id, customer_name, status, waiter_id, total_cents, item_count, business_date, local_hour, "
                    "created_at, version")
SUMS = {
    "report_product_daily": "SUM(quantity), SUM(revenue_cents), SUM(orders)",
    "report_product_monthly": "SUM(quantity), SUM(revenue_cents), SUM(orders)",
    "report_waiter_daily": "SUM(orders), SUM(items), SUM(revenue_cents)",
    "report_waiter_monthly": "SUM(orders), SUM(items), SUM(revenue_cents)",
    "report_sales_hourly": "SUM(orders), SUM(items), SUM(revenue_cents)",
    "report_sales_monthly": "SUM(orders), SUM(items), SUM(revenue_cents)",
}


def snapshot(conn) -> dict:
    """The v1 columns of every order and line, and every rollup table's totals."""
    return {
        "orders": conn.execute(sa.text(f"SELECT {V1_ORDER_COLUMNS} FROM orders ORDER BY id")).all(),  # noqa: S608
        "items": conn.execute(sa.text(f"SELECT {V1_ITEM_COLUMNS} FROM order_items ORDER BY id")).all(),  # noqa: S608
        **{table: tuple(conn.execute(sa.text(f"SELECT {sums} FROM {table}")).one())  # noqa: S608
           for table, sums in SUMS.items()},
    }


def read_totals(conn) -> dict:
    """What the rollups add up to the way every reader sums them: monthly rows plus unfolded daily rows."""
    totals = {}
    for daily, monthly in (("report_product_daily", "report_product_monthly"),
                           ("report_waiter_daily", "report_waiter_monthly"),
                           ("report_sales_hourly", "report_sales_monthly")):
        day = conn.execute(sa.text(f"SELECT {SUMS[daily]} FROM {daily} WHERE NOT folded")).one()  # noqa: S608
        month = conn.execute(sa.text(f"SELECT {SUMS[monthly]} FROM {monthly}")).one()  # noqa: S608
        totals[daily] = tuple((a or 0) + (b or 0) for a, b in zip(day, month, strict=True))
    return totals


def reports(client, headers) -> list[dict]:
    answers = []
    for name, extra in (("products", {}), ("waiters", {}), ("sales", {}), ("sales", {"status": "closed"})):
        resp = client.get(f"/api/v1/reports/{name}", query_string={"start_date": "2026-10-01",
                                                                    "end_date": "2026-11-25", **extra}, headers=headers)
        assert resp.status_code == 200, resp.json
        answers.append({k: resp.json[k] for k in ("totals", "data")})
    hourly = client.get("/api/v1/reports/sales", query_string={"start_date": "2026-11-21", "end_date": "2026-11-21",
                                                               "granularity": "hour"}, headers=headers)
    answers.append({k: hourly.json[k] for k in ("totals", "data")})
    return answers


def expected_totals() -> dict:
    """Brute force over ORDERS: what the v1 reports said for 2026-10-01..2026-11-25."""
    orders = items = revenue = 0
    for _, _, status, _, _, lines in ORDERS:
        live = [line for line in lines if not line[3]]
        if status == "cancelled" or not live:
            continue
        orders += 1
        items += sum(q for _, q, _, _ in live)
        revenue += sum(q * c for _, q, c, _ in live)
    return {"orders": orders, "items": items, "revenue": f"{revenue // 100}.{revenue % 100:02d}"}


def test_upgrade_keeps_every_order_report_and_total_and_downgrade_restores_v1(fresh_database):  # noqa: F811
    app = create_app(make_config(fresh_database, BUSINESS_TIMEZONE=ZONE, BUSINESS_DAY_STARTS_AT=START))
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            v1_rows(conn)
            before, v1_totals = snapshot(conn), read_totals(conn)
        upgrade()
        with db.engine.connect() as conn:
            assert snapshot(conn) == before
            location = conn.execute(sa.text("SELECT id, name, timezone, day_starts_at, tax_rate_thousandths, "
                                            "prices_include_tax, active, is_default FROM locations")).all()
            assert [tuple(row[1:]) for row in location] == [("Main", ZONE, START, 0, False, True, True)]
            main_id = location[0][0]
            assert conn.execute(sa.text("SELECT DISTINCT location_id FROM orders")).scalars().all() == [main_id]
            members = conn.execute(sa.text("SELECT user_id, location_id FROM user_locations ORDER BY user_id")).all()
            assert [tuple(row) for row in members] == [(2, main_id), (3, main_id), (4, main_id)]  # not the admin
            for table in SUMS:
                query = sa.text(f"SELECT DISTINCT location_id FROM {table}")  # noqa: S608
                assert conn.execute(query).scalars().all() == [main_id]

        client = app.test_client()
        admin = db.session.get(User, 1)
        headers = {"Authorization": f"Bearer {create_access_token(identity=admin)}"}
        answers = reports(client, headers)
        assert v1_report_totals(answers[2]["totals"]) == expected_totals()  # /sales over both months: the v1 figures
        assert answers[2]["totals"]["gross"] == expected_totals()["revenue"]  # 0004: gross = revenue for v1 data
        assert answers[0]["totals"]["revenue"] == answers[1]["totals"]["revenue"] == expected_totals()["revenue"]
        for oid, _, status, day, _, lines in ORDERS:
            order = client.get(f"/api/v1/orders/{oid}", headers=headers).json
            live = [line for line in lines if not line[3]]
            assert (order["status"], order["business_date"], order["location_id"]) == (status, day.isoformat(),
                                                                                        main_id)
            assert order["total"] == f"{sum(q * c for _, q, c, _ in live) / 100:.2f}"
        listed = client.get("/api/v1/orders", query_string={"limit": 200}, headers=headers).json["data"]
        assert len(listed) == len(ORDERS)

        # The rollups the migration kept agree with the raw orders, folded or rebuilt.
        runner = app.test_cli_runner()
        db.session.remove()
        assert runner.invoke(args=["reports", "compact"]).exit_code == 0
        assert reports(client, headers) == answers
        db.session.remove()
        result = runner.invoke(args=["reports", "rebuild", "--start", "2026-10-01", "--end", "2026-11-30"])
        assert result.exit_code == 0, result.output
        assert reports(client, headers) == answers

        db.session.remove()
        downgrade(revision="0001")
        with db.engine.connect() as conn:
            assert snapshot(conn)["orders"] == before["orders"]
            assert snapshot(conn)["items"] == before["items"]
            tables = set(sa.inspect(conn).get_table_names())
            assert "locations" not in tables and "user_locations" not in tables
            assert "location_id" not in {c["name"] for c in sa.inspect(conn).get_columns("orders")}
            # after compact and rebuild the rows differ, but they add up as the v1 readers sum them to the same
            assert read_totals(conn) == v1_totals
        upgrade()  # and up again
        db.engine.dispose()
