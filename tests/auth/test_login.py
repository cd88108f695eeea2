"""POST /auth/login and GET /auth/me."""

from __future__ import annotations

import statistics
import time

import jwt
import pytest

from app.extensions import db
from tests.constants import LOGIN, ME, PASSWORD, WRONG_PASSWORD
from tests.helpers import UTC_Z, assert_problem


def login(client, email, password=PASSWORD, **kwargs):
    return client.post(LOGIN, json={"email": email, "password": password}, **kwargs)


def test_login_returns_a_token_pair_and_the_user(client, factory, app):
    user = factory.make_user("manager", email="marta@example.com", name="Marta")
    resp = login(client, "marta@example.com")
    assert resp.status_code == 200
    body = resp.json
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["user"] == {
        "id": user.id, "email": "marta@example.com", "name": "Marta", "role": "manager", "active": True,
        "has_pin": False,  # v1.2
        "location_ids": body["user"]["location_ids"],  # v1.1
        "created_at": body["user"]["created_at"],
    }
    assert UTC_Z.match(body["user"]["created_at"])
    access = jwt.decode(body["access_token"], app.config["JWT_SECRET_KEY"], algorithms=["HS256"])
    refresh = jwt.decode(body["refresh_token"], app.config["JWT_SECRET_KEY"], algorithms=["HS256"])
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    assert access["sub"] == str(user.id) and access["type"] == "access"
    assert refresh["sub"] == str(user.id) and refresh["type"] == "refresh"
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["exp"] - refresh["iat"] == 12 * 3600


def test_email_is_case_insensitive_and_trimmed(client, factory):
    factory.make_user(email="luis@example.com")
    assert login(client, "  LUIS@Example.COM ").status_code == 200


@pytest.mark.parametrize("case", ["unknown email", WRONG_PASSWORD, "inactive user"])
def test_every_failure_is_the_same_401(client, factory, case):
    factory.make_user(email="ana@example.com")
    factory.make_user(email="off@example.com", active=False)
    email, password = {
        "unknown email": ("nobody@example.com", PASSWORD),
        WRONG_PASSWORD: ("ana@example.com", "not the password"),
        "inactive user": ("off@example.com", PASSWORD),
    }[case]
    resp = login(client, email, password)
    body = assert_problem(resp, 401, "invalid_credentials")
    assert body["detail"] == "Email or password is incorrect."
    assert "access_token" not in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "payload, field",
    [({"email": "a@example.com"}, "password"), ({"password": "x"}, "email"),
     ({"email": "a@example.com", "password": "x", "remember": True}, "remember"),
     ({"email": 5, "password": "x"}, "email")],
)
def test_malformed_login_is_422(client, payload, field):
    body = assert_problem(client.post(LOGIN, json=payload), 422, "validation_error")
    assert field in body["errors"]


def test_unknown_email_costs_about_as_much_as_a_wrong_password(client, factory, app, monkeypatch):
    """An unknown email is verified against a dummy hash, so timing does not reveal who has an account."""
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", 2)
    monkeypatch.setitem(app.config, "ARGON2_MEMORY_COST", 16384)
    factory.make_user(email="real@example.com")

    def median_seconds(email: str) -> float:
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            assert login(client, email, WRONG_PASSWORD).status_code == 401
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    login(client, "warm-up@example.com", "x")  # builds the cached dummy hash for these parameters
    known, unknown = median_seconds("real@example.com"), median_seconds("nobody@example.com")
    assert 0.5 < unknown / known < 2, (known, unknown)


def test_login_rehashes_when_argon2_parameters_change(client, factory, app, monkeypatch):
    user = factory.make_user(email="old@example.com")
    old_hash = user.password_hash
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", 2)
    assert login(client, "old@example.com").status_code == 200
    db.session.expire_all()
    assert user.password_hash != old_hash and ",t=2," in user.password_hash
    assert login(client, "old@example.com").status_code == 200


def test_failed_login_does_not_rehash(client, factory, app, monkeypatch):
    user = factory.make_user(email="keep@example.com")
    old_hash = user.password_hash
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", 2)
    assert login(client, "keep@example.com", "wrong").status_code == 401
    db.session.expire_all()
    assert user.password_hash == old_hash


def test_me_returns_the_caller(client, factory):
    user = factory.make_user("waiter", email="me@example.com", name="Me")
    resp = client.get(ME, headers=factory.headers(user))
    assert resp.status_code == 200
    assert resp.json["id"] == user.id and resp.json["email"] == "me@example.com"
    assert "password" not in resp.json and "password_hash" not in resp.json


def test_passwords_are_argon2id(factory):
    assert factory.make_user().password_hash.startswith("$argon2id$")
