"""Rate limits on every /api/ request (OWASP API4, issue 22): per client address and per signed-in user,
429 problem+json with Retry-After, the IETF RateLimit-Policy / RateLimit headers on every answer,
shared through Redis when REDIS_URL is set, documented on every operation."""

from __future__ import annotations

import itertools
import os
import re

import pytest

from tests.constants import LOGIN, ORDERS, PRODUCTS
from tests.helpers import assert_problem

_addresses = (f"10.22.{n // 250}.{n % 250 + 1}" for n in itertools.count())
POLICY = re.compile(r'^"(address|user)";q=(\d+);w=(\d+)$')
REMAINING = re.compile(r'^"(address|user)";r=(\d+);t=(\d+)$')


@pytest.fixture
def limits(app, monkeypatch):
    """Tight allowances for this test: 3 a minute per user, 5 per address; an address of its own."""
    monkeypatch.setitem(app.config, "RATELIMIT_PER_USER", "3 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_PER_ADDRESS", "5 per minute")
    return next(_addresses)


def get(client, path, headers=None, address="10.22.255.1"):
    return client.get(path, headers=headers or {}, environ_base={"REMOTE_ADDR": address})


def remaining(resp) -> tuple[str, int, int]:
    name, left, reset = REMAINING.fullmatch(resp.headers["RateLimit"]).groups()
    return name, int(left), int(reset)


def policies(resp) -> dict[str, tuple[int, int]]:
    parts = [POLICY.fullmatch(part.strip()).groups() for part in resp.headers["RateLimit-Policy"].split(",")]
    return {name: (int(q), int(w)) for name, q, w in parts}


def test_a_user_over_their_allowance_gets_429_with_retry_after_and_the_headers(client, factory, limits):
    ana, luis = factory.role_headers("waiter"), factory.role_headers("waiter")
    answers = [get(client, ORDERS, ana, limits) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert policies(answers[0]) == {"address": (5, 60), "user": (3, 60)}
    assert [remaining(a)[:2] for a in answers] == [("user", 2), ("user", 1), ("user", 0)]
    assert all(1 <= remaining(a)[2] <= 60 for a in answers)
    refused = get(client, ORDERS, ana, limits)
    assert_problem(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert remaining(refused) == ("user", 0, int(refused.headers["Retry-After"]))
    # Another user from the same address still has their own allowance (the address has 1 left).
    other = get(client, ORDERS, luis, limits)
    assert other.status_code == 200 and remaining(other)[:2] == ("address", 0)


def test_an_address_over_its_allowance_gets_429_whoever_asks(client, factory, limits):
    for _ in range(5):
        assert get(client, ORDERS, factory.role_headers("manager"), limits).status_code == 200
    refused = get(client, ORDERS, factory.role_headers("manager"), limits)
    assert_problem(refused, 429, "rate_limited")
    assert remaining(refused)[:2] == ("address", 0) and "Retry-After" in refused.headers
    # Unauthenticated requests count per address too, and are refused before their token is read.
    assert_problem(get(client, ORDERS, None, limits), 429, "rate_limited")
    assert get(client, ORDERS, factory.role_headers("manager"), next(_addresses)).status_code == 200


def test_every_answer_carries_the_headers_errors_included_but_not_health(client, factory, limits):
    manager = factory.role_headers("manager")
    for resp in (get(client, ORDERS, manager, limits), get(client, f"{ORDERS}/999999", manager, limits),
                 get(client, ORDERS, None, limits),
                 client.post(PRODUCTS, json={"name": ""}, headers=manager, environ_base={"REMOTE_ADDR": limits})):
        assert "RateLimit" in resp.headers and "RateLimit-Policy" in resp.headers, resp.status_code
    login = client.post(LOGIN, json={"email": "x@example.com", "password": "nope"},
                        environ_base={"REMOTE_ADDR": next(_addresses)})
    assert login.status_code == 401 and policies(login) == {"address": (5, 60)}
    health = client.get("/health")
    assert "RateLimit" not in health.headers and "RateLimit-Policy" not in health.headers


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="set REDIS_URL to test the shared counters")
def test_two_app_servers_share_the_counts_through_redis(app, client, factory, limits):
    from app import create_app
    from tests.conftest import make_config

    other = create_app(make_config(app.config["SQLALCHEMY_DATABASE_URI"],
                                   RATELIMIT_KEY_PREFIX=app.config["RATELIMIT_KEY_PREFIX"],
                                   RATELIMIT_PER_USER="3 per minute", RATELIMIT_PER_ADDRESS="5 per minute"))
    user = factory.make_user("waiter")
    headers = factory.headers(user)
    assert get(client, ORDERS, headers, limits).status_code == 200
    second = other.test_client()
    assert [get(second, ORDERS, headers, limits).status_code for _ in range(3)] == [200, 200, 429]


def test_every_api_operation_documents_429_and_the_headers(client):
    spec = client.get("/openapi.json").json
    components = spec["components"]["responses"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            if not path.startswith("/api/"):
                assert "429" not in responses, (method, path)
                continue
            resolved = {status: components[r["$ref"].rsplit("/", 1)[1]] if "$ref" in r else r
                        for status, r in responses.items()}
            assert "Retry-After" in resolved["429"]["headers"], (method, path)
            for status, response in resolved.items():
                if status[0] in "24":
                    assert {"RateLimit", "RateLimit-Policy"} <= set(response.get("headers", {})), (method, path, status)
