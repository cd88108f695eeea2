"""`location_ids` on users: defaults for v1 clients, rules for waiters and managers, admins everywhere."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from tests.constants import USERS
from tests.helpers import assert_problem


def new_user(**extra) -> dict:
    return {"email": f"{extra.pop('tag', 'x')}@example.com", "name": "New", "password": "long-password", **extra}


def test_left_out_it_is_the_default_location(client, admin, main):
    resp = client.post(USERS, json=new_user(), headers={"Authorization": f"Bearer {_token(admin)}"})
    assert resp.status_code == 201 and resp.json["location_ids"] == [main.id]


def test_waiters_and_managers_get_the_locations_sent(client, factory, admin, main, tokyo):
    headers = factory.headers(admin)
    resp = client.post(USERS, json=new_user(role="manager", location_ids=[tokyo.id, main.id, tokyo.id]),
                       headers=headers)
    assert resp.status_code == 201 and sorted(resp.json["location_ids"]) == [main.id, tokyo.id]
    patched = client.patch(f"{USERS}/{resp.json['id']}", json={"location_ids": [tokyo.id]}, headers=headers)
    assert patched.json["location_ids"] == [tokyo.id]
    assert client.get(f"{USERS}/{resp.json['id']}", headers=headers).json["location_ids"] == [tokyo.id]


def test_admins_belong_to_every_location_and_the_list_is_not_read(client, factory, admin, main, tokyo):
    resp = client.post(USERS, json=new_user(role="admin", location_ids=[tokyo.id]), headers=factory.headers(admin))
    assert resp.status_code == 201 and resp.json["location_ids"] == [main.id, tokyo.id]
    assert client.get("/api/v1/auth/me", headers=factory.headers(admin)).json["location_ids"] == [main.id, tokyo.id]


def test_an_admin_made_waiter_without_a_list_gets_the_default(client, factory, admin, main, tokyo):
    other = factory.make_user("admin")
    resp = client.patch(f"{USERS}/{other.id}", json={"role": "waiter"}, headers=factory.headers(admin))
    assert resp.status_code == 200 and resp.json["location_ids"] == [main.id]
    back = client.patch(f"{USERS}/{other.id}", json={"role": "admin"}, headers=factory.headers(admin))
    assert back.json["location_ids"] == [main.id, tokyo.id]
    again = client.patch(f"{USERS}/{other.id}", json={"role": "manager", "location_ids": [tokyo.id]},
                         headers=factory.headers(admin))
    assert again.json["location_ids"] == [tokyo.id]


@pytest.mark.parametrize(("ids", "field"), [([], "location_ids"), ([999999], "location_ids.0"),
                                            (["1"], "location_ids.0"), ("1", "location_ids"),
                                            ([0], "location_ids.0"), (None, "location_ids")])
def test_bad_location_ids_are_422_and_write_nothing(client, factory, admin, main, ids, field):
    headers = factory.headers(admin)
    before = db.session.scalar(select(func.count()).select_from(User))
    resp = client.post(USERS, json=new_user(tag="bad", role="waiter", location_ids=ids), headers=headers)
    assert field in assert_problem(resp, 422, "validation_error")["errors"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    waiter = factory.make_user("waiter")
    resp = client.patch(f"{USERS}/{waiter.id}", json={"location_ids": ids}, headers=headers)
    assert field in assert_problem(resp, 422, "validation_error")["errors"]
    db.session.rollback()
    assert [loc.id for loc in db.session.get(User, waiter.id).locations] == [main.id]


def test_unknown_id_after_good_ones_names_its_index(client, factory, admin, main):
    resp = client.post(USERS, json=new_user(location_ids=[main.id, 999999]), headers=factory.headers(admin))
    assert assert_problem(resp, 422, "validation_error")["errors"] == {"location_ids.1": ["Unknown location."]}


def _token(user) -> str:
    from flask_jwt_extended import create_access_token

    return create_access_token(identity=user)
