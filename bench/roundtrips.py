"""Every statement one `POST /api/v1/orders` sends to PostgreSQL, counted on the wire.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/comanda_bench .venv/bin/python bench/roundtrips.py [--orders 20]

The application runs in this process (production settings, Flask test client: everything but
the socket) against a fresh database (`<DATABASE_URL's name>_rt`, dropped at the end) through a
small TCP proxy that reads the PostgreSQL frontend protocol and records each query message
(psycopg2 uses the simple query protocol: one message, one round trip; BEGIN, COMMIT, savepoints
and the pool's pre-ping included, which SQLAlchemy's events would not show). Prints, for a
3-line order without and with an Idempotency-Key, the number of round trips (median over
--orders requests after a warm-up) and the statements of one request. Then, without the proxy,
the CPU one order costs, sequentially in this process: Python (time.process_time) and the
PostgreSQL backends (/proc/<pid>/stat of this database's backends, so the server must be local),
for the application and for bench/baseline_app.py: the costs the machine's two cores share.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import re
import socket
import statistics
import struct
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from http_bench import PASSWORD, admin_execute, app_env, flask, server_and_name, with_database  # noqa: E402

from tests.deploy.loopback import pg_url  # noqa: E402


class CountingProxy:
    """127.0.0.1:<port> -> PostgreSQL; records the text of every Query ('Q') and Parse ('P') message."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.statements: list[str] = []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._frontend, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _read(sock: socket.socket, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def _frontend(self, client: socket.socket, server: socket.socket) -> None:
        try:
            head = self._read(client, 4)  # the startup message has no type byte
            (length,) = struct.unpack("!i", head)
            server.sendall(head + self._read(client, length - 4))
            while True:
                kind = self._read(client, 1)
                head = self._read(client, 4)
                (length,) = struct.unpack("!i", head)
                payload = self._read(client, length - 4)
                if kind == b"Q":
                    text = payload.rstrip(b"\0").decode(errors="replace")
                    with self.lock:
                        self.statements.append(" ".join(text.split()))
                elif kind == b"P":
                    name_end = payload.index(b"\0")
                    text = payload[name_end + 1 : payload.index(b"\0", name_end + 1)].decode(errors="replace")
                    with self.lock:
                        self.statements.append("[extended] " + " ".join(text.split()))
                server.sendall(kind + head + payload)
        except (EOFError, OSError, ValueError):
            pass
        finally:
            for s in (client, server):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def take(self) -> list[str]:
        with self.lock:
            taken, self.statements = self.statements, []
        return taken


LABELS = [
    (r"^SELECT 1$", "pool pre-ping (pool_pre_ping=True)"),
    (r"^BEGIN", "BEGIN (psycopg2, implicit)"),
    (r"^COMMIT", "COMMIT"),
    (r"^ROLLBACK$", "ROLLBACK (connection returned to the pool)"),
    (r"^SAVEPOINT|^RELEASE SAVEPOINT", "savepoint around the order INSERT"),
    (r"revoked_tokens.*FROM users|FROM users.*revoked_tokens", "auth: user + revocation check (one statement)"),
    (r"FROM revoked_tokens|revoked", "token revocation check"),
    (r"FROM users", "user lookup (JWT identity)"),
    (r"FROM products", "product lookup"),
    (r"^INSERT INTO orders", "INSERT order"),
    (r"^INSERT INTO order_items", "INSERT lines"),
    (r"FROM order_items", "re-read of the lines (refresh)"),
    (r"report_", "rollups"),
    (r"lock_timeout = \d+; INSERT INTO idempotency", "Idempotency-Key (lock_timeout + INSERT)"),
    (r"idempotency", "Idempotency-Key"),
    (r"lock_timeout", "Idempotency-Key (lock_timeout)"),
]


