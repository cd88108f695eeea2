"""POST /users, GET/PATCH/DELETE /users/{id}."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.constants import LOGIN, ME, PASSWORD, REFRESH, USERS
from tests.helpers import UTC_Z, assert_problem, assert_unauthorized


@pytest.fixture
def as_admin(factory, admin):
    return factory.headers(admin)


def new_user(**overrides) -> dict:
    return {"email": "Nuevo@Example.com", "name": "  Nuevo Mesero ", "password": "s3cret-pass"} | overrides


# --- create ---------------------------------------------------------------------------------


def test_create_user(client, as_admin):
    resp = client.post(USERS, json=new_user(), headers=as_admin)
    assert resp.status_code == 201
    body = resp.json
    # location_ids: v1.1, has_pin: v1.2
    assert set(body) == {"id", "email", "name", "role", "active", "has_pin", "location_ids", "created_at"}
    assert body["email"] == "nuevo@example.com" and body["name"] == "Nuevo Mesero"
    assert body["role"] == "waiter" and body["active"] is True
    assert UTC_Z.match(body["created_at"])
    assert resp.headers["Location"] == f"{USERS}/{body['id']}"
    assert client.get(resp.headers["Location"], headers=as_admin).json == body
    login = client.post(LOGIN, json={"email": "NUEVO@example.com", "password": "s3cret-pass"})
    assert login.status_code == 200


@pytest.mark.parametrize("role", ["waiter", "manager", "admin"])
def test_create_with_role(client, as_admin, role):
    assert client.post(USERS, json=new_user(role=role), headers=as_admin).json["role"] == role


def test_duplicate_email_is_409_case_insensitively(client, as_admin):
    assert client.post(USERS, json=new_user(), headers=as_admin).status_code == 201
    resp = client.post(USERS, json=new_user(email=" NUEVO@example.COM"), headers=as_admin)
    assert_problem(resp, 409, "duplicate_email")


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": "x" * 250 + "@example.com"}, "email"),
        ({"email": None}, "email"),
        ({"name": "   "}, "name"),
        ({"name": ""}, "name"),
        ({"name": "n" * 121}, "name"),
        ({"password": "short12"}, "password"),
        ({"password": "p" * 129}, "password"),
        ({"role": "chef"}, "role"),
        ({"role": "ADMIN"}, "role"),
        ({"id": 7}, "id"),
        ({"active": False}, "active"),
        ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
        ({"token_version": 9}, "token_version"),
        ({"password_hash": "$argon2id$..."}, "password_hash"),
    ],
)
def test_create_validation(client, as_admin, overrides, field):
    body = assert_problem(client.post(USERS, json=new_user(**overrides), headers=as_admin), 422, "validation_error")
    assert field in body["errors"], body


@pytest.mark.parametrize("missing", ["email", "name", "password"])
def test_create_requires_fields(client, as_admin, missing):
    payload = new_user()
    del payload[missing]
    body = assert_problem(client.post(USERS, json=payload, headers=as_admin), 422, "validation_error")
    assert missing in body["errors"]


def test_create_limits_are_inclusive(client, as_admin):
    resp = client.post(USERS, json=new_user(name=" " + "n" * 120 + " ", password="p" * 8), headers=as_admin)
    assert resp.status_code == 201 and resp.json["name"] == "n" * 120
    resp = client.post(USERS, json=new_user(email="b@example.com", password="p" * 128), headers=as_admin)
    assert resp.status_code == 201


def test_create_needs_json(client, as_admin):
    form = client.post(USERS, data="email=x", headers=as_admin, content_type="application/x-www-form-urlencoded")
    assert_problem(form, 415, "unsupported_media_type")
    garbled = client.post(USERS, data="{nope", headers=as_admin, content_type="application/json")
    assert_problem(garbled, 400, "malformed_json")
    assert_problem(client.post(USERS, json=[new_user()], headers=as_admin), 400, "malformed_json")


def test_anonymous_is_401_before_the_body_is_looked_at(client):
    assert_unauthorized(client.post(USERS, json={"bogus": True}))


# --- read -----------------------------------------------------------------------------------


def test_a_waiter_sees_only_themself(client, factory):
    waiter, other = factory.make_user("waiter"), factory.make_user("waiter")
    headers = factory.headers(waiter)
    assert client.get(f"{USERS}/{waiter.id}", headers=headers).json["id"] == waiter.id
    assert_problem(client.get(f"{USERS}/{other.id}", headers=headers), 404, "not_found")
    assert_problem(client.get(f"{USERS}/999999", headers=headers), 404, "not_found")


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_staff_see_anyone(client, factory, role):
    other = factory.make_user("waiter", active=False)
    resp = client.get(f"{USERS}/{other.id}", headers=factory.role_headers(role))
    assert resp.status_code == 200 and resp.json["active"] is False
    assert_problem(client.get(f"{USERS}/999999", headers=factory.role_headers(role)), 404, "not_found")


def test_non_integer_id_is_404(client, as_admin):
    assert_problem(client.get(f"{USERS}/abc", headers=as_admin), 404, "not_found")


# --- update ---------------------------------------------------------------------------------


def test_patch_name_keeps_sessions(client, factory, as_admin):
    user = factory.make_user("waiter")
    own = factory.headers(user)
    resp = client.patch(f"{USERS}/{user.id}", json={"name": "  Luis R. "}, headers=as_admin)
    assert resp.status_code == 200 and resp.json["name"] == "Luis R."
    assert client.get(ME, headers=own).status_code == 200


@pytest.mark.parametrize(
    "change", [{"role": "manager"}, {"password": "brand-new-password"}, {"active": False}],
    ids=["role", "password", "deactivate"],
)
def test_patch_that_ends_sessions(client, factory, as_admin, change):
    user = factory.make_user("waiter")
    own = factory.headers(user)
    refresh = {"Authorization": f"Bearer {factory.token(user, refresh=True)}"}
    resp = client.patch(f"{USERS}/{user.id}", json=change, headers=as_admin)
    assert resp.status_code == 200
    assert all(resp.json[key] == value for key, value in change.items() if key != "password")
    assert_unauthorized(client.get(ME, headers=own))
    assert_unauthorized(client.post(REFRESH, headers=refresh))


def test_patch_password_changes_the_login(client, factory, as_admin):
    user = factory.make_user("waiter")
    client.patch(f"{USERS}/{user.id}", json={"password": "brand-new-password"}, headers=as_admin)
    login = client.post(LOGIN, json={"email": user.email, "password": PASSWORD})
    assert_problem(login, 401, "invalid_credentials")
    login = client.post(LOGIN, json={"email": user.email, "password": "brand-new-password"})
    assert login.status_code == 200


def test_patching_the_same_role_keeps_sessions(client, factory, as_admin):
    user = factory.make_user("waiter")
    own = factory.headers(user)
    assert client.patch(f"{USERS}/{user.id}", json={"role": "waiter"}, headers=as_admin).status_code == 200
    assert client.get(ME, headers=own).status_code == 200


def test_reactivate(client, factory, as_admin):
    user = factory.make_user("waiter")
    old = factory.headers(user)
    client.patch(f"{USERS}/{user.id}", json={"active": False}, headers=as_admin)
    resp = client.patch(f"{USERS}/{user.id}", json={"active": True}, headers=as_admin)
    assert resp.status_code == 200 and resp.json["active"] is True
    assert_unauthorized(client.get(ME, headers=old))  # old sessions stay dead
    assert client.post(LOGIN, json={"email": user.email, "password": PASSWORD}).status_code == 200


def test_email_is_immutable(client, factory, as_admin):
    user = factory.make_user("waiter")
    for email in [user.email, "new@example.com"]:
        resp = client.patch(f"{USERS}/{user.id}", json={"email": email, "name": "X"}, headers=as_admin)
        assert assert_problem(resp, 422, "validation_error")["errors"] == {"email": ["Email cannot be changed."]}
    db.session.expire_all()
    assert user.name != "X"


@pytest.mark.parametrize(
    "payload, field",
    [({}, "_schema"), ({"name": " "}, "name"), ({"role": "owner"}, "role"), ({"active": "maybe"}, "active"),
     ({"password": "short"}, "password"), ({"id": 3}, "id"), ({"token_version": 1}, "token_version"),
     ({"name": None}, "name"), ({"created_at": "2026-01-01T00:00:00Z"}, "created_at")],
)
def test_patch_validation(client, factory, as_admin, payload, field):
    user = factory.make_user("waiter")
    body = assert_problem(client.patch(f"{USERS}/{user.id}", json=payload, headers=as_admin), 422, "validation_error")
    assert field in body["errors"], body


def test_patch_unknown_user_is_404(client, as_admin):
    assert_problem(client.patch(f"{USERS}/999999", json={"name": "X"}, headers=as_admin), 404, "not_found")


def test_admin_cannot_lock_themself_out(client, admin, as_admin):
    url = f"{USERS}/{admin.id}"
    assert_problem(client.patch(url, json={"active": False}, headers=as_admin), 409, "cannot_deactivate_self")
    assert_problem(client.delete(url, headers=as_admin), 409, "cannot_deactivate_self")
    assert_problem(client.patch(url, json={"role": "waiter"}, headers=as_admin), 409, "cannot_change_own_role")
    resp = client.patch(url, json={"name": "Boss", "role": "admin", "active": True}, headers=as_admin)
    assert resp.status_code == 200 and resp.json["name"] == "Boss"
    assert client.get(ME, headers=as_admin).status_code == 200


def test_another_admin_can_deactivate_an_admin(client, factory, admin, as_admin):
    other = factory.make_user("admin")
    assert client.delete(f"{USERS}/{admin.id}", headers=factory.headers(other)).status_code == 204
    assert_unauthorized(client.get(ME, headers=as_admin))


# --- delete ---------------------------------------------------------------------------------


def test_delete_deactivates(client, factory, as_admin):
    user = factory.make_user("waiter")
    own = factory.headers(user)
    resp = client.delete(f"{USERS}/{user.id}", headers=as_admin)
    assert resp.status_code == 204 and resp.get_data() == b""
    assert client.get(f"{USERS}/{user.id}", headers=as_admin).json["active"] is False
    assert_unauthorized(client.get(ME, headers=own))
    login = client.post(LOGIN, json={"email": user.email, "password": PASSWORD})
    assert_problem(login, 401, "invalid_credentials")
    assert client.delete(f"{USERS}/{user.id}", headers=as_admin).status_code == 204  # repeating is harmless


def test_delete_unknown_user_is_404(client, as_admin):
    assert_problem(client.delete(f"{USERS}/999999", headers=as_admin), 404, "not_found")
