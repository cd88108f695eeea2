"""Two app servers (two gunicorn instances) behind one nginx upstream, as in production.

nginx runs the shipped deploy/nginx.conf, rendered by the helpers in tests/deploy/loopback.py, with its
upstream given two servers. Both gunicorns share the database and Redis, so:
- failed logins spread over both servers count together (Flask-Limiter on Redis);
- a logout or a deactivation on one server is honoured by the other at once (the database knows);
- an Idempotency-Key retried on the other server replays the first answer;
- nginx retries a request that could not connect (or, for a GET, got no answer) on the other
  server, and never a POST that reached an app: proxy_next_upstream keeps non_idempotent off.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.loopback import (
    GUNICORN_CONF,
    NGINX_CONF,
    REPO,
    free_port,
    render_nginx_conf,
    request,
    stop,
    tail,
    wait_for,
)
from tests.deploy.stack import DEPLOY_MARKS, NGINX, PROXY_SOURCE, PostgresDatabase

pytestmark = [
    *DEPLOY_MARKS,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: the servers share Redis"),
]

ADMIN_EMAIL, ADMIN_PASSWORD = "two-admin@comanda.local", "two-servers-" + "a" * 12


class Unanswering:
    """A fake upstream that accepts connections, reads the request and closes without answering."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.seen: list[tuple[str, str]] = []  # (request line, X-Request-ID)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                with contextlib.suppress(OSError):
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
                found = re.search(r"(?im)^x-request-id:\s*(\S+)", head)
                self.seen.append((head.split("\r\n", 1)[0], found.group(1) if found else ""))

    def close(self) -> None:
        self.sock.close()


@dataclass
class Servers:
    tmp: Path
    app_ports: list[int]
    app_logs: list[Path]
    _nginx: list[subprocess.Popen] = field(default_factory=list)

    def nginx(self, upstreams: list[int], probe: bool = True) -> int:
        """An nginx on the shipped config with these upstream ports; returns its port.

        `probe`: wait for GET /health through it (else only for its port to accept connections,
        so the first request through it is the caller's, sent to the first upstream).
        """
        root = Path(tempfile.mkdtemp(prefix="nginx-", dir=self.tmp))
        root.chmod(0o755)
        port = free_port()
        conf = render_nginx_conf(root, port, upstreams[0], PROXY_SOURCE)
        text = conf.read_text()
        one = f"server 127.0.0.1:{upstreams[0]};"
        assert text.count(one) == 1
        conf.write_text(text.replace(one, " ".join(f"server 127.0.0.1:{p};" for p in upstreams)))
        cmd = [NGINX, "-p", f"{root}/", "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]
        err = (root / "nginx.stderr.log").open("wb")
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        err.close()
        self._nginx.append(proc)
        if probe:
            wait_for(port, 200, "nginx", {"nginx": proc}, [root / "nginx.stderr.log"], timeout=15)
            return port
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, tail(root / "nginx.stderr.log")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return port
            assert time.monotonic() < deadline, "nginx did not listen"
            time.sleep(0.05)

    def seen_by_app(self, request_id: str) -> list[str]:
        """The JSON request-log lines of both apps with this request id: '<server index> <path> <status>'."""
        found = []
        for index, log in enumerate(self.app_logs):
            for line in log.read_text(errors="replace").splitlines():
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if isinstance(record, dict) and record.get("request_id") == request_id:
                        found.append(f"{index} {record.get('path')} {record.get('status')}")
        return found


@pytest.fixture(scope="module")
def servers():
    tmp = Path(tempfile.mkdtemp(prefix="comanda-two-"))
    tmp.chmod(0o755)
    database = None
    apps: list[subprocess.Popen] = []
    holder: Servers | None = None
    try:
        if os.environ.get("TEST_DATABASE_URL"):
            database = PostgresDatabase(os.environ["TEST_DATABASE_URL"])
            database_url = database.url
        else:
            database_url = f"sqlite:///{tmp / 'comanda.db'}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GUNICORN_", "FLASK_", "COMANDA_", "RATELIMIT_")) and k != "DATABASE_URL"
        }
        env.update(
            COMANDA_ENV="production", SECRET_KEY=secrets.token_urlsafe(48), JWT_SECRET_KEY=secrets.token_urlsafe(48),
            DATABASE_URL=database_url, PROXY_FIX_X_FOR="1", LOG_FORMAT="json", GUNICORN_WORKERS="2",
            RATELIMIT_KEY_PREFIX=f"comanda-two-{secrets.token_hex(4)}", ADMIN_EMAIL=ADMIN_EMAIL,
            RATELIMIT_PER_ADDRESS="100000000 per minute", RATELIMIT_PER_USER="100000000 per minute",
            ADMIN_PASSWORD=ADMIN_PASSWORD, PYTHONUNBUFFERED="1",
        )  # fmt: skip
        for command in (["db", "upgrade"], ["users", "ensure-admin"]):
            done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command], cwd=REPO, env=env,
                                  capture_output=True, text=True, timeout=60)  # fmt: skip
            assert done.returncode == 0, f"flask {command}: {done.stdout}\n{done.stderr}"
        ports, logs = [free_port(), free_port()], [tmp / "app0.log", tmp / "app1.log"]
        for port, log in zip(ports, logs, strict=True):
            handle = log.open("wb")
            apps.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "wsgi:app"], cwd=REPO,
                env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, stdout=subprocess.DEVNULL, stderr=handle,
                start_new_session=True,
            ))  # fmt: skip
            handle.close()
        for index, port in enumerate(ports):
            wait_for(port, 200, f"gunicorn {index}", {"gunicorn": apps[index]}, [logs[index]], timeout=40)
        holder = Servers(tmp, ports, logs)
        yield holder
    finally:
        for proc in holder._nginx if holder else []:
            stop(proc, grace=5)
        for proc in apps:
            stop(proc, grace=15)
        if database is not None:
            database.drop()
        shutil.rmtree(tmp, ignore_errors=True)


