"""Assertions shared by the test folders."""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import sqlalchemy as sa
from werkzeug.serving import make_server

from tests.constants import PROBLEM

UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def assert_problem(resp, status: int, code: str) -> dict:
    """The response is a problem+json error with this status and code; returns the body."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
    assert resp.mimetype == PROBLEM
    body = resp.json
    assert body["status"] == status and body["code"] == code, body
    return body


def assert_unauthorized(resp) -> dict:
    """401 `unauthorized` with the Bearer challenge."""
    body = assert_problem(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    return body


class Faults:
    """WSGI wrapper: while `unavailable` is set, API paths starting with it answer 503 problem+json."""

    def __init__(self, wsgi) -> None:
        self.wsgi = wsgi
        self.unavailable: str | None = None
        self.hits = 0

    def __call__(self, environ, start_response):
        prefix = self.unavailable
        if prefix and environ.get("PATH_INFO", "").startswith(prefix):
            self.hits += 1
            body = json.dumps({"type": "about:blank", "title": "Service Unavailable", "status": 503,
                               "code": "service_unavailable", "detail": "The database is unreachable."}).encode()
            start_response("503 SERVICE UNAVAILABLE", [("Content-Type", PROBLEM), ("Retry-After", "1"),
                                                       ("Content-Length", str(len(body)))])
            return [body]
        return self.wsgi(environ, start_response)


class LiveServer:
    """The test's app (and database) over real HTTP: werkzeug's threaded server (a thread per request) on a
    free loopback port, behind a fault switch (`faults.unavailable`)."""

    def __init__(self, app) -> None:
        self.faults = Faults(app)
        self._server = make_server("127.0.0.1", 0, self.faults, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


@contextmanager
def serving(app) -> Iterator[LiveServer]:
    """A LiveServer for the block; always stopped. (The `live_server` fixture is the same for a whole test.)"""
    server = LiveServer(app)
    try:
        yield server
    finally:
        server.stop()


def http_json(port: int, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, dict | None]:
    """One request on its own connection; (status, JSON body or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def all_at_once(calls: list) -> list:
    """Run the zero-argument `calls` on as many threads, released together by a barrier; results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def clear_order_events(conn) -> None:
    """Empty order_events and feed_events (through a connection or a session) before deleting orders.
    PostgreSQL's triggers refuse DELETE on them (both are append-only); TRUNCATE, an act of the table's
    owner, is how a test starts afresh (CASCADE: the webhook deliveries that point at feed events)."""
    dialect = conn.dialect if hasattr(conn, "dialect") else conn.get_bind().dialect
    if dialect.name == "postgresql":
        conn.execute(sa.text("TRUNCATE order_events, feed_events CASCADE"))
    else:
        conn.execute(sa.text("DELETE FROM order_events"))
        conn.execute(sa.text("DELETE FROM webhook_deliveries"))
        conn.execute(sa.text("DELETE FROM feed_events"))



V11_REPORT_KEYS = frozenset({"gross", "discounts", "refunds", "tax", "tips", "quantity_refunded"})


def v1_figures(value):
    """Report rows (a list of dicts or one row) without v1.1's money figures: what a v1 client reads."""
    if isinstance(value, list):
        return [v1_figures(row) for row in value]
    return {k: v for k, v in value.items() if k not in V11_REPORT_KEYS}


def v1_totals(totals: dict) -> dict:
    """A report's `totals` as v1 answered them (v1.1 adds the money figures and average_ticket)."""
    return {k: v for k, v in v1_figures(totals).items() if k != "average_ticket"}
