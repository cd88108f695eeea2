"""The demo month (`flask seed`): realistic, idempotent, a chain with its own staff, and every order of it
kept by the one unit of work (tests/orders/test_unit_of_work.py checks the same invariants after a random
walk). Seeding a month takes seconds, so it is done once per backend for the whole module (the `demo_month`
fixture) and every test here reads the same seeded database; the module is `slow` (tests/conftest.py)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.business_time import business_date
from app.columns import utcnow
from app.extensions import db
from app.models import Discount, Location, Order, OrderEvent, OrderItem, Payment, Product, Refund, User
from app.seed import DEMO_PASSWORD, STAFF
from tests.invariants import assert_every_order_consistent


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_is_idempotent_and_realistic(app, demo_month):
    for email, _, role, _ in STAFF:  # the demo users and their password are printed
        assert any(email in line and role in line for line in demo_month.splitlines()), email
    assert f"password {DEMO_PASSWORD!r}" in demo_month
    orders, products, users = count(Order), count(Product), count(User)
    assert orders >= 300 and products >= 30 and users >= 5
    statuses = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
    assert statuses.get("cancelled") and statuses.get("closed") and statuses.get("open")
    assert_the_demo_month_shows_the_product()
    again = app.test_cli_runner().invoke(args=["seed"])
    assert again.exit_code == 0, again.output
    assert "0 new orders" in again.output
    assert (count(Order), count(Product), count(User)) == (orders, products, users)


def test_seed_makes_a_chain_with_its_own_staff(demo_month):
    locations = db.session.scalars(select(Location).order_by(Location.id)).all()
    assert len(locations) == 3 and locations[0].is_default
    assert len({location.timezone for location in locations}) >= 2
    for location in locations:
        staff = db.session.scalars(select(User).where(User.locations.contains(location))).all()
        assert {user.role for user in staff} == {"manager", "waiter"}
        assert all(user.locations == [location] for user in staff)
        placed = db.session.scalar(select(func.count()).select_from(Order).where(Order.location_id == location.id))
        assert placed > 0


def test_every_demo_seed_order_has_its_history_and_rollups(demo_month):
    assert count(Order) == 400
    assert count(OrderEvent) > 400 * 2
    assert_every_order_consistent()


def assert_the_demo_month_shows_the_product() -> None:
    """IVA, modifiers, discounts, split cash-and-card payments with change and tips, a refund, cancelled
    checks (open and closed), and no order left open but today's."""
    assert db.session.scalar(select(func.sum(Order.tax_total_cents))) > 0
    assert db.session.scalar(select(func.count()).select_from(Location).where(Location.tax_rate_thousandths > 0))
    items = db.session.scalars(select(OrderItem)).all()
    assert any(item.modifiers for item in items) and any(item.voided for item in items)
    assert db.session.scalar(select(func.count()).select_from(Discount)) > 0
    payments = db.session.scalars(select(Payment)).all()
    assert any(p.method == "cash" and p.change_cents for p in payments) and any(p.tip_cents for p in payments)
    by_order: dict[int, set[str]] = {}
    for payment in payments:
        by_order.setdefault(payment.order_id, set()).add(payment.method)
    assert any(methods == {"cash", "card"} for methods in by_order.values())  # a split check
    assert db.session.scalar(select(func.count()).select_from(Refund)) > 0
    cancelled = db.session.scalars(select(OrderEvent.data).where(OrderEvent.type == "cancelled")).all()
    assert any(data["refund"] for data in cancelled) and any(not data["refund"] for data in cancelled)
    for order in db.session.scalars(select(Order).where(Order.status == "open")):
        location = db.session.get(Location, order.location_id)
        assert order.business_date == business_date(utcnow(), location.timezone, location.day_starts_at), order.id
