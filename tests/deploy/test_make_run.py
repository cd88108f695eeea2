"""`make run` serves with gunicorn on the SQLite file, and that server holds concurrent tablets:
the exact gunicorn command of the Makefile's `run` target (its port swapped for a free one),
several worker processes on one WAL SQLite file in a temp dir, real HTTP (issue 9, item 11).

Across processes only SQLite's own locking orders the writers: write requests begin with
BEGIN IMMEDIATE and wait (busy_timeout) for the lock instead of failing with SQLITE_BUSY."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.constants import LOGIN, ORDERS, PRODUCTS
from tests.helpers import all_at_once, http_json

REPO = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).parent)
ADMIN = {"email": "admin@example.com", "password": "make-run-admin-password"}

pytestmark = pytest.mark.skipif(importlib.util.find_spec("gunicorn") is None, reason="gunicorn is not installed")


def run_recipe_gunicorn_line() -> str:
    """The gunicorn line of the Makefile's `run` recipe."""
    recipe = re.search(r"^run:.*?\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has a run target"
    lines = [line.strip() for line in recipe.group(1).splitlines() if "gunicorn" in line and "echo" not in line]
    assert len(lines) == 1, lines
    return lines[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(port: int, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "gunicorn exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start listening")


def test_the_run_target_serves_with_gunicorn_on_the_sqlite_file():
    line = run_recipe_gunicorn_line()
    assert "deploy/gunicorn.conf.py" in line and "wsgi:app" in line
    assert "flask run" not in (REPO / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]


def test_make_run_takes_port_and_host():
    """`make run PORT=8123 HOST=0.0.0.0` binds there (issue 22); without them, 127.0.0.1:5000."""
    def recipe(*args: str) -> str:
        return subprocess.run(["make", "-n", "-W", ".venv/.runtime", "run", *args], cwd=REPO, check=True,
                              capture_output=True, text=True, timeout=60).stdout

    assert "GUNICORN_BIND=0.0.0.0:8123 " in recipe("PORT=8123", "HOST=0.0.0.0")
    assert "Serving http://0.0.0.0:8123 " in recipe("PORT=8123", "HOST=0.0.0.0")
    assert "GUNICORN_BIND=127.0.0.1:5000 " in recipe()


@pytest.fixture
def make_run_server(tmp_path):
    """gunicorn as `make run` starts it, on a fresh SQLite file migrated like `make run` does."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "COMANDA_ENV")}
    env.update(COMANDA_ENV="testing", DATABASE_URL=f"sqlite:///{tmp_path / 'comanda.db'}", FLASK_APP="wsgi",
               ADMIN_EMAIL=ADMIN["email"], ADMIN_PASSWORD=ADMIN["password"], GUNICORN_CONTROL_SOCKET="")
    for step in (["db", "upgrade"], ["users", "ensure-admin"]):
        subprocess.run([f"{BIN}/flask", *step], cwd=REPO, env=env, check=True, capture_output=True, timeout=120)
    command = (run_recipe_gunicorn_line().replace("$(BIN)", BIN).replace("$(RUN_WORKERS)", "3")
               .replace("$(HOST):$(PORT)", f"127.0.0.1:{port}"))
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(["sh", "-c", command], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_until_serving(port, proc)
        yield port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


def test_twenty_tablets_and_ten_appends_at_once_all_succeed(make_run_server):
    port = make_run_server
    status, tokens = http_json(port, "POST", LOGIN, ADMIN)
    assert status == 200, tokens
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    status, product = http_json(port, "POST", PRODUCTS, {"name": "Taco", "price": "25.00"}, auth)
    assert status == 201
    line = {"product_id": product["id"], "quantity": 1}

    keyed = [
        lambda n=n: http_json(port, "POST", ORDERS, {"customer_name": f"Table {n}", "items": [line]},
                              {**auth, "Idempotency-Key": f"tablet-{n}"})[0]
        for n in range(20)
    ]
    assert Counter(all_at_once(keyed)) == Counter({201: 20})

    status, order = http_json(port, "POST", ORDERS, {"customer_name": "Ana", "items": [line]}, auth)
    assert status == 201
    appends = [
        lambda n=n: http_json(port, "POST", f"{ORDERS}/{order['id']}/items", {"items": [line]},
                              {**auth, "Idempotency-Key": f"append-{n}"})[0]
        for n in range(10)
    ]
    assert Counter(all_at_once(appends)) == Counter({201: 10})
    status, final = http_json(port, "GET", f"{ORDERS}/{order['id']}", headers=auth)
    assert len(final["items"]) == 11 and final["version"] == 11
    status, page = http_json(port, "GET", f"{ORDERS}?limit=200", headers=auth)
    assert len(page["data"]) == 21
