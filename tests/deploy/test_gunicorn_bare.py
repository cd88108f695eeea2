"""gunicorn started without deploy/gunicorn.conf.py (and without nginx) still never answers HTML:
its own refusals, written before the app runs, are problem+json (app/web/server_errors.py, issue 22)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.test_gunicorn_nginx import raw_exchange
from tests.deploy.test_make_run import free_port, wait_until_serving

REPO = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).parent)

pytestmark = pytest.mark.skipif(importlib.util.find_spec("gunicorn") is None, reason="gunicorn is not installed")


@pytest.fixture(scope="module")
def bare_gunicorn(tmp_path_factory):
    """`gunicorn wsgi:app` with gunicorn's own defaults (limit_request_line 4094, 100 header fields)."""
    tmp = tmp_path_factory.mktemp("bare")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "DATABASE_URL", "COMANDA_"))}
    env.update(COMANDA_ENV="testing", DATABASE_URL=f"sqlite:///{tmp / 'bare.db'}", FLASK_APP="wsgi")
    subprocess.run([f"{BIN}/flask", "db", "upgrade"], cwd=REPO, env=env, check=True, capture_output=True, timeout=120)
    assert not (REPO / "gunicorn.conf.py").exists()  # gunicorn would read it from the working directory
    log = (tmp / "gunicorn.log").open("wb")
    proc = subprocess.Popen([f"{BIN}/gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", "wsgi:app"], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_serving(port, proc)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def request(target: str, *headers: str) -> bytes:
    return "\r\n".join([f"GET {target} HTTP/1.1", "Host: localhost", *headers, "Connection: close", "", ""]).encode()


@pytest.mark.parametrize(("data", "status", "code"), [
    (request("/health?pad=" + "a" * 4100), 414, "uri_too_long"),
    (request("/health", *(f"X-{i}: v" for i in range(150))), 431, "header_too_large"),
    (request("/health", "X-Big: " + "b" * 9000), 431, "header_too_large"),
    (b"GET /health HTTP/1.1 extra\r\nHost: localhost\r\n\r\n", 400, "bad_request"),
], ids=["long-request-line", "too-many-headers", "huge-header", "bad-request-line"])
def test_gunicorns_own_refusals_are_problem_json(bare_gunicorn, data, status, code):
    reply = raw_exchange(bare_gunicorn, data)
    assert reply.status == status, (reply.status, reply.body[:300])
    assert reply.header("Content-Type") == "application/problem+json", reply.body[:300]
    body = json.loads(reply.body)
    assert (body["status"], body["code"]) == (status, code), body


def test_the_app_still_answers(bare_gunicorn):
    reply = raw_exchange(bare_gunicorn, request("/health"))
    assert reply.status == 200 and json.loads(reply.body)["status"] == "ok"