def call(port: int, method: str, path: str, body: dict | None = None, token: str | None = None, **headers):
    headers = {"X-Request-ID": f"two-{uuid.uuid4().hex[:12]}", **headers}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return request(port, method, path, json.dumps(body).encode() if body is not None else None, headers)


def login(port: int, email: str, password: str) -> str:
    reply = call(port, "POST", "/api/v1/auth/login", {"email": email, "password": password})
    assert reply.status == 200, reply.body
    return reply.json()["access_token"]


def new_waiter(servers: Servers) -> tuple[int, str, str]:
    admin = login(servers.app_ports[0], ADMIN_EMAIL, ADMIN_PASSWORD)
    email, password = f"w-{uuid.uuid4().hex[:8]}@comanda.local", "waiter-" + "w" * 12
    reply = call(servers.app_ports[0], "POST", "/api/v1/users",
                 {"email": email, "name": "Waiter", "password": password, "role": "waiter"}, admin)  # fmt: skip
    assert reply.status == 201, reply.body
    return reply.json()["id"], email, password


def test_failed_logins_on_both_servers_count_together(servers):
    _, email, _ = new_waiter(servers)
    a, b = servers.app_ports
    # Five failures, alternating servers: each saw at most three, together five.
    for port in (a, b, a, b, a):
        assert call(port, "POST", "/api/v1/auth/login", {"email": email, "password": "wrong"}).status == 401
    for port in (b, a):
        reply = call(port, "POST", "/api/v1/auth/login", {"email": email, "password": "wrong"})
        assert reply.status == 429, reply.body
        assert int(reply.header("Retry-After")) >= 1


def test_logout_on_one_server_is_honoured_by_the_other_at_once(servers):
    _, email, password = new_waiter(servers)
    a, b = servers.app_ports
    token = login(a, email, password)
    assert call(b, "GET", "/api/v1/auth/me", token=token).status == 200
    assert call(a, "POST", "/api/v1/auth/logout", token=token).status == 204
    assert call(b, "GET", "/api/v1/auth/me", token=token).status == 401


