"""Order creation over real HTTP: Comanda vs the stack floor vs a bare psycopg2 baseline, all three under
deploy/'s gunicorn and nginx (bench/floor_app.py: the same stack doing the bare minimum).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/comanda_bench .venv/bin/python bench/http_bench.py
    ... --seconds 10 --rounds 2 --connections 32,1000 --profile bench/profiles/create_path_before.svg

Two stacks on loopback, each gunicorn from deploy/gunicorn.conf.py (production settings) behind
nginx from deploy/nginx.conf (rendered onto free ports and a temp dir by tests/deploy/loopback.py):
the application (wsgi:app) and bench/baseline_app.py, over one fresh database
(`<DATABASE_URL's name>_http`, dropped at the end) built by `flask db upgrade`. wrk drives
`POST /api/v1/orders` (3 lines, one client_order_id per request, a waiter's bearer token from
`POST /auth/login`) at each concurrency in alternating rounds (API, floor, baseline, baseline, floor, API, ...),
each bounded by --seconds. Afterwards every order the database holds for a round is matched
against the 201 answers wrk saw. Then, optionally: GET /reports/products (1, 30, 365 days) on the
1M-order chain database of bench/reports_bench.py through the same kind of stack, with the naive
GROUP BY measured in the same run; POST /orders/batch of 500 orders (bench/batch_bench.py).
Prints one markdown table; the figures also go to bench/results/http_*.json (not committed).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.deploy.loopback import (  # noqa: E402
    GUNICORN_CONF,
    NGINX_CONF,
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

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/comanda_bench"
LUA = ROOT / "bench" / "orders.lua"
BENCH_WORKER_CONNECTIONS = 4096
PASSWORD = "bench-" + secrets.token_hex(8)  # noqa: S105 - a throwaway user in a throwaway database


# ---------------------------------------------------------------------------------------- processes
def raise_nofile() -> int:
    """Raise this process's open-file limit to its hard limit; gunicorn, nginx and wrk inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GUNICORN_", "FLASK_", "COMANDA_", "RATELIMIT_"))
        and k not in {"DATABASE_URL", "SECRET_KEY", "JWT_SECRET_KEY", "PROXY_FIX_X_FOR", "LOG_FORMAT", "LOG_LEVEL"}
    }
    env.update(extra)
    return env


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production settings, throwaway secrets, this run's own rate-limit keys."""
    return clean_env(
        {
            "COMANDA_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "PROXY_FIX_X_FOR": "1",
            "LOG_FORMAT": "json",
            "RATELIMIT_KEY_PREFIX": f"comanda-bench-{secrets.token_hex(4)}",
            # One address and a few users at thousands of requests a second: measure throughput, with
            # the counting (app/web/ratelimit.py) on but allowances no bench run reaches.
            "RATELIMIT_PER_ADDRESS": "100000000 per minute",
            "RATELIMIT_PER_USER": "100000000 per minute",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Stack:
    name: str
    nginx_port: int
    app_port: int
    gunicorn: subprocess.Popen
    tmp: Path
    worker_connections: int | None

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def worker_rss_mib(self) -> list[float]:
        sizes = []
        for pid in self.workers():
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                kib = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
                sizes.append(round(kib / 1024, 1))
        return sizes


@contextlib.contextmanager
def stack(name: str, wsgi_app: str, env: dict[str, str], worker_connections: int | None):
    """gunicorn (deploy/gunicorn.conf.py) behind nginx (deploy/nginx.conf) on free loopback ports."""
    nginx_bin = find_nginx()
    if nginx_bin is None:
        raise SystemExit("nginx not found (apt-get install -y nginx)")
    tmp = Path(tempfile.mkdtemp(prefix=f"comanda-bench-{name}-"))
    tmp.chmod(0o755)  # nginx workers run as nobody
    gunicorn = nginx = None
    files = []
    try:
        app_port, nginx_port = free_port(), free_port()
        conf = render_nginx_conf(tmp, nginx_port, app_port, worker_connections=worker_connections)
        cmd = nginx_command(nginx_bin, tmp, conf)
        check = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise SystemExit(f"nginx -t rejected the rendered deploy/nginx.conf:\n{check.stderr}")
        logs = {n: tmp / f"{n}.log" for n in ("gunicorn.err", "gunicorn.out", "nginx.err", "nginx.out")}
        handles = {n: p.open("wb") for n, p in logs.items()}
        files.extend(handles.values())
        nginx = subprocess.Popen(cmd, stdout=handles["nginx.out"], stderr=handles["nginx.err"],
                                 start_new_session=True)
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), wsgi_app],
            cwd=ROOT, env={**env, "GUNICORN_BIND": f"127.0.0.1:{app_port}"},
            stdout=handles["gunicorn.out"], stderr=handles["gunicorn.err"], start_new_session=True,
        )
        procs = {"gunicorn": gunicorn, "nginx": nginx}
        wait_for(nginx_port, 200, f"{name} through nginx", procs, list(logs.values()), timeout=60)
        yield Stack(name, nginx_port, app_port, gunicorn, tmp, worker_connections)
    finally:
        stop(nginx, grace=5)
        stop(gunicorn, grace=20)
        for handle in files:
            handle.close()
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------------------- database
def server_and_name(url: str) -> tuple[str, str]:
    parts = urlsplit(pg_url(url))
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(pg_url(url))._replace(path=f"/{name}"))


