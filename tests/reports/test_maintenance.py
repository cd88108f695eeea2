"""`flask reports rebuild` and `flask reports compact`: exact, and safe next to order writes."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from app.business_time import today
from app.extensions import db
from app.models import Order, OrderItem, PaymentDaily, PaymentWaiterDaily, ProductDaily, SalesHourly, WaiterDaily
from app.reports import maintenance
from tests.reports.orderkit import Line, ServiceDriver

ROLLUP_MODELS = (ProductDaily, WaiterDaily, SalesHourly, PaymentDaily, PaymentWaiterDaily)


def row_counts() -> list[int]:
    return [db.session.scalar(select(func.count()).select_from(m)) for m in ROLLUP_MODELS]


@pytest.fixture
def history(kit, dishes, waiters):
    """A week of orders with every kind of change."""
    now = datetime.now(UTC)
    ids = kit.batch(waiters[0], [([Line(dishes[d % 3].id, d + 1), Line(dishes[0].id, 1)], now - timedelta(days=d))
                                 for d in range(7)])
    kit.append(ids[1], [Line(dishes[2].id, 2)])
    kit.close(ids[2])
    kit.cancel(ids[3])
    kit.void(ids[4], db.session.scalar(select(OrderItem.id).where(OrderItem.order_id == ids[4])))
    kit.close(ids[5])
    kit.close(ids[6])
    kit.cancel(ids[6])  # a closed order cancelled: its payment and its refund stay in the till
    kit.append(ids[0], [Line(dishes[1].id, 1)])
    kit.create(waiters[1], [Line(dishes[1].id, 3)])
    return ids


def all_reports(report, user) -> list[dict]:
    start, end = (today() - timedelta(days=10)).isoformat(), today().isoformat()
    bodies = []
    for name, extra in (("products", {}), ("waiters", {}), ("sales", {}), ("sales", {"granularity": "hour"})):
        for status in (None, "closed", "open"):
            resp = report(user, name, start_date=start, end_date=end, status=status, **extra)
            assert resp.status_code == 200
            bodies.append(resp.json)
    waiter_id = db.session.scalar(select(Order.waiter_id).limit(1))
    for extra in ({}, {"waiter_id": waiter_id}):  # the till: no status
        resp = report(user, "payments", start_date=start, end_date=end, **extra)
        assert resp.status_code == 200
        bodies.append(resp.json)
    return bodies


def run(app, *args) -> str:
    result = app.test_cli_runner().invoke(args=["reports", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_rebuild_changes_no_report(app, history, manager, report):
    before = all_reports(report, manager)
    start, end = (today() - timedelta(days=10)).isoformat(), today().isoformat()
    output = run(app, "rebuild", "--start", start, "--end", end)
    assert "products " in output and " rows" in output
    assert all_reports(report, manager) == before
    assert run(app, "rebuild", "--start", start, "--end", end)  # twice: still the same
    assert all_reports(report, manager) == before


def test_rebuild_repairs_lost_rows_in_its_range_only(app, history, manager, report):
    before = all_reports(report, manager)
    for model in ROLLUP_MODELS:
        db.session.execute(delete(model))
    db.session.commit()
    assert all_reports(report, manager) != before
    yesterday = (today() - timedelta(days=1)).isoformat()
    run(app, "rebuild", "--start", (today() - timedelta(days=60)).isoformat(), "--end", yesterday)
    partial = report(manager, "products", start_date=today().isoformat(), end_date=today().isoformat()).json
    assert partial["data"] == []  # today was outside the rebuilt range
    run(app, "rebuild", "--start", today().isoformat(), "--end", today().isoformat())
    assert all_reports(report, manager) == before


def test_rebuild_rejects_a_reversed_range(app):
    result = app.test_cli_runner().invoke(args=["reports", "rebuild", "--start", "2026-02-01", "--end", "2026-01-01"])
    assert result.exit_code != 0 and "after" in result.output


def test_compact_changes_no_report_and_folds_rows(app, history, manager, report):
    before = all_reports(report, manager)
    rows_before = row_counts()
    output = run(app, "compact")
    assert "folded" in output
    rows_after = row_counts()
    assert all(a < b for a, b in zip(rows_after, rows_before, strict=True))
    assert all_reports(report, manager) == before
    # one row per key now, and no row that sums to zero
    t = ProductDaily
    keys = db.session.execute(select(t.business_date, t.product_id, t.closed, func.count())
                              .group_by(t.business_date, t.product_id, t.closed)).all()
    assert all(n == 1 for *_, n in keys)
    assert db.session.scalar(select(func.count()).select_from(t).where(t.quantity == 0, t.orders == 0)) == 0
    assert run(app, "compact") and row_counts() == rows_after  # idempotent


def test_compact_before_a_date_leaves_later_rows(app, history, manager, report, kit, waiters, dishes):
    before = all_reports(report, manager)
    kit.create(waiters[2], [Line(dishes[0].id, 1)])
    kit.create(waiters[2], [Line(dishes[0].id, 1)])
    today_rows = db.session.scalar(select(func.count()).select_from(WaiterDaily)
                                   .where(WaiterDaily.business_date == today()))
    run(app, "compact", "--before", today().isoformat())
    assert db.session.scalar(select(func.count()).select_from(WaiterDaily)
                             .where(WaiterDaily.business_date == today())) == today_rows
    after = all_reports(report, manager)
    assert after != before and after[3]["totals"]["orders"] == before[3]["totals"]["orders"] + 2


def test_compaction_is_exact_next_to_concurrent_writes(app, postgres_only, dishes, waiters, manager, report,
                                                       monkeypatch):
    """Orders keep arriving (each its own transaction) while compact and rebuild run over and over."""
    source = maintenance.rollup_source

    def slow_source(*args):  # widen the window between the rebuild's DELETE and its INSERT ... SELECT
        time.sleep(0.02)
        return source(*args)

    monkeypatch.setattr(maintenance, "rollup_source", slow_source)
    stop = threading.Event()
    errors: list[BaseException] = []
    rounds = []
    menu_ids, waiter_ids, manager_id = [p.id for p in dishes], [w.id for w in waiters], manager.id

    def writer(n: int) -> None:
        with app.app_context():
            from app.models import User

            kit = ServiceDriver(staff=db.session.get(User, manager_id))
            try:
                for i in range(60):
                    waiter = db.session.get(User, waiter_ids[(n + i) % 3])
                    oid = kit.create(waiter, [Line(menu_ids[i % 3], 1 + i % 4), Line(menu_ids[0], 1)])
                    if i % 3 == 0:
                        kit.close(oid)
                    if i % 7 == 0:
                        kit.cancel(oid)
            except BaseException as exc:  # surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    def maintainer() -> None:
        with app.app_context():
            try:
                while not stop.is_set():
                    maintenance.compact()
                    maintenance.rebuild(today() - timedelta(days=1), today())
                    db.session.commit()
                    rounds.append(1)
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    janitor = threading.Thread(target=maintainer)
    janitor.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    janitor.join()
    assert not errors, errors
    assert len(rounds) >= 3, "maintenance never overlapped the writes"
    from tests.reports import oracle

    lines = oracle.load_lines()
    day = today()
    for name, expected in (("products", oracle.products), ("waiters", oracle.waiters), ("sales", oracle.sales),
                           ("payments", oracle.payments)):
        got = report(manager, name, start_date=day.isoformat(), end_date=day.isoformat()).json
        assert {k: got[k] for k in ("totals", "data")} == {
            k: v for k, v in expected(lines, day, day).items() if k in ("totals", "data")}
