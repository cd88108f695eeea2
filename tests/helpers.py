"""Assertions shared by the test folders."""

from __future__ import annotations

import re

import sqlalchemy as sa

PROBLEM = "application/problem+json"
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


def clear_order_events(conn) -> None:
    """Empty order_events (through a connection or a session) before deleting orders. PostgreSQL's
    trigger refuses DELETE on it (the history is append-only); TRUNCATE, an act of the table's
    owner, is how a test starts afresh."""
    dialect = conn.dialect if hasattr(conn, "dialect") else conn.get_bind().dialect
    if dialect.name == "postgresql":
        conn.execute(sa.text("TRUNCATE order_events"))
    else:
        conn.execute(sa.text("DELETE FROM order_events"))
