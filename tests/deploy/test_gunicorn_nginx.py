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
import socket
from email.message import Message

import pytest

from tests.deploy.stack import DEPLOY_MARKS, MIB, SPOOFED, Reply, Stack, request, run_stack

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


# ------------------------------------------------------- edge errors: raw bytes through nginx


def raw_exchange(port: int, data: bytes, timeout: float = 10.0) -> Reply:
    """Send raw bytes on a fresh connection, read until the server closes or the answer is complete."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, _, header_block = head.decode("latin-1").partition("\r\n")
    assert status_line.startswith("HTTP/1."), f"not an HTTP answer: {raw[:300]!r}"
    headers = Message()
    for line in header_block.split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return Reply(int(status_line.split()[1]), headers, body)


def assert_edge_problem(reply: Reply, status: int, code: str) -> dict:
    assert reply.status == status, (reply.status, reply.body[:300])
    assert reply.header("Content-Type").startswith("application/problem+json"), reply.header("Content-Type")
    body = json.loads(reply.body)
    assert body["status"] == status and body["code"] == code, body
    assert body["request_id"] and reply.header("X-Request-ID") == body["request_id"]
    return body


def http_request(target: str, *headers: str, method: str = "GET") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost", *headers, "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def test_six_kib_request_line_is_414_problem_json_from_nginx(stack: Stack) -> None:
    reply = raw_exchange(stack.nginx_port, http_request("/health?pad=" + "a" * 6 * 1024))
    assert_edge_problem(reply, 414, "uri_too_long")


def test_huge_header_is_431_problem_json_from_nginx(stack: Stack) -> None:
    one_big = raw_exchange(stack.nginx_port, http_request("/health", "X-Big: " + "b" * 10 * 1024))
    assert_edge_problem(one_big, 431, "header_too_large")
    many = [f"X-Pad-{i}: " + "p" * 1000 for i in range(20)]  # each fits a buffer, 20 KiB together do not
    assert_edge_problem(raw_exchange(stack.nginx_port, http_request("/health", *many)), 431, "header_too_large")


@pytest.mark.parametrize(
    "data",
    [
        b"GET /health HTTP/1.1 extra\r\nHost: localhost\r\n\r\n",  # four parts in the request line
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS hello on the plain port
        b"GET /health HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n",  # a header line without ':'
        b"GET /health HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    ],
    ids=["request-line", "tls-hello", "header-line", "no-host", "two-content-lengths"],
)
def test_malformed_requests_are_400_problem_json_from_nginx(stack: Stack, data: bytes) -> None:
    assert_edge_problem(raw_exchange(stack.nginx_port, data), 400, "bad_request")


def test_an_http2_request_line_is_505_problem_json_from_nginx(stack: Stack) -> None:
    """nginx's own 505 page was HTML (issue 22)."""
    reply = raw_exchange(stack.nginx_port, b"GET /health HTTP/2.0\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert_edge_problem(reply, 505, "http_version_not_supported")


def test_a_double_slash_path_is_404_problem_json_not_an_html_redirect(stack: Stack) -> None:
    """werkzeug merged `//` and answered an HTML 308 (issue 22); no path of ours has an empty segment."""
    for path in ("/api/v1//orders", "/api//v1/auth/me", "/api/v1/orders//"):
        reply = raw_exchange(stack.nginx_port, http_request(path))
        assert reply.status == 404, (path, reply.status, reply.body[:200])
        assert reply.header("Content-Type").startswith("application/problem+json"), path
        assert json.loads(reply.body)["code"] == "not_found"
    # A leading `//` reaches the app as the path without it (the HTTP server reads the target so):
    # the operation's own answer, here 401 without a token, never a redirect.
    reply = raw_exchange(stack.nginx_port, http_request("//api/v1/orders"))
    assert_edge_problem(reply, 401, "unauthorized")


def test_trace_is_405_problem_json_from_nginx(stack: Stack) -> None:
    assert_edge_problem(raw_exchange(stack.nginx_port, http_request("/health", method="TRACE")), 405,
                        "method_not_allowed")


def assert_app_or_nginx_problem(reply: Reply, refusal: int, what: str) -> bool:
    """Either the app answered (JSON), or nginx refused with its problem+json: never gunicorn's HTML."""
    if reply.status == 200:
        assert reply.header("Content-Type").startswith("application/json"), what
        return True
    assert reply.status == refusal, (what, reply.status, reply.body[:200])
    assert reply.header("Content-Type").startswith("application/problem+json"), (what, reply.body[:200])
    return False


def test_nginx_refuses_before_gunicorn_would(stack: Stack) -> None:
    """Around each nginx limit, a request either reaches the app or is refused by nginx as
    problem+json. gunicorn's limits are looser, so its HTML refusals (414, 431, 400 "too many
    headers") never reach a client, and what nginx lets through gunicorn serves."""
    passed = []
    for size in (3800, 4000, 4050, 4100, 4200, 8000):
        # /openapi.json takes any query string (API operations refuse unknown parameters with 422).
        reply = raw_exchange(stack.nginx_port, http_request("/openapi.json?pad=" + "a" * size))
        passed.append(assert_app_or_nginx_problem(reply, 414, f"request line +{size}"))
    assert passed[0] and not passed[-1], passed
    passed = []
    for size in (3800, 4000, 4050, 4100, 4200, 8100, 9000):
        reply = raw_exchange(stack.nginx_port, http_request("/health", "X-Big: " + "b" * size))
        passed.append(assert_app_or_nginx_problem(reply, 431, f"header of {size}"))
    assert passed[0] and not passed[-1], passed
    # gunicorn's default is 100 header fields; nginx bounds the count by its 16 KiB of buffers.
    passed = []
    for count in (150, 800, 1000, 1600, 2500):
        reply = raw_exchange(stack.nginx_port, http_request("/health", *(f"X-{i}: v" for i in range(count))))
        passed.append(assert_app_or_nginx_problem(reply, 431, f"{count} headers"))
    assert passed[0] and passed[1] and not passed[-1], passed


def test_nginx_internal_error_pages_are_not_reachable_from_outside(stack: Stack) -> None:
    reply = stack.get("/_comanda_error/400")
    assert reply.status == 404
    assert reply.header("Content-Type").startswith("application/problem+json")
    assert reply.json()["code"] == "not_found"
