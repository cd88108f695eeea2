"""POST /auth/refresh (rotation) and POST /auth/logout (revocation)."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask_jwt_extended import create_refresh_token
from sqlalchemy import func, select

from app.extensions import db
from app.models import RevokedToken
from tests.constants import LOGIN, LOGOUT, ME, PASSWORD, REFRESH
from tests.helpers import assert_problem, assert_unauthorized

LOGIN, REFRESH, LOGOUT, ME = LOGIN, REFRESH, LOGOUT, ME


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def tokens_for(client, user) -> dict:
    resp = client.post(LOGIN, json={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 200
    return resp.json


def test_refresh_rotates_and_the_old_refresh_token_dies(client, factory):
    user = factory.make_user()
    first = tokens_for(client, user)
    resp = client.post(REFRESH, headers=bearer(first["refresh_token"]))
    assert resp.status_code == 200
    second = resp.json
    assert set(second) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert second["refresh_token"] != first["refresh_token"] and second["user"]["id"] == user.id
    assert client.get(ME, headers=bearer(second["access_token"])).status_code == 200
    assert_unauthorized(client.post(REFRESH, headers=bearer(first["refresh_token"])))  # reuse
    assert client.post(REFRESH, headers=bearer(second["refresh_token"])).status_code == 200


def test_refresh_of_a_deactivated_user_is_401(client, factory):
    user = factory.make_user()
    refresh = tokens_for(client, user)["refresh_token"]
    user.active = False
    db.session.commit()
    assert_unauthorized(client.post(REFRESH, headers=bearer(refresh)))


def test_expired_refresh_token_is_401(client, factory):
    user = factory.make_user()
    expired = create_refresh_token(identity=user, expires_delta=timedelta(seconds=-1))
    assert_unauthorized(client.post(REFRESH, headers=bearer(expired)))


def test_concurrent_refreshes_with_one_token_yield_one_new_pair(app, factory, postgres_only):
    """Rotation is race-free: of many simultaneous refreshes with one token, exactly one wins."""
    user = factory.make_user()
    refresh = tokens_for(app.test_client(), user)["refresh_token"]
    barrier, statuses = threading.Barrier(6), []

    def attempt() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(REFRESH, headers=bearer(refresh)).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * 5


def test_logout_revokes_the_access_token(client, factory):
    user = factory.make_user()
    pair = tokens_for(client, user)
    resp = client.post(LOGOUT, headers=bearer(pair["access_token"]))
    assert resp.status_code == 204 and resp.get_data() == b""
    assert_unauthorized(client.get(ME, headers=bearer(pair["access_token"])))
    assert_unauthorized(client.post(LOGOUT, headers=bearer(pair["access_token"])))
    # without refresh_token in the body, the refresh token lives on
    assert client.post(REFRESH, headers=bearer(pair["refresh_token"])).status_code == 200


def test_logout_with_refresh_token_revokes_both(client, factory):
    user = factory.make_user()
    pair = tokens_for(client, user)
    resp = client.post(LOGOUT, headers=bearer(pair["access_token"]), json={"refresh_token": pair["refresh_token"]})
    assert resp.status_code == 204
    assert_unauthorized(client.get(ME, headers=bearer(pair["access_token"])))
    assert_unauthorized(client.post(REFRESH, headers=bearer(pair["refresh_token"])))
    assert db.session.scalar(select(func.count()).select_from(RevokedToken)) == 2


def test_logout_with_an_already_used_or_expired_refresh_token_is_fine(client, factory):
    user = factory.make_user()
    pair = tokens_for(client, user)
    assert client.post(REFRESH, headers=bearer(pair["refresh_token"])).status_code == 200  # now revoked
    resp = client.post(LOGOUT, headers=bearer(pair["access_token"]), json={"refresh_token": pair["refresh_token"]})
    assert resp.status_code == 204
    other = tokens_for(client, user)
    expired = create_refresh_token(identity=user, expires_delta=timedelta(seconds=-1))
    resp = client.post(LOGOUT, headers=bearer(other["access_token"]), json={"refresh_token": expired})
    assert resp.status_code == 204


def test_logout_refuses_what_is_not_the_callers_refresh_token(client, factory):
    """All or nothing: a bad refresh_token is 422 and nothing, not even the access token, is revoked."""
    user, other = factory.make_user(), factory.make_user()
    pair, others = tokens_for(client, user), tokens_for(client, other)
    for bad in ["garbage", pair["access_token"], others["refresh_token"], ""]:
        resp = client.post(LOGOUT, headers=bearer(pair["access_token"]), json={"refresh_token": bad})
        assert assert_problem(resp, 422, "validation_error")["errors"] == {
            "refresh_token": ["Not a refresh token of the authenticated user."]
        }
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200
    assert client.post(REFRESH, headers=bearer(others["refresh_token"])).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(RevokedToken)) == 1  # only that rotation


def test_logout_body_rules(client, factory):
    user = factory.make_user()
    headers = factory.headers(user)
    assert assert_problem(client.post(LOGOUT, headers=headers, json={"everything": True}), 422, "validation_error")
    assert_problem(client.post(LOGOUT, headers=headers, json={"refresh_token": None}), 422, "validation_error")
    assert_problem(client.post(LOGOUT, headers=headers, data="x", content_type="text/plain"), 415,
                   "unsupported_media_type")
    assert client.post(LOGOUT, headers=headers, json={}).status_code == 204


def test_logout_needs_a_token(client):
    assert_unauthorized(client.post(LOGOUT))
