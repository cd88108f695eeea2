"""CLI: first admin, user creation, seed (idempotent), idempotency purge."""

from __future__ import annotations

from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import func, select

from app.business_time import business_date
from app.columns import utcnow
from app.extensions import db
from app.models import (
    Discount,
    IdempotencyKey,
    Location,
    Order,
    OrderEvent,
    OrderItem,
    Payment,
    Product,
    Refund,
    User,
)
from app.seed import DEMO_PASSWORD, STAFF
from tests.constants import LOGIN


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_ensure_admin_creates_once_and_prints_login(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["users", "ensure-admin"])
    assert first.exit_code == 0, first.output
    assert "admin@comanda.local" in first.output and "password:" in first.output
    password = first.output.split("password:")[1].split()[0]
    login = app.test_client().post(LOGIN, json={"email": "admin@comanda.local", "password": password})
    assert login.status_code == 200, login.json
    second = runner.invoke(args=["users", "ensure-admin"])
    assert "exist" in second.output
    assert count(User) == 1


def test_users_create_prompts_for_password(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "New@Example.com", "--name", "Nuevo", "--role", "manager"],
        input="s3cret-password\ns3cret-password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "new@example.com"))
    assert user.role == "manager" and user.password_hash.startswith("$argon2id$")


def test_seed_is_idempotent_and_realistic(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    for email, _, role, _ in STAFF:  # the demo users and their password are printed
        assert any(email in line and role in line for line in first.output.splitlines()), email
    assert f"password {DEMO_PASSWORD!r}" in first.output
    orders, products, users = count(Order), count(Product), count(User)
    assert orders >= 300 and products >= 30 and users >= 5
    statuses = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
    assert statuses.get("cancelled") and statuses.get("closed") and statuses.get("open")
    assert_the_demo_month_shows_the_product()
    assert runner.invoke(args=["seed"]).exit_code == 0
    assert (count(Order), count(Product), count(User)) == (orders, products, users)


def test_seed_makes_a_chain_with_its_own_staff(app):
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    locations = db.session.scalars(select(Location).order_by(Location.id)).all()
    assert len(locations) == 3 and locations[0].is_default
    assert len({location.timezone for location in locations}) >= 2
    for location in locations:
        staff = db.session.scalars(select(User).where(User.locations.contains(location))).all()
        assert {user.role for user in staff} == {"manager", "waiter"}
        assert all(user.locations == [location] for user in staff)
        placed = db.session.scalar(select(func.count()).select_from(Order).where(Order.location_id == location.id))
        assert placed > 0


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


def test_idempotency_purge_keeps_recent_keys(app, factory):
    user = factory.make_user()
    db.session.add_all(
        [
            IdempotencyKey(user_id=user.id, key="old", request_hash="x", created_at=utcnow() - timedelta(hours=49)),
            IdempotencyKey(user_id=user.id, key="new", request_hash="x", created_at=utcnow() - timedelta(hours=23)),
        ]
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["idempotency", "purge"])
    assert "purged 1" in result.output
    assert db.session.scalars(select(IdempotencyKey.key)).all() == ["new"]


def test_ensure_admin_never_overwrites_the_first_admin_file_of_another_database(tmp_path):
    """Two databases, one instance/ folder: each keeps its own first admin's login (issue 22)."""
    from app import create_app
    from tests.conftest import make_config

    def ensure_admin(name: str) -> tuple[str, str]:
        app = create_app(make_config(f"sqlite:///{tmp_path / name}", ENV_NAME="development"))
        app.instance_path = str(tmp_path / "instance")
        with app.app_context():
            upgrade()
            output = app.test_cli_runner().invoke(args=["users", "ensure-admin"]).output
            db.engine.dispose()
        return output, output.split("password:")[1].split()[0] if "password:" in output else ""

    _, first_password = ensure_admin("a.db")
    shared = tmp_path / "instance" / "first-admin.txt"
    assert f"password: {first_password}\n" in shared.read_text()
    second_output, second_password = ensure_admin("b.db")
    assert f"password: {first_password}\n" in shared.read_text()  # a.db's login is still there
    [own] = [path for path in (tmp_path / "instance").iterdir() if path != shared]
    assert f"password: {second_password}\n" in own.read_text() and str(own) in second_output
    again, _ = ensure_admin("a.db")
    assert f"credentials: {shared}" in again
    assert f"credentials: {own}" in ensure_admin("b.db")[0]
