"""The machinery of the deployment tests: real gunicorn behind real nginx, from the files in deploy/.

`run_stack()` runs the migrations once (`flask db upgrade`, as deploy/entrypoint.sh does), starts
gunicorn from deploy/gunicorn.conf.py in production mode and nginx from deploy/nginx.conf rendered
onto loopback ports, and stops both at the end. Nothing outside a temp dir is touched.

nginx connects to gunicorn from 127.0.0.2 while the tests connect to nginx from 127.0.0.1,
so the address the app logs shows which hop it believed (tests/deploy/test_gunicorn_nginx.py).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.deploy.loopback import (  # noqa: F401  (re-exported for the deployment tests)
    GUNICORN_CONF,
    NGINX_CONF,
    REPO,
    Reply,
    can_bind,
    find_nginx,
    free_port,
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

DEPLOY_MARKS = [
    pytest.mark.skipif(NGINX is None, reason="nginx binary not found (apt-get install -y nginx)"),
    pytest.mark.skipif(importlib.util.find_spec("gunicorn") is None, reason="gunicorn is not installed"),
]


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
    env: dict[str, str]  # the app's environment (production mode, DATABASE_URL, ...)
    database_url: str
    nginx_log: Path  # nginx stderr: its error log
    gunicorn_pid: int  # gunicorn's master, leader of its own process group

    def flask(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """A `flask --app wsgi ...` command with the app's environment (e.g. `users ensure-admin`)."""
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=REPO,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=60,
        )

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


@contextlib.contextmanager
def run_stack(
    database_url: str | None = None, extra_env: dict[str, str] | None = None, workers: int = 2
) -> Iterator[Stack]:
    """nginx + gunicorn on loopback. The database: `database_url` if given, else a fresh database
    on the server of TEST_DATABASE_URL (dropped afterwards), else a SQLite file in the temp dir."""
    tmp = Path(tempfile.mkdtemp(prefix="comanda-deploy-"))
    # nginx workers drop root privileges (user nobody) and write temp files under here.
    tmp.chmod(0o755)
    database: PostgresDatabase | None = None
    gunicorn: subprocess.Popen | None = None
    nginx: subprocess.Popen | None = None
    open_files = []
    try:
        server_url = os.environ.get("TEST_DATABASE_URL")
        if database_url:
            pass
        elif server_url:
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
            GUNICORN_WORKERS=str(workers),
            # REDIS_URL, when set, is shared with other runs: keep this run's counters apart.
            RATELIMIT_KEY_PREFIX=f"comanda-deploy-{secrets.token_hex(4)}",
            # Load from one address as a few users: counted, never refused (tests/auth/test_rate_limits.py).
            RATELIMIT_PER_ADDRESS="100000000 per minute",
            RATELIMIT_PER_USER="100000000 per minute",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env or {})

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
        nginx_cmd = [NGINX, "-p", f"{tmp}/", "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]
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

        yield Stack(nginx_port, app_port, app_log, unavailable, env, database_url, nginx_err, gunicorn.pid)
    finally:
        stop(nginx, grace=5)
        stop(gunicorn, grace=15)
        for handle in open_files:
            handle.close()
        if database is not None:
            database.drop()
        shutil.rmtree(tmp, ignore_errors=True)




# ------------------------------------------------------------------------ app data


ADMIN_EMAIL = "deploy-admin@example.com"
ADMIN_PASSWORD = "deploy admin password 1"


def admin_headers(stack: Stack) -> dict[str, str]:
    """`flask users ensure-admin` with known credentials, then a real login through nginx."""
    credentials = {"ADMIN_EMAIL": ADMIN_EMAIL, "ADMIN_PASSWORD": ADMIN_PASSWORD}
    done = stack.flask("users", "ensure-admin", extra_env=credentials)
    assert done.returncode == 0, f"ensure-admin failed:\n{done.stdout}\n{done.stderr}"
    body = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).encode()
    reply = request(stack.nginx_port, "POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
    assert reply.status == 200, reply.body[:300]
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def create_product(stack: Stack, headers: dict[str, str], name: str = "Taco al pastor") -> int:
    body = json.dumps({"name": name, "price": "25.00"}).encode()
    reply = request(stack.nginx_port, "POST", "/api/v1/products", body, {**headers, "Content-Type": "application/json"})
    assert reply.status == 201, reply.body[:300]
    return reply.json()["id"]


def order_json(client_order_id: str, product_id: int) -> bytes:
    return json.dumps({
        "client_order_id": client_order_id,
        "customer_name": "Mesa 7",
        "items": [{"product_id": product_id, "quantity": 2}],
    }).encode()


def stored_client_order_ids(database_url: str, prefix: str) -> set[str]:
    """The client_order_ids of the rows in `orders` that start with `prefix` (PostgreSQL)."""
    import psycopg2

    conn = psycopg2.connect(pg_url(database_url), connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT client_order_id FROM orders WHERE client_order_id LIKE %s", (prefix + "%",))
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()
