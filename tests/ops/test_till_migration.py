"""0014_till_rollups: the till's rollups are created and backfilled from the payments and refunds
already there (cancelled orders included, each on its own business date), on SQLite and PostgreSQL;
`/reports/payments` answers the same before the migration's downgrade and after it ran again."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.business_time import today
from app.extensions import db
from app.models import OrderItem
from tests.conftest import make_config
from tests.factories import Factory
from tests.invariants import assert_rollups_match_rows
from tests.ops.test_migrations import fresh_database  # noqa: F401
from tests.reports.orderkit import HttpDriver, Line

TILL = ("report_payment_daily", "report_payment_waiter_daily", "report_payment_monthly",
        "report_payment_waiter_monthly")


def _till_rows(conn) -> list[tuple]:
    return sorted(tuple(row) for row in conn.execute(sa.text(
        "SELECT business_date, location_id, waiter_id, method, SUM(payments), SUM(amount_cents), SUM(tip_cents), "
        "SUM(refunds), SUM(refund_cents) FROM report_payment_waiter_daily "
        "GROUP BY business_date, location_id, waiter_id, method")))


def test_the_till_rollups_are_backfilled_from_existing_payments_and_refunds(fresh_database):  # noqa: F811
    app = create_app(make_config(fresh_database))
    with app.app_context():
        upgrade()
        factory, client = Factory(), app.test_client()
        kit = HttpDriver(client, factory)
        waiters = [factory.make_user("waiter", name=name) for name in ("Luis", "Ana")]
        dishes = [factory.make_product("Taco", "25.00"), factory.make_product("Agua", "0.00")]
        first = kit.create(waiters[0], [Line(dishes[0].id, 2), Line(dishes[1].id, 1)])
        kit.pay(first, "card", 2000, 300)
        kit.close_with(first, "cash", 150)
        items = [i for i, in db.session.execute(sa.select(OrderItem.id).where(OrderItem.order_id == first)
                                                 .order_by(OrderItem.id))]
        kit.refund(first, [(items[0], 1)], method="card", days_later=1)
        kit.refund(first, [(items[1], 1)], method="other")  # a free line: a refund of 0.00, still a row
        second = kit.create(waiters[1], [Line(dishes[0].id, 3)])
        kit.close_with(second, "card", 500)
        kit.cancel(second)  # a closed order cancelled: its payment stays, its refund returns the tip too
        third = kit.create(waiters[1], [Line(dishes[0].id, 1)])
        kit.pay(third, "cash", 1000)
        kit.cancel(third)  # an open order with a payment cancelled: paid back
        headers, ana = factory.headers(kit.staff), waiters[1].id
        query = {"start_date": (today() - timedelta(days=1)).isoformat(),
                 "end_date": (today() + timedelta(days=2)).isoformat()}

        def reports() -> list:
            answers = []
            for extra in ({}, {"waiter_id": ana}, {"format": "csv"}):
                resp = client.get("/api/v1/reports/payments", query_string=query | extra, headers=headers)
                assert resp.status_code == 200
                answers.append(resp.get_data(as_text=True))
            return answers

        before = reports()
        assert [row["method"] for row in json.loads(before[0])["data"]] == ["card", "cash", "other"]
        with db.engine.connect() as conn:
            written = _till_rows(conn)
        assert len(written) == 6
        db.session.remove()

        downgrade(revision="0013_bigint_v12_refs")
        assert not set(TILL) & set(sa.inspect(db.engine).get_table_names())
        upgrade()
        with db.engine.connect() as conn:
            assert _till_rows(conn) == written
            for monthly in TILL[2:]:
                assert conn.execute(sa.text(f"SELECT count(*) FROM {monthly}")).scalar() == 0  # noqa: S608
        assert_rollups_match_rows(("payments", "payment_waiters"))
        assert reports() == before
        db.session.remove()
        db.engine.dispose()
