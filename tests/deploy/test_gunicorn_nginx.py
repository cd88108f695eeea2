"""The production path end to end: real gunicorn behind real nginx, from the files in deploy/.

One stack per module (tests/deploy/stack.py): migrations run once (`flask db upgrade`, as
deploy/entrypoint.sh does), gunicorn starts from deploy/gunicorn.conf.py in production mode, and
nginx runs deploy/nginx.conf rendered onto loopback ports. Nothing outside a temp dir is touched.

nginx connects to gunicorn from 127.0.0.2 while the test connects to nginx from 127.0.0.1,
so the address the app logs shows which hop it believed: 127.0.0.1 means ProxyFix is on and
trusts exactly nginx, 127.0.0.2 would mean it ignores the proxy (every client would share
one address), and a spoofed X-Forwarded-For value would mean it trusts the client.
"""

from __future__ import annotations

import gzip
import json
import re
import secrets

import pytest

from tests.deploy.stack import DEPLOY_MARKS, MIB, SPOOFED, Stack, request, run_stack

pytestmark = DEPLOY_MARKS


@pytest.fixture(scope="module")
def stack():
    with run_stack() as running:
        yield running


# --------------------------------------------------------------------------- tests


def test_health_through_nginx(stack: Stack) -> None:
    reply = stack.get("/health")
    assert reply.status == 200, reply.body
    assert reply.header("Content-Type").startswith("application/json")
    body = reply.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body.get("version")


def test_request_id_is_echoed_or_generated(stack: Stack) -> None:
    echoed = stack.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers.get_all("X-Request-ID") == ["abc-123"]

    generated = [stack.get("/health").headers.get_all("X-Request-ID") for _ in range(2)]
    for ids in generated:
        assert ids is not None and len(ids) == 1 and ids[0].strip(), ids
        assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", ids[0])
    assert generated[0] != generated[1]

    # An id nginx would not put in a JSON body is replaced, never echoed.
    odd = stack.get("/health", headers={"X-Request-ID": 'bad"id with spaces'})
    assert odd.headers.get_all("X-Request-ID") != ['bad"id with spaces']


def test_app_sees_the_real_client_address(stack: Stack) -> None:
    request_id = f"deploy-xff-{secrets.token_hex(6)}"
    reply = stack.get("/health", headers={"X-Request-ID": request_id, "X-Forwarded-For": SPOOFED})
    assert reply.status == 200
    assert reply.header("X-Request-ID") == request_id

    record = stack.log_record(request_id)
    assert record["remote_addr"] != SPOOFED, "a client-supplied X-Forwarded-For reached request.remote_addr"
    assert record["remote_addr"] == "127.0.0.1", record
    assert record["request_id"] == request_id
    assert record["path"] == "/health" and record["status"] == 200


def test_unknown_route_is_problem_json(stack: Stack) -> None:
    reply = stack.get("/api/v1/no-such-route", headers={"X-Request-ID": "deploy-404"})
    assert reply.status == 404
    assert reply.header("Content-Type").startswith("application/problem+json")
    body = reply.json()
    assert body["code"] == "not_found"
    assert body["status"] == 404


def test_oversized_body_is_413_problem_json_from_nginx(stack: Stack) -> None:
    headers = {"Content-Type": "application/json", "X-Request-ID": "deploy-413"}
    reply = request(stack.nginx_port, "POST", "/api/v1/orders", body=b"x" * (MIB + 1), headers=headers)
    assert reply.status == 413
    assert reply.header("Content-Type").startswith("application/problem+json")
    body = reply.json()
    assert body["code"] == "payload_too_large"
    assert body["status"] == 413
    assert reply.headers.get_all("X-Request-ID") == ["deploy-413"]
    assert body["request_id"] == "deploy-413"


def test_body_of_exactly_one_mib_reaches_the_app(stack: Stack) -> None:
    """nginx's limit is not stricter than the contract: 1 MiB exactly is the app's to judge."""
    prefix, suffix = b'{"email": "nobody@example.com", "password": "', b'"}'
    body = prefix + b"p" * (MIB - len(prefix) - len(suffix)) + suffix
    assert len(body) == MIB
    headers = {"Content-Type": "application/json", "X-Request-ID": "deploy-1mib"}
    reply = request(stack.nginx_port, "POST", "/api/v1/auth/login", body=body, headers=headers)
    assert reply.status != 413 and reply.status < 500, (reply.status, reply.body[:300])
    assert reply.header("Content-Type").startswith("application/problem+json")
    assert stack.log_record("deploy-1mib")["path"] == "/api/v1/auth/login"


def test_app_down_is_503_problem_json_from_nginx(stack: Stack) -> None:
    reply = stack.unavailable
    assert reply.status == 503
    assert reply.header("Content-Type").startswith("application/problem+json")
    assert reply.header("Retry-After") == "5"
    assert reply.headers.get_all("X-Request-ID") == ["deploy-probe"]
    body = reply.json()
    assert body["code"] == "service_unavailable"
    assert body["request_id"] == "deploy-probe"


def test_json_is_gzipped(stack: Stack) -> None:
    reply = stack.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert reply.status == 200
    assert reply.header("Content-Encoding") == "gzip"
    assert "paths" in json.loads(gzip.decompress(reply.body))
