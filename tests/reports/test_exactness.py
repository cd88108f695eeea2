"""The property that makes the rollups trustworthy: every report equals a brute-force computation
from the raw lines, payments and refunds, after any sequence of creates (with modifiers), appends,
voids (also after discounts), line and order discounts, payments with tips, closes (with tips),
refunds (also on later business days), cancels (also of closed orders) and backdated batch orders
over a chain of three locations in three time zones with different taxes (included and excluded),
with and without `location_id`, for every kind of caller, before and after `compact`, and after
`rebuild`; `/reports/payments` included (JSON and CSV; it reads the till's rollups, whose brute force
counts cancelled orders' payments and refunds too, each on its own business date). Runs on SQLite
and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app.business_time import today
from app.extensions import db
from app.figures.periods import next_month
from app.models import Discount, Location, Order, OrderItem, Payment, Refund, RefundItem
from app.reports import maintenance
from tests.helpers import clear_order_events
from tests.reports import oracle
from tests.reports.orderkit import Line, Rejected

PRODUCTS = 4
lines = st.lists(
    st.tuples(st.integers(0, PRODUCTS - 1), st.integers(1, 5), st.none() | st.integers(0, 4000),
              st.lists(st.integers(0, 500), max_size=2)),
    min_size=1, max_size=4,
)
methods = st.sampled_from(["cash", "card", "other"])
order_ref = st.integers(0, 60)
operation = st.one_of(
    # waiter, which of the waiter's locations (0: leave location_id out), lines
    st.tuples(st.just("create"), st.integers(0, 2), st.integers(0, 2), lines),
    st.tuples(st.just("append"), order_ref, lines),
    st.tuples(st.just("void"), order_ref, st.integers(0, 20)),
    st.tuples(st.just("close"), order_ref),
    st.tuples(st.just("cancel"), order_ref),
    # line (index) or order (None) discount: a percentage or an amount in cents
    st.tuples(st.just("discount"), order_ref, st.none() | st.integers(0, 20),
              st.sampled_from(["10", "12.5", "100"]) | st.integers(1, 3000)),
    # a payment of a share (in percent) of the balance, with a tip
    st.tuples(st.just("pay"), order_ref, methods, st.integers(1, 100), st.integers(0, 500)),
    st.tuples(st.just("close_tip"), order_ref, methods, st.integers(0, 500)),
    # a refund of some units of a line, made 0-2 business days later, with or without a method
    st.tuples(st.just("refund"), order_ref, st.integers(0, 20), st.integers(1, 3), st.integers(0, 2),
              st.none() | methods),
    # offline sync: up to 4 orders taken in the last 7 days, one record() for the whole batch
    st.tuples(st.just("batch"), st.integers(0, 2), st.integers(0, 2),
              st.lists(st.tuples(lines, st.integers(0, 7 * 24 * 60)), min_size=1, max_size=4)),
)


@pytest.fixture
def restaurant(app, business_clock, factory):
    """A chain: Mexico City from 04:00 (the default; 16% tax included in prices), Tijuana from midnight
    (8% on top), Madrid from 05:30 (12.125% on top); Luis works in Mexico City, ana in Tijuana, Ana in
    Mexico City and Madrid; Marta manages Mexico City and Tijuana; four products (one archived, one
    tax-free wherever it is sold)."""
    business_clock("America/Mexico_City", "04:00")
    mexico = db.session.scalar(select(Location).where(Location.is_default))
    mexico.tax_rate_thousandths, mexico.prices_include_tax = 16000, True
    tijuana = Location(name="Tijuana", timezone="America/Tijuana", day_starts_at="00:00", tax_rate_thousandths=8000)
    madrid = Location(name="Madrid", timezone="Europe/Madrid", day_starts_at="05:30", tax_rate_thousandths=12125)
    db.session.add_all([tijuana, madrid])
    products = [factory.make_product(f"Producto {n}", f"{10 + 7 * n}.50") for n in range(PRODUCTS)]
    products[3].active = False
    products[1].tax_rate_thousandths = 0
    db.session.commit()
    waiters = [factory.make_user("waiter", name=n) for n in ("Luis", "ana", "Ana")]
    manager = factory.make_user("manager", name="Marta")
    for user, where in zip([*waiters, manager], [[mexico], [tijuana], [mexico, madrid], [mexico, tijuana]],
                           strict=True):
        user.locations = where
    db.session.commit()
    staff = {"manager": manager, "admin": factory.make_user("admin", name="Root"), "waiters": waiters,
             "locations": {"mexico": mexico, "tijuana": tijuana, "madrid": madrid}}
    return [p.id for p in products], staff


def clear_orders() -> None:
    """Every order and every rollup row, daily and monthly, so examples never see each other's data."""
    db.session.rollback()
    rollup_tables = [t for t in db.metadata.sorted_tables if t.name.startswith("report_")]
    clear_order_events(db.session)
    check_tables = [RefundItem.__table__, Refund.__table__, Payment.__table__, Discount.__table__]
    for table in [*rollup_tables, *check_tables, OrderItem.__table__, Order.__table__]:
        db.session.execute(delete(table))
    db.session.commit()


