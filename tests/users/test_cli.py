"""`flask users create` and `flask users ensure-admin`."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.constants import LOGIN


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_users_create_applies_the_api_rules(app, client):
    result = run(app, "users", "create", "--email", " Chef@Example.com ", "--name", " Chef ", "--role", "manager",
                 "--password", "kitchen-secret")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "chef@example.com"))
    assert user.name == "Chef" and user.role == "manager"
    assert client.post(LOGIN, json={"email": "CHEF@example.com", "password": "kitchen-secret"}
                       ).status_code == 200


def test_users_create_rejects_bad_input_and_duplicates(app, factory):
    factory.make_user(email="taken@example.com")
    bad = run(app, "users", "create", "--email", "nope", "--name", "X", "--password", "short")
    assert bad.exit_code != 0 and "email" in bad.output and "password" in bad.output
    dup = run(app, "users", "create", "--email", "TAKEN@example.com", "--name", "X", "--password", "long-enough")
    assert dup.exit_code != 0 and "already exists" in dup.output


def test_ensure_admin_creates_one_admin_once(app, client):
    first = run(app, "users", "ensure-admin")
    assert first.exit_code == 0 and "Created the first admin" in first.output
    password = first.output.split("password:")[1].split()[0]
    login = client.post(LOGIN, json={"email": "admin@comanda.local", "password": password})
    assert login.status_code == 200 and login.json["user"]["role"] == "admin"
    second = run(app, "users", "ensure-admin")
    assert second.exit_code == 0 and "active admin(s) exist" in second.output
