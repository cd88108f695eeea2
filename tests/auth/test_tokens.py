"""Every way a bearer token can be bad is 401 `unauthorized` with `WWW-Authenticate: Bearer`."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from flask_jwt_extended import create_access_token

from app.extensions import db
from tests.constants import LOGOUT, ME, REFRESH
from tests.helpers import assert_unauthorized


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.fixture
def user(factory):
    return factory.make_user("admin")


def test_valid_access_token_works(client, factory, user):
    assert client.get(ME, headers=factory.headers(user)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Bearer "},
     {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer not-a-jwt"},
     {"Authorization": "Bearer a.b.c"}, {"Authorization": "Bearer " + "x" * 5000}],
    ids=["missing", "empty", "bearer-only", "bearer-blank", "basic", "garbage", "three-garbage-parts", "huge"],
)
def test_missing_or_garbled_header(client, headers):
    assert_unauthorized(client.get(ME, headers=headers))


def test_wrong_signature(client, factory, user):
    forged = jwt.encode(claims_of(factory.token(user)), "another-secret-of-at-least-32-bytes!!", algorithm="HS256")
    assert_unauthorized(client.get(ME, headers=bearer(forged)))


def test_tampered_payload(client, factory, user):
    header, _payload, signature = factory.token(user).split(".")
    claims = claims_of(factory.token(user)) | {"sub": "999999"}
    assert_unauthorized(client.get(ME, headers=bearer(f"{header}.{b64(claims)}.{signature}")))


def test_alg_none(client, factory, user):
    claims = claims_of(factory.token(user))
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert_unauthorized(client.get(ME, headers=bearer(unsigned)))
    assert_unauthorized(client.get(ME, headers=bearer(jwt.encode(claims, None, algorithm="none"))))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_hmac_algorithm_with_the_right_key_is_refused(client, factory, app, user):
    """HS256 is pinned for decoding: HS512 with the real secret is still refused."""
    token = jwt.encode(claims_of(factory.token(user)), app.config["JWT_SECRET_KEY"], algorithm="HS512")
    assert_unauthorized(client.get(ME, headers=bearer(token)))


def test_expired(client, user):
    token = create_access_token(identity=user, expires_delta=timedelta(seconds=-5))
    assert_unauthorized(client.get(ME, headers=bearer(token)))


def test_revoked_by_logout(client, factory, user):
    headers = factory.headers(user)
    assert client.post(LOGOUT, headers=headers).status_code == 204
    assert_unauthorized(client.get(ME, headers=headers))


def test_refresh_token_used_as_access_token(client, factory, user):
    assert_unauthorized(client.get(ME, headers=bearer(factory.token(user, refresh=True))))


def test_access_token_used_as_refresh_token(client, factory, user):
    assert_unauthorized(client.post(REFRESH, headers=factory.headers(user)))


def test_deactivated_user(client, factory, user):
    headers = factory.headers(user)
    user.active = False
    db.session.commit()
    assert_unauthorized(client.get(ME, headers=headers))


def test_deleted_user(client, factory):
    user = factory.make_user()
    headers = factory.headers(user)
    db.session.delete(user)
    db.session.commit()
    assert_unauthorized(client.get(ME, headers=headers))


def test_stale_token_version(client, factory, user):
    headers = factory.headers(user)
    user.token_version += 1
    db.session.commit()
    assert_unauthorized(client.get(ME, headers=headers))


@pytest.mark.parametrize("change", [{"tv": None}, {"sub": "not-a-number"}, {"sub": None}, {"jti": None}])
def test_correctly_signed_but_incomplete_claims(client, factory, app, user, change):
    claims = claims_of(factory.token(user)) | change
    claims = {k: v for k, v in claims.items() if v is not None}
    token = jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert_unauthorized(client.get(ME, headers=bearer(token)))


def test_token_errors_are_problem_json_with_request_id(client):
    resp = client.get(ME, headers={"X-Request-ID": "rid-42"})
    assert assert_unauthorized(resp)["request_id"] == "rid-42"


def _statements_of(client, app, path, headers) -> tuple[int, list[str]]:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        status = client.get(path, headers=headers).status_code
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return status, [s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "PRAGMA"))]


def test_the_user_and_the_revocation_check_are_one_statement(client, app, factory, user):
    status, statements = _statements_of(client, app, ME, factory.headers(user))
    assert status == 200
    # /me also reads the user's locations (location_ids); authentication itself is one statement.
    auth = [sql for sql in statements if "revoked_tokens" in sql or "FROM users" in sql]
    assert len(auth) == 1, statements
    assert "revoked_tokens" in auth[0] and "users" in auth[0]