def admin_execute(url: str, statement: str) -> None:
    import psycopg2

    conn = psycopg2.connect(server_and_name(url)[0])
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg2

    conn = psycopg2.connect(pg_url(url))
    try:
        with conn, conn.cursor() as cur:  # commits: the statement may write
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------ the API
def call(port: int, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    reply = request(port, method, path, json.dumps(body).encode() if body is not None else None, headers)
    if reply.status >= 300:
        raise SystemExit(f"{method} {path}: {reply.status} {reply.body[:500]!r}")
    return reply.json() if reply.body else {}


def login(port: int, email: str) -> str:
    return call(port, "POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})["access_token"]


V11_FIELDS = ("location_id", "modifiers")


def detect_v11(port: int) -> tuple[str, ...]:
    """Which v1.1 fields POST /api/v1/orders takes (API.md): `location_id` on the order,
    `modifiers` on a line. Each is used as soon as the OpenAPI document has it."""
    spec = call(port, "GET", "/openapi.json")
    schemas = spec.get("components", {}).get("schemas", {})

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = schemas.get(node["$ref"].rsplit("/", 1)[-1], {})
        return node

    try:
        body = resolve(spec["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"])
        line = resolve(body["properties"]["items"]["items"])
    except KeyError:
        return ()
    found = []
    if "location_id" in body.get("properties", {}):
        found.append("location_id")
    if "modifiers" in line.get("properties", {}):
        found.append("modifiers")
    return tuple(found)


@dataclass
class Catalogue:
    waiter_email: str
    product_ids: list[int]
    location_id: int | None = None


def prepare_api(port: int, admin_email: str, v11: tuple[str, ...]) -> Catalogue:
    """Products and a waiter, through the API (as an admin would)."""
    token = login(port, admin_email)
    products = [
        call(port, "POST", "/api/v1/products", {"name": f"Bench product {i}", "price": f"{20 + i}.50"}, token)["id"]
        for i in range(30)
    ]
    location_id = None
    if "location_id" in v11:
        locations = call(port, "GET", "/api/v1/locations", token=token)
        rows = locations.get("data", locations) if isinstance(locations, dict) else locations
        location_id = next((r["id"] for r in rows if r.get("default")), rows[0]["id"])
    email = "bench-waiter@bench.local"
    call(port, "POST", "/api/v1/users", {"email": email, "name": "Bench Waiter", "password": PASSWORD,
                                          "role": "waiter"}, token)
    return Catalogue(email, products, location_id)


def order_body(catalogue: Catalogue, n: int, client_order_id: str, v11: tuple[str, ...] = ()) -> dict:
    """A 3-line order; with the v1.1 fields named in `v11`, the first line carries a modifier and
    the order its location_id."""
    products = catalogue.product_ids
    lines = [{"product_id": products[(n + k * 7) % len(products)], "quantity": 1 + k % 2} for k in range(3)]
    body = {"customer_name": "Mesa bench", "table": str(1 + n % 40), "client_order_id": client_order_id,
            "items": lines}
    if "modifiers" in v11:
        lines[0]["modifiers"] = [{"name": "Extra guacamole", "price": "25.00"}]
    if "location_id" in v11:
        body["location_id"] = catalogue.location_id
    return body


def nginx_worker_connections(clients: int) -> int | None:
    """None (keep deploy/nginx.conf's value) when it is enough for `clients`, else BENCH_WORKER_CONNECTIONS.

    nginx holds two connections per proxied client (client and upstream) and nothing spreads the
    clients evenly over its workers, so one worker must be able to hold all of them.
    """
    deployed = int(re.search(r"worker_connections\s+(\d+);", NGINX_CONF.read_text()).group(1))
    needed = 2 * clients + 64
    if deployed >= needed:
        return None
    print(f"note: deploy/nginx.conf has worker_connections {deployed}, below {needed} for {clients} clients; "
          f"the benchmark's copy is rendered with {BENCH_WORKER_CONNECTIONS}", flush=True)
    return BENCH_WORKER_CONNECTIONS


# ---------------------------------------------------------------------------------------------- wrk
@dataclass
class Round:
    kind: str  # "api" | "baseline"
    connections: int
    seconds: float
    tag: str
    requests: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    non_2xx: int = 0
    socket_errors: int = 0
    n201: int = 0
    in_db: int = 0
    lost: int = 0  # answered 201 but not in the database
    unanswered: int = 0  # in the database without a 201 seen by wrk (in flight when wrk stopped)
    drain_s: float = 0.0  # time the stack took to work off what was queued when wrk stopped
    stored_rps: float = 0.0  # orders stored / (seconds + drain_s): throughput including the cut-off tail
    statuses: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


def run_wrk(stack_: Stack, r: Round, body: dict, token: str | None, threads: int, workdir: Path) -> Round:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    template = json.dumps(body).replace("%", "%%").replace(json.dumps(r.tag), '"%s"')
    ids_file = workdir / f"{r.tag}.ids"

    def lua_str(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    prelude = (
        "PATH = '/api/v1/orders'\n"
        f"HEADERS = {{{', '.join(f'[{lua_str(k)}] = {lua_str(v)}' for k, v in headers.items())}}}\n"
        f"BODY = {lua_str(template)}\nTAG = {lua_str(r.tag)}\nIDS_FILE = {lua_str(str(ids_file))}\n"
    )
    script = workdir / f"{r.tag}.lua"
    script.write_text(prelude + LUA.read_text())
    cmd = ["wrk", "-t", str(min(threads, r.connections)), "-c", str(r.connections), "-d", f"{r.seconds:g}s",
           "--timeout", "60s", "-s", str(script), f"http://127.0.0.1:{stack_.nginx_port}/api/v1/orders"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=r.seconds + 120)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    out = json.loads(line.split(" ", 1)[1])
    r.requests = out["requests"]
    r.rps = out["requests"] / (out["duration_us"] / 1e6)
    r.p50_ms, r.p99_ms = out["p50_us"] / 1000, out["p99_us"] / 1000
    r.non_2xx = out["status"]
    r.errors = {k: out[k] for k in ("connect", "read", "write", "timeout")}
    r.socket_errors = sum(r.errors.values())
    r.statuses = out["statuses"]
    r.n201 = out["n201"]
    r.ids_file = ids_file  # type: ignore[attr-defined]
    return r


def drain(stack_: Stack, limit: float = 120.0) -> float:
    """Wait until the stack has worked off what wrk left queued (GET /health answers within 0.5 s)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        t0 = time.monotonic()
        try:
            if request(stack_.nginx_port, "GET", "/health").status == 200 and time.monotonic() - t0 < 0.5:
                break
        except OSError:
            pass
        time.sleep(0.5)
    return time.monotonic() - started


def reconcile(database_url: str, r: Round) -> None:
    """Match the round's orders in the database against the 201 answers wrk saw."""
    answered = set(r.ids_file.read_text().split())  # type: ignore[attr-defined]
    stored = {row[0] for row in query(database_url, "SELECT client_order_id FROM orders WHERE client_order_id LIKE %s",
                                      (r.tag.replace("_", r"\_") + "-%",))}
    r.in_db = len(stored)
    r.lost = len(answered - stored)
    r.unanswered = len(stored - answered)


# ------------------------------------------------------------------------------------------ profile
def profile(stack_: Stack, seconds: float, out: Path, fmt: str) -> subprocess.Popen | None:
    """py-spy on every gunicorn worker for `seconds`, idle (waiting) frames included: time spent
    waiting for PostgreSQL or for the next connection shows up as such."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("py-spy not found: pip install -r requirements-dev.txt", file=sys.stderr)
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [py_spy, "record", "--pid", str(stack_.gunicorn.pid), "--subprocesses", "--idle", "--duration",
         f"{int(seconds)}", "--rate", "100", "--format", fmt, "--output", str(out),
         *(["--function"] if fmt == "raw" else [])],  # raw: one frame per function, not per line
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def merge_processes(collapsed: Path) -> Path:
    """Fold py-spy's per-process stacks together (drop the leading `process <pid>:...` frames) into
    `<collapsed>.gz` (a tenth of the size; bench/profile_summary.py reads either)."""
    merged: dict[str, int] = {}
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        key = ";".join(frames)
        merged[key] = merged.get(key, 0) + int(count)
    out = collapsed.with_name(collapsed.name + ".gz")
    out.write_bytes(gzip.compress("".join(f"{stack} {n}\n" for stack, n in sorted(merged.items())).encode(), mtime=0))
    collapsed.unlink()
    return out


# ------------------------------------------------------------------------------------------ reports
def reports_bench(server_url: str, chain_db: str, runs: int, worker_connections: int | None) -> dict | None:
    """GET /reports/products over 1, 30 and 365 days through gunicorn + nginx on the chain database."""
    parts = urlsplit(pg_url(server_url))
    os.environ["BENCH_SERVER"] = urlunsplit(parts._replace(path=""))
    import reports_bench
    from reports_data import Params, bench_env, stored_meta

    try:
        meta = stored_meta(chain_db)
    except Exception as exc:  # noqa: BLE001 - any failure means "not loaded"
        print(f"reports: cannot read {chain_db} ({exc})", file=sys.stderr)
        return None
    from dataclasses import asdict

    if meta is None or meta.get("params") != asdict(Params()) or "rollups" not in meta:
        return None
    env = bench_env(chain_db)
    flask(clean_env(env), "db", "upgrade")
    app = reports_bench.make_app(env)  # in this process: the token and the naive GROUP BY
    # A manager of every location of the chain, as reports_bench.py's own whole-chain figures use.
    headers = reports_bench.staff_headers(app, "manager", list(range(1, Params().locations + 1)))
    last = date.fromisoformat(meta["last_day"])
    results: dict = {"orders": meta["orders"], "last_day": str(last), "ranges": {}}
    gunicorn_env = clean_env({**env, "PYTHONUNBUFFERED": "1"})
    with stack("reports", "wsgi:app", gunicorn_env, worker_connections) as s:
        for days in (1, 30, 365):
            url = f"/api/v1/reports/products?start_date={last - timedelta(days=days - 1)}&end_date={last}"
            times = []
            for i in range(runs + 5):
                started = time.perf_counter()
                reply = request(s.nginx_port, "GET", url, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if reply.status != 200:
                    raise SystemExit(f"GET {url}: {reply.status} {reply.body[:300]!r}")
                if i >= 5:
                    times.append(elapsed)
            q = statistics.quantiles(times, n=20)
            results["ranges"][days] = {"p50": statistics.median(times), "p95": q[18], "runs": runs}
    naive = reports_bench.time_baselines(app, last - timedelta(days=364), last, 1)
    results["naive_365_ms"] = statistics.median(naive["exact"])
    return results


def batch_bench(server_url: str, runs: int) -> dict:
    db_url = with_database(server_url, server_and_name(server_url)[1] + "_batch")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "batch_bench.py"), "--runs", str(runs), "--db",
                           db_url, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"batch_bench failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(line.split(" ", 1)[1])


# --------------------------------------------------------------------------------------------- main
def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    return f"{os.cpu_count()} vCPU {cpu}, {mem_kb / 1024 / 1024:.0f} GiB RAM, Python {platform.python_version()}"


KINDS = ("api", "floor", "baseline")


def med(rounds: list[Round], attr: str) -> float:
    return statistics.median(getattr(r, attr) for r in rounds)


def main() -> None:  # noqa: C901 - a script's main, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each wrk round (default 30)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per app and concurrency (ABAB; default 2)")
    parser.add_argument("--connections", default="32,1000", help="comma-separated concurrencies (default 32,1000)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, help="GUNICORN_WORKERS for both apps (default: deploy/'s default)")
    parser.add_argument("--worker-connections", type=int,
                        help="render nginx with this worker_connections (default: deploy/nginx.conf's value, or "
                        f"{BENCH_WORKER_CONNECTIONS} when that is below 2 x the highest concurrency + 64)")
    parser.add_argument("--v11", choices=("auto", "yes", "no"), default="auto",
                        help="order body with a modifier and a location_id (auto: each one once /openapi.json "
                        "has it)")
    parser.add_argument("--profile", type=Path, help="py-spy flame graph (SVG) of the workers in an extra API "
                        "round at the first concurrency (not counted in the table), and the collapsed stacks "
                        "(same name, .txt.gz) in another; bench/profile_summary.py reads the latter")
    parser.add_argument("--reports", choices=("auto", "yes", "no"), default="auto",
                        help="GET /reports/products on the chain database (auto: if bench/reports_bench.py loaded it)")
    parser.add_argument("--chain-db", default=None, help="chain database name (default: DATABASE_URL's)")
    parser.add_argument("--report-runs", type=int, default=30)
    parser.add_argument("--batch-runs", type=int, default=5, help="500-order batches (0: skip)")
    parser.add_argument("--keep-db", action="store_true", help="keep the <name>_http database")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found (apt-get install -y wrk)")
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not pg_url(database_url).startswith("postgresql://"):
        raise SystemExit("DATABASE_URL must point at PostgreSQL")
    concurrencies = [int(c) for c in args.connections.split(",")]
    nofile = raise_nofile()
    if nofile < 2 * max(concurrencies) + 256:
        print(f"warning: open-file limit {nofile} is low for {max(concurrencies)} connections", file=sys.stderr)

    base_name = server_and_name(database_url)[1]
    http_db = f"{base_name}_http"
    http_url = with_database(database_url, http_db)
    admin_execute(database_url, f'DROP DATABASE IF EXISTS "{http_db}" WITH (FORCE)')
    admin_execute(database_url, f'CREATE DATABASE "{http_db}"')
    workdir = Path(tempfile.mkdtemp(prefix="comanda-bench-wrk-"))
    results: dict = {"machine": machine(), "started": datetime.now(UTC).isoformat(), "args": vars(args) | {
        "profile": str(args.profile) if args.profile else None}}
    try:
        extra = {"GUNICORN_WORKERS": str(args.workers)} if args.workers else {}
        api_env = app_env(http_url, **extra)
        flask(api_env, "db", "upgrade")
        admin_email = "bench-admin@bench.local"
        flask(api_env, "users", "create", "--email", admin_email, "--name", "Bench Admin", "--role", "admin",
              "--password", PASSWORD)
        base_env = clean_env({"DATABASE_URL": http_url, "PYTHONUNBUFFERED": "1", **extra})
        wc = args.worker_connections or nginx_worker_connections(max(concurrencies))
        floor_env = {**base_env, "JWT_SECRET_KEY": api_env["JWT_SECRET_KEY"]}  # verifies the API's tokens
        with stack("api", "wsgi:app", api_env, wc) as api, stack("baseline", "bench.baseline_app:app", base_env,
                                                                   wc) as base, \
                stack("floor", "bench.floor_app:app", floor_env, wc) as floor:
            stacks = {"api": api, "floor": floor, "baseline": base}
            v11 = detect_v11(api.nginx_port) if args.v11 == "auto" else V11_FIELDS if args.v11 == "yes" else ()
            catalogue = prepare_api(api.nginx_port, admin_email, v11)
            results["v11"] = v11
            results["workers"] = len(api.workers())
            print(f"api workers: {len(api.workers())}, baseline workers: {len(base.workers())}, body: "
                  f"{'v1 + ' + ', '.join(v11) if v11 else 'v1'}, {args.seconds:g} s rounds, "
                  f"open-file limit {nofile}", flush=True)

            def one(kind: str, conns: int, label: str, seconds: float, note: str = "") -> Round:
                s = stacks[kind]
                tag = f"{label}{secrets.token_hex(3)}"
                token = login(api.nginx_port, catalogue.waiter_email) if kind != "baseline" else None
                body = order_body(catalogue, len(tag), tag, v11)
                r = run_wrk(s, Round(kind, conns, seconds, tag), body, token, args.threads, workdir)
                r.drain_s = drain(s)  # requests queued when wrk stopped still run: count their orders too
                reconcile(http_url, r)
                r.stored_rps = r.in_db / (seconds + r.drain_s)
                print(f"  {kind:8} c={conns:<5} {r.rps:7.0f} req/s  p50 {r.p50_ms:7.1f} ms  p99 {r.p99_ms:8.1f} ms  "
                      f"non-2xx {r.non_2xx} {r.statuses or ''} socket errors {r.socket_errors} {r.errors}  "
                      f"201s {r.n201} in db {r.in_db} (lost {r.lost}, unanswered {r.unanswered}; "
                      f"drained in {r.drain_s:.1f} s, "
                      f"{r.stored_rps:.0f} stored/s){note}", flush=True)
                return r

            # Warm-up, discarded: imports, pools, caches of both apps.
            one("api", concurrencies[0], "wa", min(5.0, args.seconds), "  [warm-up, not counted]")
            one("floor", concurrencies[0], "wf", min(5.0, args.seconds), "  [warm-up, not counted]")
            one("baseline", concurrencies[0], "wb", min(5.0, args.seconds), "  [warm-up, not counted]")
            rounds: dict[tuple[str, int], list[Round]] = {}
            rss: dict[int, dict[str, list[float]]] = {}
            for conns in concurrencies:
                for i in range(args.rounds):
                    for kind in KINDS if i % 2 == 0 else KINDS[::-1]:  # ABC CBA
                        label = f"{kind[0]}{conns}r{i}"
                        rounds.setdefault((kind, conns), []).append(one(kind, conns, label, args.seconds))
                rss[conns] = {kind: s.worker_rss_mib() for kind, s in stacks.items()}
            if args.profile:  # two extra rounds, one per format (only one py-spy may attach at a time)
                for fmt, out in (("flamegraph", args.profile), ("raw", args.profile.with_suffix(".txt"))):
                    spy = profile(api, args.seconds, out, fmt)
                    time.sleep(1.0)
                    one("api", concurrencies[0], f"prof{fmt[0]}", args.seconds + 2, f"  [py-spy {fmt}, not counted]")
                    if spy is not None:
                        output, _ = spy.communicate(timeout=120)
                        if fmt == "raw" and out.exists():
                            out = merge_processes(out)
                        print(f"profile: {out} ({output.strip().splitlines()[-1] if output.strip() else ''})")
            logs = {name: tail(s.tmp / "gunicorn.err.log", 5) for name, s in stacks.items()}
            nginx_err = {name: tail(s.tmp / "nginx.err.log", 5) for name, s in stacks.items()}

        results["rounds"] = [{k: v for k, v in vars(r).items() if k != "ids_file"} for rs in rounds.values()
                             for r in rs]
        results["rss_mib"] = rss
        reports = None
        if args.reports != "no":
            reports = reports_bench(database_url, args.chain_db or base_name, args.report_runs, wc)
            if reports is None and args.reports == "yes":
                raise SystemExit("the chain database is not loaded: run bench/reports_bench.py once")
        results["reports"] = reports
        batch = batch_bench(database_url, args.batch_runs) if args.batch_runs else None
        results["batch"] = batch

        # ------------------------------------------------------------------------------- the table
        print()
        print(f"machine: {machine()}; gunicorn {results['workers']} sync workers (deploy/gunicorn.conf.py), nginx "
              f"deploy/nginx.conf{f' with worker_connections {wc}' if wc else ''}; wrk -t{args.threads}, "
              f"{args.rounds} alternating rounds of {args.seconds:g} s per app and concurrency; medians; "
              f"body: 3-line order, {'v1 + ' + ' + '.join(v11) if v11 else 'v1'}")
        print("| measurement | conns | req/s | p50 ms | p99 ms | non-2xx | socket errors | 201s | orders in DB "
              "| stored/s | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for conns in concurrencies:
            a, f, b = rounds[("api", conns)], rounds[("floor", conns)], rounds[("baseline", conns)]

            def ratio(x: list[Round], y: list[Round], what: str) -> str:
                pairs = ", ".join(f"{p.rps / q.rps:.2f}" for p, q in zip(x, y, strict=True))
                p99 = med(x, "p99_ms") / med(y, "p99_ms")
                return f"**{med(x, 'rps') / med(y, 'rps'):.2f}x** {what} (p99 {p99:.2f}x; per round {pairs})"

            for name, rs, extra_col in (("POST /api/v1/orders (Comanda)", a, ratio(a, f, "Comanda/floor")),
                                        ("stack floor (bench/floor_app.py)", f, ratio(f, b, "floor/bare")),
                                        ("bare baseline (bench/baseline_app.py)", b, "")):
                print(f"| {name} | {conns} | {med(rs, 'rps'):.0f} | {med(rs, 'p50_ms'):.1f} | {med(rs, 'p99_ms'):.1f} "
                      f"| {sum(r.non_2xx for r in rs)} | {sum(r.socket_errors for r in rs)} "
                      f"| {sum(r.n201 for r in rs)} | {sum(r.in_db for r in rs)} | {med(rs, 'stored_rps'):.0f} "
                      f"| {extra_col} |")
        if reports:
            for days, fig in reports["ranges"].items():
                print(f"| GET /reports/products, {days} day(s) of {reports['orders']:,} orders | 1 | "
                      f"| {fig['p50']:.1f} | p95 {fig['p95']:.1f} | | | | | | |")
            print(f"| naive GROUP BY over orders JOIN order_items, 365 days (SQL only) | 1 | "
                  f"| {reports['naive_365_ms']:.0f} | | | | | | | |")
        if batch:
            print(f"| POST /orders/batch, 500 orders (median of {batch['runs']}, in-process) | 1 | "
                  f"| {batch['batch_ms']:.0f} | | | | | | | 500 x POST: {batch['single_ms']:.0f} ms |")
        lost = sum(r.lost for rs in rounds.values() for r in rs)
        unanswered = sum(r.unanswered for rs in rounds.values() for r in rs)
        worst = max(r.unanswered - r.connections for rs in rounds.values() for r in rs)
        print(f"\nanswered 201 but not in the database: {lost} (must be 0); in the database without a 201 seen by "
              f"wrk: {unanswered} (the requests in flight when wrk stopped: at most one per connection, "
              f"{'true' if worst <= 0 else 'FALSE'} in every round)")
        for conns, sizes in rss.items():
            print(f"worker RSS after the {conns}-connection rounds (MiB): api {sizes['api']}, "
                  f"baseline {sizes['baseline']}")
        if not reports and args.reports != "no":
            print("reports: skipped, the chain database is not loaded (python bench/reports_bench.py loads it once)")
        for name, text in nginx_err.items():
            if "worker_connections" in text or "[alert]" in text or "[crit]" in text:
                print(f"nginx ({name}) complained:\n{text}")
        results["gunicorn_log_tail"] = logs
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        (out / f"http_{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json").write_text(json.dumps(results, indent=2,
                                                                                    default=str))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.keep_db:
            admin_execute(database_url, f'DROP DATABASE IF EXISTS "{http_db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