def test_deactivation_on_one_server_is_honoured_by_the_other_at_once(servers):
    user_id, email, password = new_waiter(servers)
    a, b = servers.app_ports
    token = login(b, email, password)
    assert call(b, "GET", "/api/v1/auth/me", token=token).status == 200
    admin = login(a, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert call(a, "PATCH", f"/api/v1/users/{user_id}", {"active": False}, admin).status == 200
    assert call(b, "GET", "/api/v1/auth/me", token=token).status == 401


def test_an_idempotent_retry_on_the_other_server_replays(servers):
    _, email, password = new_waiter(servers)
    a, b = servers.app_ports
    token = login(a, email, password)
    key = f"retry-{uuid.uuid4().hex}"
    body = {"customer_name": "Ana", "items": [{"product_name": "Taco", "unit_price": "25.00", "quantity": 1}]}
    first = call(a, "POST", "/api/v1/orders", body, token, **{"Idempotency-Key": key})
    assert first.status == 201, first.body
    again = call(b, "POST", "/api/v1/orders", body, token, **{"Idempotency-Key": key})
    assert again.status == 201, again.body
    assert again.header("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    listed = call(b, "GET", "/api/v1/orders?limit=200", token=token).json()["data"]
    assert [o["id"] for o in listed] == [first.json()["id"]]  # exactly one order


def test_nginx_retries_a_request_that_failed_to_connect(servers):
    """One upstream refuses connections: every request, POSTs included, is served by the other."""
    _, email, password = new_waiter(servers)
    dead = free_port()  # nothing listens there
    port = servers.nginx([dead, servers.app_ports[0]])
    token = login(port, email, password)
    body = {"customer_name": "Ana", "items": [{"product_name": "Taco", "unit_price": "25.00", "quantity": 1}]}
    for _ in range(4):
        assert call(port, "GET", "/api/v1/auth/me", token=token).status == 200
        reply = call(port, "POST", "/api/v1/orders", body, token)
        assert reply.status == 201, reply.body


def test_nginx_never_retries_a_post_that_reached_an_app(servers):
    """One upstream takes the request and closes without answering: a GET is retried on the other
    server, a POST is not (it may have done its work): the client gets 504 `outcome_unknown`
    problem+json (deploy/nginx.conf: a write that reached an app without an answer) and the other
    server never sees that POST."""
    _, email, password = new_waiter(servers)
    token = login(servers.app_ports[0], email, password)
    body = {"customer_name": "Ana", "items": [{"product_name": "Taco", "unit_price": "25.00", "quantity": 1}]}

    fake = Unanswering()
    try:
        # nginx takes a failed server out for fail_timeout (10 s): a fresh nginx per request, whose
        # round robin starts at the fake.
        port = servers.nginx([fake.port, servers.app_ports[0]], probe=False)
        posted = None
        for _ in range(6):
            reply = call(port, "POST", "/api/v1/orders", body, token)
            if any(line.startswith("POST") for line, _ in fake.seen):
                posted = reply
                break
            assert reply.status == 201
            port = servers.nginx([fake.port, servers.app_ports[0]], probe=False)
        assert posted is not None, f"nginx never sent a POST to the fake upstream: {fake.seen}"
        request_id = posted.header("X-Request-ID")
        assert posted.status == 504, posted.body
        assert posted.header("Content-Type").startswith("application/problem+json")
        assert json.loads(posted.body)["code"] == "outcome_unknown"
        assert [rid for line, rid in fake.seen if line.startswith("POST")] == [request_id]
        assert servers.seen_by_app(request_id) == [], "nginx retried a POST that had reached an app"

        fake.seen.clear()
        for _ in range(6):
            port = servers.nginx([fake.port, servers.app_ports[0]], probe=False)
            reply = call(port, "GET", "/api/v1/auth/me", token=token)
            assert reply.status == 200, reply.body  # retried on the real server
            rid = reply.header("X-Request-ID")
            if any(seen_id == rid for line, seen_id in fake.seen if line.startswith("GET /api")):
                assert servers.seen_by_app(rid) == ["0 /api/v1/auth/me 200"]
                break
        else:
            pytest.fail(f"nginx never sent the GET to the fake upstream first: {fake.seen}")
    finally:
        fake.close()


def test_shipped_config_never_retries_non_idempotent_requests():
    text = NGINX_CONF.read_text()
    directives = [line.split("#", 1)[0] for line in text.splitlines() if "proxy_next_upstream" in line.split("#", 1)[0]]
    assert directives, "deploy/nginx.conf should say which failures are retried"
    assert not any("non_idempotent" in line for line in directives)