def label(statement: str) -> str:
    for pattern, name in LABELS:
        if re.search(pattern, statement, re.I | re.S):
            return name
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--cpu-orders", type=int, default=300, help="orders per app for the CPU figures")
    parser.add_argument("--profile", metavar="FILE", help="also cProfile the app's CPU orders into FILE (pstats)")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/comanda_bench")
    name = server_and_name(database_url)[1] + "_rt"
    url = with_database(database_url, name)
    admin_execute(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_execute(database_url, f'CREATE DATABASE "{name}"')
    try:
        env = app_env(url)  # production logging (JSON request log on stderr), as under gunicorn
        flask(env, "db", "upgrade")
        flask(env, "users", "create", "--email", "rt-admin@bench.local", "--name", "RT Admin", "--role", "admin",
              "--password", PASSWORD)
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(pg_url(url))
        proxy = CountingProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
        proxied = urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}",
                                            query="sslmode=disable&gssencmode=disable"))
        os.environ.update({**env, "DATABASE_URL": proxied})
        from app import create_app

        app = create_app("production")
        client = app.test_client()

        def ok(resp, status: int = 200):
            assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
            return resp.get_json()

        admin = ok(client.post("/api/v1/auth/login", json={"email": "rt-admin@bench.local", "password": PASSWORD}))
        auth = {"Authorization": f"Bearer {admin['access_token']}"}
        products = [ok(client.post("/api/v1/products", json={"name": f"P{i}", "price": "10.50"}, headers=auth), 201)
                    ["id"] for i in range(3)]
        ok(client.post("/api/v1/users", json={"email": "rt-waiter@bench.local", "name": "W", "password": PASSWORD,
                                              "role": "waiter"}, headers=auth), 201)
        waiter = ok(client.post("/api/v1/auth/login", json={"email": "rt-waiter@bench.local", "password": PASSWORD}))
        headers = {"Authorization": f"Bearer {waiter['access_token']}"}

        def post(n: int, key: bool) -> list[str]:
            body = {"customer_name": "Mesa", "table": "1", "client_order_id": f"rt-{key}-{n}",
                    "items": [{"product_id": p, "quantity": 1} for p in products]}
            extra = {"Idempotency-Key": f"k-{n}"} if key else {}
            proxy.take()
            ok(client.post("/api/v1/orders", json=body, headers={**headers, **extra}), 201)
            return proxy.take()

        for key in (False, True):
            for n in range(3):
                post(-1 - n, key)  # warm-up
            runs = [post(n, key) for n in range(args.orders)]
            counts = [len(r) for r in runs]
            print(f"\nPOST /api/v1/orders, 3 lines{' + Idempotency-Key' if key else ''}: "
                  f"{statistics.median(counts):.0f} round trips (median of {len(runs)}; min {min(counts)}, "
                  f"max {max(counts)})")
            for statement in runs[len(runs) // 2]:
                print(f"  {label(statement):42} {statement[:110]}")

        # CPU per order, in this process (the app, or the baseline) and in PostgreSQL's backends.
        import baseline_app
        from werkzeug.test import Client

        baseline_app.DSN = pg_url(url)  # straight to PostgreSQL, like the app's pool below (no proxy)
        baseline = Client(baseline_app.app)
        os.environ["DATABASE_URL"] = url
        direct = create_app("production").test_client()
        headers_direct = headers

        def api_order(n: int) -> None:
            body = {"customer_name": "Mesa", "table": "1", "client_order_id": f"cpu-api-{n}",
                    "items": [{"product_id": p, "quantity": 1} for p in products]}
            ok(direct.post("/api/v1/orders", json=body, headers=headers_direct), 201)

        def baseline_order(n: int) -> None:
            body = {"customer_name": "Mesa", "table": "1", "client_order_id": f"cpu-base-{n}",
                    "items": [{"product_id": p, "quantity": 1} for p in products]}
            assert baseline.post("/api/v1/orders", json=body).status_code == 201

        print(f"\nCPU per order over {args.cpu_orders} sequential orders, in process (no HTTP server, no nginx):")
        print("| app | wall ms/order | Python CPU ms/order | PostgreSQL backend CPU ms/order |")
        print("|---|---:|---:|---:|")
        for label_, fn in (("POST /api/v1/orders (Flask test client)", api_order),
                           ("bench/baseline_app.py (werkzeug test client)", baseline_order)):
            for n in range(20):
                fn(-1 - n)  # warm-up (and connect)
            before_pg, before_py, before_wall = backend_cpu(url, name), time.process_time(), time.perf_counter()
            profiler = cProfile.Profile() if args.profile and fn is api_order else None
            if profiler:
                profiler.enable()
            for n in range(args.cpu_orders):
                fn(n)
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            wall = time.perf_counter() - before_wall
            py = time.process_time() - before_py
            pg = backend_cpu(url, name) - before_pg
            k = 1000 / args.cpu_orders
            print(f"| {label_} | {wall * k:.2f} | {py * k:.2f} | {pg * k:.2f} |")
    finally:
        admin_execute(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backend_cpu(url: str, name: str) -> float:
    """CPU seconds (user + system) used so far by the PostgreSQL backends connected to `name`."""
    import psycopg2

    conn = psycopg2.connect(pg_url(url))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            pids = [row[0] for row in cur.fetchall()]
    finally:
        conn.close()
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


if __name__ == "__main__":
    main()
