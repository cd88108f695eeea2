"""The property that makes the rollups trustworthy: every report equals a brute-force computation
from the raw lines, after any sequence of creates, appends, voids, closes, cancels and backdated
batch orders over a chain of three locations in three time zones, with and without `location_id`,
for every kind of caller, before and after `compact`, and after `rebuild`. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app.business_time import today
from app.extensions import db
from app.models import Location, Order, OrderItem
from app.reports import maintenance
from app.reports.periods import next_month
from tests.helpers import clear_order_events
from tests.reports import oracle
from tests.reports.orderkit import Line, Rejected

PRODUCTS = 4
lines = st.lists(
    st.tuples(st.integers(0, PRODUCTS - 1), st.integers(1, 5), st.none() | st.integers(0, 4000)),
    min_size=1, max_size=4,
)
order_ref = st.integers(0, 60)
operation = st.one_of(
    # waiter, which of the waiter's locations (0: leave location_id out), lines
    st.tuples(st.just("create"), st.integers(0, 2), st.integers(0, 2), lines),
    st.tuples(st.just("append"), order_ref, lines),
    st.tuples(st.just("void"), order_ref, st.integers(0, 20)),
    st.tuples(st.just("close"), order_ref),
    st.tuples(st.just("cancel"), order_ref),
    # offline sync: up to 4 orders taken in the last 7 days, one record() for the whole batch
    st.tuples(st.just("batch"), st.integers(0, 2), st.integers(0, 2),
              st.lists(st.tuples(lines, st.integers(0, 7 * 24 * 60)), min_size=1, max_size=4)),
)


@pytest.fixture
def restaurant(app, business_clock, factory):
    """A chain: Mexico City from 04:00 (the default), Tijuana from midnight, Madrid from 05:30; Luis works
    in Mexico City, ana in Tijuana, Ana in Mexico City and Madrid; Marta manages Mexico City and
    Tijuana; four products (one archived)."""
    business_clock("America/Mexico_City", "04:00")
    mexico = db.session.scalar(select(Location).where(Location.is_default))
    tijuana = Location(name="Tijuana", timezone="America/Tijuana", day_starts_at="00:00")
    madrid = Location(name="Madrid", timezone="Europe/Madrid", day_starts_at="05:30")
    db.session.add_all([tijuana, madrid])
    products = [factory.make_product(f"Producto {n}", f"{10 + 7 * n}.50") for n in range(PRODUCTS)]
    products[3].active = False
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
    for table in [*rollup_tables, OrderItem.__table__, Order.__table__]:
        db.session.execute(delete(table))
    db.session.commit()


def apply(kit, ops, product_ids, staff, orders: list[int]) -> None:
    def to_lines(spec):
        return [Line(product_ids[p], q, price) for p, q, price in spec]

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
                items = db.session.scalars(select(OrderItem.id).where(OrderItem.order_id == order_id)
                                           .order_by(OrderItem.id)).all()
                kit.void(order_id, items[args[1] % len(items)])
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
            for name, expected in expected_reports:
                got = report(user, name, start_date=lo, end_date=hi, **filters).json
                assert {k: got[k] for k in expected} == expected, (name, user.role, asked, at, status, lo, hi)
                assert (got["location_id"], got["timezone"]) == (
                    (single.id, single.timezone) if single else (None, None))
        hourly = report(user, "sales", granularity="hour", start_date=start, end_date=end, **filters).json
        starts = [time(*map(int, location.day_starts_at.split(":"))) for location in covered]
        expected = oracle.sales(lines_, start, end, seen, status, granularity="hour", day_starts=starts, locations=ids)
        assert {k: hourly[k] for k in expected} == expected, ("hourly", user.role, at, status)


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

    db.session.commit()  # maintenance starts its own transactions
    maintenance.compact()
    check(report, staff, status, window)

    apply(kit, then, product_ids, staff, orders)  # deltas on top of compacted rows
    check(report, staff, status, window)

    db.session.commit()
    maintenance.rebuild(today() - timedelta(days=10), today() + timedelta(days=1))
    db.session.commit()
    check(report, staff, status, window)
