"""The production path end to end: real gunicorn behind real nginx, from the files in deploy/.

One stack per module: migrations run once (`flask db upgrade`, as deploy/entrypoint.sh does),
gunicorn starts from deploy/gunicorn.conf.py in production mode, and nginx runs
deploy/nginx.conf rendered onto loopback ports. Nothing outside a temp dir is touched.

nginx connects to gunicorn from 127.0.0.2 while the test connects to nginx from 127.0.0.1,
so the address the app logs shows which hop it believed: 127.0.0.1 means ProxyFix is on and
trusts exactly nginx, 127.0.0.2 would mean it ignores the proxy (every client would share
one address), and a spoofed X-Forwarded-For value would mean it trusts the client.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.constants import LOGIN, ORDERS, PROBLEM
from tests.deploy.loopback import (
    GUNICORN_CONF,
    REPO,
    Reply,
    can_bind,
    find_nginx,
    free_port,
    nginx_command,
    pg_url,
    render_nginx_conf,
    request,
    stop,
    tail,
    wait_for,
)

PROXY_SOURCE = "127.0.0.2"  # the address nginx uses to reach gunicorn
SPOOFED = "203.0.113.9"
MIB = 1024 * 1024
NGINX = find_nginx()

pytestmark = [
    pytest.mark.skipif(NGINX is None, reason="nginx binary not found (apt-get install -y nginx)"),
    pytest.mark.skipif(importlib.util.find_spec("gunicorn") is None, reason="gunicorn is not installed"),
]


# ------------------------------------------------------------------------ database


class PostgresDatabase:
    """A fresh database on the TEST_DATABASE_URL server, dropped afterwards."""

    def __init__(self, server_url: str) -> None:
        import psycopg2
        from psycopg2 import sql

        self._sql = sql
        self._psycopg2 = psycopg2
        parts = urlsplit(pg_url(server_url))
        self.name = f"comanda_deploy_{secrets.token_hex(4)}"
        self._admin_candidates = [urlunsplit(parts._replace(path="/postgres")), urlunsplit(parts)]
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def _execute(self, statement) -> None:
        error: Exception | None = None
        for dsn in self._admin_candidates:
            try:
                conn = self._psycopg2.connect(dsn, connect_timeout=5)
            except self._psycopg2.OperationalError as exc:
                error = exc
                continue
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute(statement)
                return
            finally:
                conn.close()
        raise RuntimeError(f"cannot reach the PostgreSQL server of TEST_DATABASE_URL: {error}")

    def drop(self) -> None:
        ident = self._sql.Identifier(self.name)
        self._execute(self._sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


# --------------------------------------------------------------------------- stack


@dataclass
class Stack:
    nginx_port: int
    app_port: int
    app_log: Path  # gunicorn stderr: the app's JSON request log
    unavailable: Reply  # what nginx answered before gunicorn was started

    def get(self, path: str, headers: dict | None = None) -> Reply:
        return request(self.nginx_port, "GET", path, headers=headers)

    def log_record(self, request_id: str, timeout: float = 5.0) -> dict:
        """The app's JSON request-log line for one request id."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.app_log.read_text(errors="replace").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("request_id") == request_id:
                    return record
            if time.monotonic() > deadline:
                pytest.fail(f"no JSON request-log line with request_id={request_id}:\n{tail(self.app_log)}")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def stack():
    tmp = Path(tempfile.mkdtemp(prefix="comanda-deploy-"))
    # nginx workers drop root privileges (user nobody) and write temp files under here.
    tmp.chmod(0o755)
    database: PostgresDatabase | None = None
    gunicorn: subprocess.Popen | None = None
    nginx: subprocess.Popen | None = None
    open_files = []
    try:
        server_url = os.environ.get("TEST_DATABASE_URL")
        if server_url:
            database = PostgresDatabase(server_url)
            database_url = database.url
        else:
            database_url = f"sqlite:///{tmp / 'comanda.db'}"

        app_port, nginx_port = free_port(), free_port()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GUNICORN_", "FLASK_", "COMANDA_", "RATELIMIT_"))
            and k not in {"DATABASE_URL", "SECRET_KEY", "JWT_SECRET_KEY", "PROXY_FIX_X_FOR", "LOG_FORMAT"}
        }
        env.update(
            COMANDA_ENV="production",
            SECRET_KEY=secrets.token_urlsafe(48),
            JWT_SECRET_KEY=secrets.token_urlsafe(48),
            DATABASE_URL=database_url,
            PROXY_FIX_X_FOR="1",
            LOG_FORMAT="json",
            LOG_LEVEL="INFO",
            GUNICORN_BIND=f"127.0.0.1:{app_port}",
            GUNICORN_WORKERS="2",
            # REDIS_URL, when set, is shared with other runs: keep this run's counters apart.
            RATELIMIT_KEY_PREFIX=f"comanda-deploy-{secrets.token_hex(4)}",
            PYTHONUNBUFFERED="1",
        )

        migrate = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=40,
        )
        assert migrate.returncode == 0, f"flask db upgrade failed:\n{migrate.stdout}\n{migrate.stderr}"

        app_log, access_log = tmp / "gunicorn.stderr.log", tmp / "gunicorn.stdout.log"
        nginx_out, nginx_err = tmp / "nginx.stdout.log", tmp / "nginx.stderr.log"
        for path in (app_log, access_log, nginx_out, nginx_err):
            open_files.append(path.open("wb"))
        app_err_f, app_out_f, nginx_out_f, nginx_err_f = open_files

        # Without 127.0.0.2 the address check below cannot tell the two hops apart.
        assert can_bind(PROXY_SOURCE), f"cannot bind {PROXY_SOURCE}: loopback is not 127.0.0.0/8 here"
        conf = render_nginx_conf(tmp, nginx_port, app_port, PROXY_SOURCE)
        nginx_cmd = nginx_command(NGINX, tmp, conf)
        check = subprocess.run([*nginx_cmd, "-t"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, f"nginx -t rejected the rendered deploy/nginx.conf:\n{check.stderr}"

        # nginx first: while nothing listens on the app port, it must answer for the app.
        nginx = subprocess.Popen(nginx_cmd, stdout=nginx_out_f, stderr=nginx_err_f, start_new_session=True)
        logs = [nginx_err]
        unavailable = wait_for(nginx_port, 503, "nginx without an app", {"nginx": nginx}, logs, timeout=10)

        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "wsgi:app"],
            cwd=REPO,
            env=env,
            stdout=app_out_f,
            stderr=app_err_f,
            start_new_session=True,
        )
        logs = [app_log, access_log, nginx_err]
        procs = {"gunicorn": gunicorn, "nginx": nginx}
        wait_for(app_port, 200, "gunicorn", procs, logs, timeout=25)
        wait_for(nginx_port, 200, "gunicorn through nginx", procs, logs, timeout=10)

        yield Stack(nginx_port, app_port, app_log, unavailable)
    finally:
        stop(nginx, grace=5)
        stop(gunicorn, grace=15)
        for handle in open_files:
            handle.close()
        if database is not None:
            database.drop()
        shutil.rmtree(tmp, ignore_errors=True)


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
    assert reply.header("Content-Type").startswith(PROBLEM)
    body = reply.json()
    assert body["code"] == "not_found"
    assert body["status"] == 404


def test_oversized_body_is_413_problem_json_from_nginx(stack: Stack) -> None:
    headers = {"Content-Type": "application/json", "X-Request-ID": "deploy-413"}
    reply = request(stack.nginx_port, "POST", ORDERS, body=b"x" * (MIB + 1), headers=headers)
    assert reply.status == 413
    assert reply.header("Content-Type").startswith(PROBLEM)
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
    reply = request(stack.nginx_port, "POST", LOGIN, body=body, headers=headers)
    assert reply.status != 413 and reply.status < 500, (reply.status, reply.body[:300])
    assert reply.header("Content-Type").startswith(PROBLEM)
    assert stack.log_record("deploy-1mib")["path"] == LOGIN


def test_app_down_is_503_problem_json_from_nginx(stack: Stack) -> None:
    reply = stack.unavailable
    assert reply.status == 503
    assert reply.header("Content-Type").startswith(PROBLEM)
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
