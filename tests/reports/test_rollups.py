"""contribution() and record(): the delta rows the order services write."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.figures import rollups
from app.figures.rollups import EMPTY, contribution, deltas, record
from app.models import Order, OrderItem, Payment, ProductDaily, Refund, SalesHourly, WaiterDaily
from tests.reports.orderkit import Line

DAY = date(2026, 11, 21)
HOUR = datetime(2026, 11, 21, 20)
LOC = 1  # v1.1: every rollup key names the order's location, right after the business date


def make_order(status="open", lines=((1, 2, 2500, False),), waiter_id=7) -> Order:
    """An in-memory order (never added to the session)."""
    items = [OrderItem(product_id=p, quantity=q, unit_price_cents=c, voided=v, product_name="x", discount_cents=0,
                       tax_cents=0, net_cents=q * c) for p, q, c, v in lines]  # no discount, no tax: net = line_total
    return Order(status=status, waiter_id=waiter_id, location_id=LOC, business_date=DAY, local_hour=HOUR, items=items)


def v1(rows):
    """The v1 figures of contribution rows (v1.1's money figures follow them)."""
    return tuple((key, values[:3]) for key, values in rows)


def test_contribution_of_an_open_order(app):
    order = make_order(lines=((1, 2, 2500, False), (2, 1, 2550, False), (1, 1, 2000, False), (3, 5, 100, True)))
    c = contribution(order)
    assert c.products[0][1] == (3, 7000, 1, 7000, 0, 0, 0, 0)  # + gross, discounts, tax, refunds, quantity refunded
    assert c.waiters[0][1] == (1, 4, 9550, 9550, 0, 0, 0, 0)  # + gross, discounts, tax, refunds, tips
    c = rollups.Contribution(v1(c.products), v1(c.waiters), v1(c.hours))
    assert c.products == (((DAY, LOC, 1, False), (3, 7000, 1)), ((DAY, LOC, 2, False), (1, 2550, 1)))
    assert c.waiters == (((DAY, LOC, 7, False), (1, 4, 9550)),)
    assert c.hours == (((DAY, LOC, HOUR, False), (1, 4, 9550)),)


def test_closed_orders_go_to_the_closed_bucket(app):
    c = contribution(make_order(status="closed"))
    assert v1(c.waiters) == (((DAY, LOC, 7, True), (1, 2, 5000)),)


@pytest.mark.parametrize("order", [
    None,
    make_order(status="cancelled"),
    make_order(lines=((1, 2, 2500, True),)),  # every line voided: the order does not count
])
def test_empty_contributions(app, order):
    assert contribution(order) == EMPTY
    assert not contribution(order)


NEXT_DAY = date(2026, 11, 22)


def test_the_till_counts_every_payment_and_refund_on_its_own_date_whatever_the_status(app):
    order = make_order(status="cancelled")
    order.payments = [Payment(method="card", amount_cents=5000, tip_cents=500, business_date=DAY),
                      Payment(method="cash", amount_cents=0, tip_cents=0, business_date=NEXT_DAY)]
    order.refunds = [Refund(method="card", amount_cents=5000, tax_cents=0, tip_cents=500, business_date=NEXT_DAY),
                     Refund(method="other", amount_cents=0, tax_cents=0, tip_cents=0, business_date=NEXT_DAY)]
    c = contribution(order)
    assert (c.products, c.waiters, c.hours) == ((), (), ())  # a cancelled order: no sales
    # (payments, amount, tips, refunds, refunded with tips); a 0.00 payment and refund still count
    assert dict(c.payments) == {(DAY, LOC, "card"): (1, 5000, 500, 0, 0),
                                (NEXT_DAY, LOC, "cash"): (1, 0, 0, 0, 0),
                                (NEXT_DAY, LOC, "card"): (0, 0, 0, 1, 5500),
                                (NEXT_DAY, LOC, "other"): (0, 0, 0, 1, 0)}
    assert dict(c.payment_waiters) == {(day, LOC, 7, method): values for (day, _, method), values in c.payments}
    rows = deltas([(None, c)])
    assert len(rows["payments"]) == len(rows["payment_waiters"]) == 4  # all-zero figures, counted: kept


def test_handing_an_order_over_moves_its_till_to_the_new_waiter(app):
    before_order = make_order(waiter_id=7)
    before_order.payments = [Payment(method="cash", amount_cents=1000, tip_cents=0, business_date=DAY)]
    after_order = make_order(waiter_id=8)
    after_order.payments = [Payment(method="cash", amount_cents=1000, tip_cents=0, business_date=DAY)]
    rows = deltas([(contribution(before_order), contribution(after_order))])
    assert rows["payments"] == []  # the location's till does not change
    assert sorted((r["waiter_id"], r["payments"], r["amount_cents"]) for r in rows["payment_waiters"]) == [
        (7, -1, -1000), (8, 1, 1000)]


def test_contribution_is_a_snapshot(app):
    order = make_order()
    before = contribution(order)
    order.items[0].voided = True
    assert v1(before.products) == (((DAY, LOC, 1, False), (2, 5000, 1)),)
    with pytest.raises(AttributeError):
        before.products = ()  # type: ignore[misc]


def test_deltas_subtract_before_and_drop_zero_rows(app):
    open_, closed = make_order(), make_order(status="closed")
    assert deltas([(contribution(open_), contribution(open_))]) == {
        "products": [], "waiters": [], "hours": [], "payments": [], "payment_waiters": []}
    moved = deltas([(contribution(open_), contribution(closed))])
    assert sorted((r["closed"], r["orders"], r["revenue_cents"]) for r in moved["waiters"]) == [
        (False, -1, -5000), (True, 1, 5000)]
    gone = deltas([(contribution(open_), EMPTY)])["products"]
    assert gone == [{"business_date": DAY, "location_id": LOC, "product_id": 1, "closed": False, "quantity": -2,
                     "revenue_cents": -5000, "orders": -1, "gross_cents": -5000, "discount_cents": 0, "tax_cents": 0,
                     "refund_cents": 0, "quantity_refunded": 0}]


def test_appending_the_same_product_keeps_one_order(app):
    before = make_order()
    after = make_order(lines=((1, 2, 2500, False), (1, 3, 2500, False)))
    (row,) = deltas([(contribution(before), contribution(after))])["products"]
    assert (row["quantity"], row["revenue_cents"], row["orders"]) == (3, 7500, 0)


def _rollup_inserts(fn) -> list[str]:
    statements: list[str] = []

    def spy(_conn, _cursor, statement, *_args):
        if "INSERT INTO REPORT_" in statement.upper():
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    return statements


def test_record_statement_count_does_not_grow_with_lines(app, backend, kit, dishes, waiters):
    small = [Line(dishes[0].id, 1)]
    big = [Line(p.id, q) for q in range(1, 21) for p in dishes]  # 60 lines
    one = _rollup_inserts(lambda: kit.create(waiters[0], small))
    many = _rollup_inserts(lambda: kit.batch(waiters[1], [(big, datetime.now(UTC))] * 10))  # 600 lines
    # PostgreSQL: one statement for the three tables; SQLite: one executemany per table
    expected = 1 if backend == "postgresql" else 3
    assert len(one) == expected
    assert len(many) == expected, many


def test_record_inserts_only(app, kit, dishes, waiters):
    oid = kit.create(waiters[0], [Line(dishes[0].id, 2)])
    kit.close(oid)
    kit.cancel(oid)
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (ProductDaily, WaiterDaily, SalesHourly)]
    assert counts == [4, 4, 4]  # create (+open), close (-open, +closed), cancel (-closed)
    sums = db.session.execute(select(func.sum(WaiterDaily.orders), func.sum(WaiterDaily.revenue_cents))).one()
    assert tuple(sums) == (0, 0)


