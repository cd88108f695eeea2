"""Failed-login throttling: per email (5 a minute) and, loosely, per client address."""

from __future__ import annotations

import os

import pytest

from app.extensions import limiter
from tests.constants import LOGIN, PASSWORD, WRONG_PASSWORD
from tests.helpers import assert_problem


def login(client, email, password=WRONG_PASSWORD, address="10.0.0.1"):
    return client.post(LOGIN, json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def fail(client, email, times, address="10.0.0.1"):
    for _ in range(times):
        assert login(client, email, address=address).status_code == 401


def assert_rate_limited(resp) -> None:
    assert_problem(resp, 429, "rate_limited")
    assert 1 <= int(resp.headers["Retry-After"]) <= 60


def test_sixth_failure_for_one_email_is_429_with_retry_after(client, factory):
    factory.make_user(email="ana@example.com")
    fail(client, "ana@example.com", 5)
    assert_rate_limited(login(client, "ana@example.com"))
    # the right password does not get through either while the limit holds
    assert_rate_limited(login(client, "ana@example.com", PASSWORD))


def test_the_email_key_ignores_case_and_spaces(client, factory):
    factory.make_user(email="ana@example.com")
    for email in ["ana@example.com", "ANA@example.com", " Ana@Example.com", "ana@EXAMPLE.COM ", "aNa@example.com"]:
        assert login(client, email).status_code == 401
    assert_rate_limited(login(client, "Ana@Example.Com"))


def test_unknown_emails_are_throttled_too(client):
    fail(client, "ghost@example.com", 5)
    assert_rate_limited(login(client, "ghost@example.com"))


def test_other_emails_are_not_affected(client, factory):
    factory.make_user(email="luis@example.com")
    fail(client, "ana@example.com", 5)
    assert login(client, "luis@example.com", PASSWORD).status_code == 200


def test_successful_logins_never_count(client, factory):
    factory.make_user(email="ana@example.com")
    for _ in range(8):
        assert login(client, "ana@example.com", PASSWORD).status_code == 200
    fail(client, "ana@example.com", 5)  # all five failures are still answered 401
    assert_rate_limited(login(client, "ana@example.com"))


def test_malformed_logins_never_count(client):
    for _ in range(8):
        resp = client.post(LOGIN, json={"email": "ana@example.com"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
        assert resp.status_code == 422
    fail(client, "ana@example.com", 5)


def test_failures_per_address_are_limited_loosely(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", "3 per minute")
    for n in range(3):
        assert login(client, f"user{n}@example.com", address="192.0.2.7").status_code == 401
    assert_rate_limited(login(client, "someone-else@example.com", address="192.0.2.7"))
    assert login(client, "someone-else@example.com", address="192.0.2.8").status_code == 401


def test_default_limits_come_from_the_config(app):
    assert app.config["LOGIN_FAILURES_PER_EMAIL"] == "5 per minute"
    assert app.config["LOGIN_FAILURES_PER_ADDRESS"] == "100 per minute"


def test_limiter_reset_clears_the_counters(client):
    fail(client, "ana@example.com", 5)
    limiter.reset()
    assert login(client, "ana@example.com").status_code == 401


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="set REDIS_URL to test the Redis storage")
def test_redis_storage_is_used_and_reset_only_clears_our_prefix(client, app):
    import redis

    assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert type(limiter.storage).__name__ == "RedisStorage"
    conn = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"])
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    foreign = [f"LIMITS:LIMITER/someone-else/{prefix}", f"other-{prefix}:LIMITER/x"]
    try:
        for key in foreign:
            conn.set(key, 1, ex=60)
        fail(client, "ana@example.com", 5)
        assert conn.keys(f"{prefix}:*"), "the counters should live in Redis under our prefix"
        assert_rate_limited(login(client, "ana@example.com"))
        limiter.reset()
        assert conn.keys(f"{prefix}:*") == []
        assert all(conn.exists(key) for key in foreign), "reset must not touch other deployments' keys"
        assert login(client, "ana@example.com").status_code == 401
    finally:
        conn.delete(*foreign)


def test_logins_keep_working_and_throttled_when_redis_is_down(tmp_path):
    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import make_config

    cfg = make_config(f"sqlite:///{tmp_path / 'down.db'}", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    app = create_app(cfg)
    with app.app_context():
        upgrade()
    client = app.test_client()
    for _ in range(5):
        assert_problem(login(client, "nobody@example.com"), 401, "invalid_credentials")
    assert_rate_limited(login(client, "nobody@example.com"))  # the in-memory fallback still counts


def test_the_limiter_runs_only_on_limited_routes(app):
    """No per-request limiter hook: the login limits are checked by their decorator."""
    from app.extensions import limiter

    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
