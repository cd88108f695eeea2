"""The login throttle counts atomically: however many wrong guesses arrive at the same moment,
only the allowance is ever checked (401) and every other one is 429 (issue 9, item 8).

Real threads, real HTTP (a threaded werkzeug server), and Redis when REDIS_URL is set (the
production storage; otherwise limits' in-memory storage)."""

from __future__ import annotations

import os
from collections import Counter

import pytest

from app.extensions import limiter
from tests.constants import LOGIN, PASSWORD, WRONG_PASSWORD
from tests.helpers import all_at_once, http_json, serving

CONCURRENT = 40


def statuses(port: int, bodies: list[dict]) -> Counter:
    calls = [lambda body=body: http_json(port, "POST", LOGIN, body)[0] for body in bodies]
    return Counter(all_at_once(calls))


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="set REDIS_URL to test the Redis storage (CI does)")
def test_storage_is_redis_when_redis_url_is_set(app):
    assert type(limiter.storage).__name__ == "RedisStorage"


def test_forty_simultaneous_wrong_logins_for_one_email_get_exactly_five_401(app, factory):
    factory.make_user(email="ana@example.com")
    with serving(app) as server:
        port = server.port
        counts = statuses(port, [{"email": "ana@example.com", "password": WRONG_PASSWORD}] * CONCURRENT)
        assert counts == Counter({401: 5, 429: CONCURRENT - 5})
        # and the right password is refused while the limit holds
        assert http_json(port, "POST", LOGIN, {"email": "ana@example.com", "password": PASSWORD})[0] == 429


def test_simultaneous_failures_from_one_address_stop_at_the_limit(app, factory, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", "10 per minute")
    bodies = [{"email": f"user{n}@example.com", "password": WRONG_PASSWORD} for n in range(CONCURRENT)]
    with serving(app) as server:
        port = server.port
        assert statuses(port, bodies) == Counter({401: 10, 429: CONCURRENT - 10})


def test_refused_and_successful_attempts_give_their_units_back(app, factory):
    """Successes and refusals never use up the allowance, so five real failures still follow.
    (While in flight, an attempt holds a unit: more simultaneous attempts than the allowance,
    even right ones, get 429 for the excess.)"""
    factory.make_user(email="ana@example.com")
    with serving(app) as server:
        port = server.port
        counts = statuses(port, [{"email": "ana@example.com", "password": PASSWORD}] * 5)
        assert counts == Counter({200: 5})
        counts = statuses(port, [{"email": "ana@example.com", "password": PASSWORD}] * 20)
        assert counts[200] >= 5 and set(counts) <= {200, 429}
        counts = statuses(port, [{"email": "ana@example.com", "password": WRONG_PASSWORD}] * 5)
        assert counts == Counter({401: 5})
        assert http_json(port, "POST", LOGIN, {"email": "ana@example.com", "password": WRONG_PASSWORD})[0] == 429
