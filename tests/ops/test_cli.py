"""CLI: first admin, user creation, idempotency purge (the demo seed: tests/ops/test_demo_seed.py)."""

from __future__ import annotations

from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import func, select

from app.columns import utcnow
from app.extensions import db
from app.models import IdempotencyKey, User
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