def test_record_with_nothing_to_do_writes_nothing(app):
    assert _rollup_inserts(lambda: record([(None, None), (EMPTY, EMPTY)])) == []
    assert rollups.ROLLUPS[0].table is ProductDaily.__table__


def test_tracking_records_after_the_block_and_nothing_on_an_exception(app, kit, dishes, waiters):
    from app.orders.services import visible_order

    oid = kit.create(waiters[0], [Line(dishes[0].id, 2)])
    staff = waiters[0]
    before = db.session.scalar(select(func.count()).select_from(WaiterDaily))
    order = visible_order(staff, oid, lock=True)
    with pytest.raises(RuntimeError), rollups.tracking(order):
        order.status = "closed"
        raise RuntimeError("the change failed half-way")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WaiterDaily)) == before
    order = visible_order(staff, oid, lock=True)
    with rollups.tracking(order):
        order.status = "closed"
    rows = db.session.execute(select(WaiterDaily.closed, WaiterDaily.orders).order_by(WaiterDaily.id)).all()
    assert [tuple(r) for r in rows][-2:] in ([(False, -1), (True, 1)], [(True, 1), (False, -1)])
    db.session.rollback()


def test_tracking_created_orders_count_from_nothing(app):
    changes_seen = []
    with rollups.tracking() as changes:
        changes.created(make_order())
        changes_seen.extend(changes.pairs)
    assert changes_seen[0][1] == EMPTY
    (row,) = db.session.execute(select(WaiterDaily.location_id, WaiterDaily.orders, WaiterDaily.revenue_cents)).all()
    assert tuple(row) == (LOC, 1, 5000)
    db.session.rollback()


def test_only_tracking_writes_rollup_deltas():
    """Every order change goes through rollups.tracking(): nothing else in the app calls record() or
    pairs contributions by hand (a forgotten line there would silently corrupt the reports). The one
    exception is the bulk seed's packing (app/seed/packing.py), which adds up whole new orders' shapes."""
    from pathlib import Path

    import app as app_package

    root = Path(app_package.__file__).parent
    by_hand = re.compile(
        r"\brollups\.(record|contribution|deltas)\("
        r"|from app\.reports\.rollups import[^\n]*\b(record|contribution|deltas)\b"
    )
    offenders = [
        str(path.relative_to(root)) for path in root.rglob("*.py")
        if path.relative_to(root).as_posix() not in ("figures/rollups.py", "seed/packing.py")
        and by_hand.search(path.read_text())
    ]
    assert offenders == []