def apply(kit, ops, product_ids, staff, orders: list[int]) -> None:
    def to_lines(spec):
        return [Line(product_ids[p], q, price, tuple(modifiers)) for p, q, price, modifiers in spec]

    def line_id(order_id: int, index: int) -> int:
        items = db.session.scalars(select(OrderItem.id).where(OrderItem.order_id == order_id)
                                   .order_by(OrderItem.id)).all()
        return items[index % len(items)]

    def where(waiter, choice: int) -> int | None:
        """0: leave location_id out (422 for Ana, who has two); else one of the waiter's locations."""
        return None if choice == 0 else waiter.locations[choice % len(waiter.locations)].id

    now = datetime.now(UTC)
    for op in ops:
        kind, *args = op
        try:
            if kind == "create":
                waiter = staff["waiters"][args[0]]
                orders.append(kit.create(waiter, to_lines(args[2]), location_id=where(waiter, args[1])))
            elif kind == "batch":
                waiter = staff["waiters"][args[0]]
                batch = [(to_lines(spec), now - timedelta(minutes=ago)) for spec, ago in args[2]]
                orders.extend(kit.batch(waiter, batch, where(waiter, args[1])))
            elif not orders:
                continue
            elif kind == "append":
                kit.append(orders[args[0] % len(orders)], to_lines(args[1]))
            elif kind == "void":
                order_id = orders[args[0] % len(orders)]
                kit.void(order_id, line_id(order_id, args[1]))
            elif kind == "discount":
                order_id = orders[args[0] % len(orders)]
                item_id = None if args[1] is None else line_id(order_id, args[1])
                if isinstance(args[2], str):
                    kit.discount(order_id, item_id, percent=args[2])
                else:
                    kit.discount(order_id, item_id, amount_cents=args[2])
            elif kind == "pay":
                order_id = orders[args[0] % len(orders)]
                balance = db.session.get(Order, order_id)
                db.session.refresh(balance)
                kit.pay(order_id, args[1], max(1, balance.balance_due_cents * args[2] // 100), args[3])
            elif kind == "close_tip":
                kit.close_with(orders[args[0] % len(orders)], args[1], args[2])
            elif kind == "refund":
                order_id = orders[args[0] % len(orders)]
                kit.refund(order_id, [(line_id(order_id, args[1]), args[2])], method=args[4], days_later=args[3])
            else:
                getattr(kit, kind)(orders[args[0] % len(orders)])
        except Rejected:
            pass  # the API answers 409 order_not_open; nothing changes


def check(report, staff, status, window) -> None:
    """Every report equals brute force, for each kind of caller over its whole scope and over one location."""
    lines_ = oracle.load_lines()
    first, last = today() - timedelta(days=9), today() + timedelta(days=1)
    start = first + timedelta(days=min(window))
    end = first + timedelta(days=max(window))
    manager, admin, (luis, _ana, ana) = staff["manager"], staff["admin"], staff["waiters"]
    loc = staff["locations"]
    everywhere = set(loc.values())
    # (caller, waiter_id asked, waiter seen, location_id asked, locations covered)
    scopes = (
        (manager, None, None, None, {loc["mexico"], loc["tijuana"]}),
        (manager, None, None, loc["tijuana"], {loc["tijuana"]}),
        (manager, luis.id, luis.id, None, {loc["mexico"], loc["tijuana"]}),
        (admin, None, None, None, everywhere),
        (admin, None, None, loc["madrid"], {loc["madrid"]}),
        (ana, None, ana.id, None, {loc["mexico"], loc["madrid"]}),
        (ana, None, ana.id, loc["madrid"], {loc["madrid"]}),
    )
    months = (first.replace(day=1), next_month(last) - timedelta(days=1))  # whole months: the monthly folds
    for user, asked, seen, at, covered in scopes:
        ids = {location.id for location in covered}
        filters = {"waiter_id": asked, "status": status, "location_id": at.id if at else None}
        single = next(iter(covered)) if len(covered) == 1 else None
        for lo, hi in ((first, last), (start, end), months):
            expected_reports = [("products", oracle.products(lines_, lo, hi, seen, status, ids)),
                                ("waiters", oracle.waiters(lines_, lo, hi, seen, status, ids)),
                                ("sales", oracle.sales(lines_, lo, hi, seen, status, locations=ids))]
            if user.role != "waiter":
                expected_reports.append(("locations", oracle.waiters(lines_, lo, hi, seen, status, ids, "location")))
                expected_reports.append(("payments", oracle.payments(lines_, lo, hi, seen, ids)))
            for name, expected in expected_reports:
                asked_filters = {k: v for k, v in filters.items() if k != "status" or name != "payments"}
                got = report(user, name, start_date=lo, end_date=hi, **asked_filters).json
                assert {k: got[k] for k in expected} == expected, (name, user.role, asked, at, status, lo, hi)
                if name == "payments":  # the CSV too: the same rows, in the same order (by method)
                    text = report(user, name, start_date=lo, end_date=hi, format="csv", **asked_filters)
                    rows = list(csv.DictReader(io.StringIO(text.get_data(as_text=True))))
                    assert rows == [{k: str(v) for k, v in row.items()} for row in expected["data"]], (user.role, at)
                assert (got["location_id"], got["timezone"]) == (
                    (single.id, single.timezone) if single else (None, None))
        hourly = report(user, "sales", granularity="hour", start_date=start, end_date=end, **filters).json
        starts = [time(*map(int, location.day_starts_at.split(":"))) for location in covered]
        expected = oracle.sales(lines_, start, end, seen, status, granularity="hour", day_starts=starts, locations=ids)
        assert {k: hourly[k] for k in expected} == expected, ("hourly", user.role, at, status)


A_NIGHT = [
    ("create", 0, 1, [(0, 2, None, [150]), (2, 1, 1999, []), (1, 3, None, [])]),  # Luis, Mexico City: tax included
    ("create", 1, 1, [(0, 1, None, []), (2, 2, None, [25, 0])]),  # ana, Tijuana: 8% on top
    ("create", 2, 2, [(2, 2, None, [])]),  # Ana, Madrid: 12.125% on top
    ("discount", 0, 0, "12.5"), ("discount", 0, None, 333), ("void", 0, 2),  # a void after discounts
    ("discount", 1, None, "10"), ("pay", 1, "card", 50, 125), ("close_tip", 1, "cash", 40),
    ("close_tip", 0, "card", 300), ("refund", 0, 0, 1, 1, None), ("refund", 0, 1, 1, 2, "cash"),
    ("close_tip", 2, "other", 75), ("refund", 2, 0, 1, 0, None), ("cancel", 2),  # a closed order cancelled
    ("refund", 1, 1, 2, 1, "card"),
    ("create", 0, 1, [(0, 1, None, [])]), ("void", 3, 0), ("close_tip", 3, "cash", 500),  # a tip-only close
]


def assert_identity() -> None:
    """API.md: for closed orders with no refunds, revenue + tax + tips over their lines equals what their
    payments collected (amount + tip)."""
    facts = oracle.load_lines()
    refunded = {r["order_id"] for r in facts.refund_totals}
    closed = {o["order_id"] for o in facts.orders if o["status"] == "closed"} - refunded
    sold = sum(line["net"] + line["tax"] for line in facts.lines if line["order_id"] in closed and not line["voided"])
    tips = sum(facts.tips.get(order_id, 0) for order_id in closed)
    paid = sum(p["amount"] + p["tip"] for p in facts.payments if p["order_id"] in closed)
    assert sold + tips == paid


@example(first=A_NIGHT, then=[("refund", 0, 0, 1, 0, "other"), ("pay", 3, "cash", 100, 0)], status=None,
         window=(8, 11))
@example(first=A_NIGHT, then=[], status="closed", window=(0, 10))
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(first=st.lists(operation, max_size=14), then=st.lists(operation, max_size=8),
       status=st.sampled_from([None, "closed", "open"]), window=st.tuples(st.integers(0, 10), st.integers(0, 10)))
def test_reports_are_exact(app, restaurant, kit, report, first, then, status, window):
    product_ids, staff = restaurant
    kit.staff = staff["admin"]  # orders of every location are changed (a manager's reach is the matrix test's)
    clear_orders()
    orders: list[int] = []
    apply(kit, first, product_ids, staff, orders)
    check(report, staff, status, window)
    assert_identity()

    db.session.commit()  # maintenance starts its own transactions
    maintenance.compact()
    check(report, staff, status, window)

    apply(kit, then, product_ids, staff, orders)  # deltas on top of compacted rows
    check(report, staff, status, window)

    db.session.commit()
    maintenance.rebuild(today() - timedelta(days=10), today() + timedelta(days=1))
    db.session.commit()
    check(report, staff, status, window)
