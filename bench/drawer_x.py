"""The live X of a drawer session with 2,000 payments, on PostgreSQL (issue 25: target < 20 ms).

1. A fresh database (`<BENCH_DATABASE or comanda_drawer_bench>`, rebuilt by `flask db upgrade`), one
   location with two drawers: the measured session holds --payments cash and card payments (and a
   refund per 20 orders), the other session and 30 earlier days hold --others payments, so a scan of
   the day's or the location's payments would read far more rows than the session has.
2. Measures end to end through the Flask test client (routing, JWT auth, SQL, JSON) the median of
   --runs `GET /api/v1/drawer-sessions/{id}/x` after a warm-up; the baseline in the same run is the
   straightforward computation by scanning the location's payments and refunds of the day (SQL only,
   `GROUP BY method` over payments JOIN orders on location and business date) and `GET
   /reports/payments` for that day.

    python bench/drawer_x.py            # postgresql://postgres@127.0.0.1:5432/comanda_drawer_bench
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from reports_data import bench_env, connect, ensure_database, migrate  # noqa: E402


def reset(db_name: str) -> None:
    conn = connect(db_name)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    conn.close()


def load(app, payments: int, others: int) -> tuple[int, int, str]:
    """The rows: returns (session id, location id, an admin's bearer token)."""
    from flask_jwt_extended import create_access_token
    from sqlalchemy import insert

    from app.extensions import db
    from app.locations.services import ensure_default_location
    from app.models import Drawer, DrawerSession, Order, Payment, Refund
    from app.users.services import UserInput, create_user

    with app.app_context():
        location = ensure_default_location()
        admin = create_user(UserInput(email="admin@bench.example", name="Admin", password="bench-password",  # noqa: S106
                                      role="admin"))
        db.session.commit()
        now = datetime.now(UTC)
        today = now.date()
        drawers = [Drawer(location_id=location.id, name=f"Caja {n}", active=True) for n in (1, 2)]
        db.session.add_all(drawers)
        db.session.flush()
        zero = {f"{n}_cents": 0 for n in ("cash_sales", "cash_tips", "cash_refunds", "pay_in", "pay_out",
                                          "safe_drop", "tip_out")}
        sessions = [DrawerSession(drawer_id=d.id, location_id=location.id, status="open", business_date=today,
                                  opened_by_id=admin.id, opened_at=now, opening_float_cents=100000, version=1,
                                  methods={}, orders_count=0, **zero)
                    for d in drawers]
        sessions[1].status = "closed"  # the other drawer's earlier shift
        db.session.add_all(sessions)
        db.session.commit()

        def orders_and_payments(count: int, session_id: int | None, days_back: int, folio_start: int) -> int:
            day = today - timedelta(days=days_back)
            rows = [{"customer_name": "Bench", "status": "closed", "waiter_id": admin.id, "location_id": location.id,
                     "tax_rate_thousandths": 0, "prices_include_tax": False, "subtotal_cents": 2500,
                     "discount_total_cents": 0, "tax_total_cents": 0, "total_cents": 2500, "tip_total_cents": 100,
                     "paid_total_cents": 2500, "refund_total_cents": 0, "item_count": 1, "payment_method": "cash",
                     "business_date": day, "local_hour": datetime(day.year, day.month, day.day, 20),
                     "created_at": now, "updated_at": now, "closed_at": now, "version": 3,
                     "folio": folio_start + n} for n in range(count)]
            ids = list(db.session.scalars(insert(Order).returning(Order.id), rows))
            db.session.execute(insert(Payment), [
                {"order_id": oid, "method": "cash" if n % 3 else "card", "amount_cents": 2500, "tip_cents": 100,
                 "business_date": day, "created_by_id": admin.id, "created_at": now, "drawer_session_id": session_id}
                for n, oid in enumerate(ids)])
            db.session.execute(insert(Refund), [
                {"order_id": oid, "amount_cents": 500, "tax_cents": 0, "tip_cents": 0, "method": "cash", "reason": "b",
                 "business_date": day, "created_by_id": admin.id, "created_at": now, "drawer_session_id": session_id}
                for oid in ids[::20]])
            db.session.commit()
            return folio_start + count

        folio = orders_and_payments(payments, sessions[0].id, 0, 1)
        per_day = max(1, others // 31)
        folio = orders_and_payments(per_day, sessions[1].id, 0, folio)
        for back in range(1, 31):
            folio = orders_and_payments(per_day, None, back, folio)
        cash = [n for n in range(payments) if n % 3]
        refunds = len(range(0, payments, 20))
        s = db.session.get(DrawerSession, sessions[0].id)
        s.cash_sales_cents, s.cash_tips_cents = 2500 * len(cash), 100 * len(cash)
        s.cash_refunds_cents, s.version = 500 * refunds, 1 + payments + refunds
        s.methods = {"cash": {"payments": len(cash), "amount": 2500 * len(cash), "tips": 100 * len(cash),
                              "refunds": 500 * refunds},
                     "card": {"payments": payments - len(cash), "amount": 2500 * (payments - len(cash)),
                              "tips": 100 * (payments - len(cash)), "refunds": 0}}
        s.orders_count, s.first_folio, s.last_folio = payments, 1, payments
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        return sessions[0].id, location.id, create_access_token(identity=admin)


def median_ms(call, runs: int) -> float:
    for _ in range(5):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--others", type=int, default=60000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    db_name = os.environ.get("BENCH_DATABASE", "comanda_drawer_bench")
    env = bench_env(db_name)
    ensure_database(db_name)
    reset(db_name)
    migrate(env)
    os.environ.update(env)
    from app import create_app

    app = create_app("production")
    session_id, location_id, token = load(app, args.payments, args.others)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    today = datetime.now(UTC).date().isoformat()

    def x() -> None:
        resp = client.get(f"/api/v1/drawer-sessions/{session_id}/x", headers=headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)

    def report() -> None:
        resp = client.get(f"/api/v1/reports/payments?location_id={location_id}&start_date={today}&end_date={today}",
                          headers=headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)

    def floor() -> None:  # the framework's floor: an authenticated read of one row
        resp = client.get(f"/api/v1/locations/{location_id}", headers=headers)
        assert resp.status_code == 200

    conn = connect(db_name)
    scan_sql = ("SELECT p.method, count(*), sum(p.amount_cents), sum(p.tip_cents) FROM payments p "
                "JOIN orders o ON o.id = p.order_id WHERE o.location_id = %s AND p.business_date BETWEEN %s AND %s "
                "GROUP BY p.method")
    month_ago = (datetime.now(UTC).date() - timedelta(days=30)).isoformat()

    def scan() -> None:
        with conn.cursor() as cur:
            cur.execute(scan_sql, (location_id, month_ago, today))
            cur.fetchall()

    figures = client.get(f"/api/v1/drawer-sessions/{session_id}/x", headers=headers).json["figures"]
    floor_ms, x_ms = median_ms(floor, args.runs), median_ms(x, args.runs)
    report_ms, scan_ms = median_ms(report, args.runs), median_ms(scan, args.runs)
    print(f"session payments: {args.payments} (+{args.others} other payments at the location over 31 days)")
    with conn.cursor() as cur:  # the running totals the loader set agree with a recount of the rows
        cur.execute("SELECT method, count(*), sum(amount_cents) FROM payments WHERE drawer_session_id = %s "
                    "GROUP BY method ORDER BY method", (session_id,))
        recount = [(m, n, f"{a / 100:.2f}") for m, n, a in cur.fetchall()]
    assert recount == [(r["method"], r["payments"], r["amount"]) for r in figures["by_method"]], recount
    print(f"X figures: cash_sales {figures['cash_sales']}, by_method {figures['by_method']}, "
          f"orders {figures['orders']}")
    print(f"GET /drawer-sessions/{{id}}/x          median {x_ms:.2f} ms over {args.runs} runs (target < 20 ms)")
    print(f"GET /locations/{{id}} (the floor)       median {floor_ms:.2f} ms")
    print(f"GET /reports/payments (that day)       median {report_ms:.2f} ms")
    print(f"raw scan of the location's 31 days     median {scan_ms:.2f} ms (SQL only)")


if __name__ == "__main__":
    main()
