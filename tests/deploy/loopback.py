"""The files in deploy/ run for real on loopback: helpers shared by the deployment test
(tests/deploy/test_gunicorn_nginx.py) and the HTTP benchmark (bench/http_bench.py).

Stdlib only, no pytest: nginx's conf is rendered onto loopback ports and temp paths (nothing
else in it changes), processes are started in their own sessions and always stopped, and
/health is polled until the stack answers.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NGINX_CONF = REPO / "deploy" / "nginx.conf"
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self) -> dict:
        return json.loads(self.body)


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
    """One HTTP request on a fresh connection, stdlib only."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, resp.msg, resp.read())
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def can_bind(address: str) -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((address, 0))
        return True
    except OSError:
        return False


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"<{path.name} unreadable>"
    return "\n".join(text.splitlines()[-lines:]) or f"<{path.name} empty>"


def render_nginx_conf(
    tmp: Path,
    nginx_port: int,
    app_port: int,
    proxy_bind: str | None = None,
    *,
    worker_connections: int | None = None,
) -> Path:
    """deploy/nginx.conf with only its locations changed: ports, upstream, pid, temp paths.

    `proxy_bind` sets the address nginx connects to the app from; `worker_connections`, when
    given, replaces the events block's value (the benchmark's 1000 clients may need more than
    deploy/nginx.conf has: each proxied client holds two connections in one worker).
    """
    text = NGINX_CONF.read_text()
    temp_paths = "".join(
        f"    {name}_temp_path {tmp / 'nginx' / name};\n"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    replacements = [
        ("pid /var/run/nginx.pid;", f"pid {tmp / 'nginx.pid'};"),
        # `resolve` needs nginx >= 1.27.3 and a DNS name; the test has an address.
        ("server app:8000 resolve;", f"server 127.0.0.1:{app_port};"),
        ("listen 80 default_server ", f"listen 127.0.0.1:{nginx_port} default_server "),
        ("http {\n", "http {\n" + temp_paths),
    ]
    if proxy_bind:
        replacements.append(
            ("proxy_pass http://comanda_app;", f"proxy_pass http://comanda_app;\n            proxy_bind {proxy_bind};")
        )
    for old, new in replacements:
        count = text.count(old)
        if count != 1:
            raise ValueError(f"deploy/nginx.conf changed: expected {old!r} once, found it {count} times")
        text = text.replace(old, new)
    if worker_connections is not None:
        text, count = re.subn(r"worker_connections\s+\d+;", f"worker_connections {worker_connections};", text)
        if count != 1:
            raise ValueError(f"deploy/nginx.conf changed: expected one worker_connections, found {count}")
    (tmp / "nginx").mkdir(exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(text)
    return conf


def nginx_command(nginx: str, tmp: Path, conf: Path) -> list[str]:
    """nginx in the foreground with its prefix in `tmp` (append `-t` to only check the conf)."""
    return [nginx, "-p", f"{tmp}/", "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]


def stop(proc: subprocess.Popen | None, grace: float) -> None:
    """SIGTERM, a bounded wait, then SIGKILL for the process group we started."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: takes the workers too
        proc.wait(timeout=5)


class StackError(RuntimeError):
    """A process of the stack exited or never answered; the message carries the logs' tails."""


def wait_for(
    port: int, status: int, what: str, procs: dict[str, subprocess.Popen], logs: list[Path], timeout: float
) -> Reply:
    """Poll GET /health on a port until it answers `status`; raise StackError with the logs otherwise."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                dumped = "\n\n".join(f"--- {p.name}\n{tail(p)}" for p in logs)
                raise StackError(f"{name} exited with {proc.returncode} while waiting for {what}\n{dumped}")
        try:
            reply = request(port, "GET", "/health", headers={"X-Request-ID": "deploy-probe"})
            if reply.status == status:
                return reply
            last = f"{reply.status} {reply.body[:200]!r}"
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.2)
    dumped = "\n\n".join(f"--- {p.name}\n{tail(p)}" for p in logs)
    raise StackError(f"{what}: /health did not answer {status} within {timeout:.0f}s (last: {last})\n{dumped}")


def pg_url(url: str) -> str:
    """A URL psycopg2 accepts (the app's normalized form carries the driver name)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url
