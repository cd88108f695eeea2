"""Reports at chain scale, on PostgreSQL.

1. Loads (once; reused while the parameters match) ~1,000,000 orders / ~3,000,000 lines over 400
   business days, 1,000 waiters, 120 products with skewed popularity, generated in Python with a
   fixed seed and streamed with COPY into a schema built by `flask db upgrade`.
2. Builds the rollups with the real code path (`rebuild` a month at a time, then `compact`) and
   runs VACUUM ANALYZE.
3. Measures end to end through the Flask test client (routing, JWT auth with its user lookup,
   query parsing, SQL, JSON) GET /api/v1/reports/products for the last 365 days: median of
   --runs after a warm-up; plus /waiters and /sales. The baseline is the straightforward
   GROUP BY over orders JOIN order_items for the same range (the same report computed from raw
   lines, SQL only, so the ratio is conservative), measured in the same run.
4. Measures order-creation throughput with rollup maintenance (record()) and with a no-op
   record(), alternating rounds of --procs processes. It uses POST /api/v1/orders when that
   route exists, otherwise the service-level stand-in tests/reports/orderkit.py (the exact
   calls app/orders/services.py makes), and says which.

    python bench/reports_bench.py                       # DATABASE: postgresql://postgres@127.0.0.1:5432/comanda_bench
    BENCH_DATABASE=other python bench/reports_bench.py --runs 50
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = os.environ.get("BENCH_SERVER", "postgresql://postgres@127.0.0.1:5432")
TIMEZONE, DAY_START = "America/Mexico_City", "04:00"
CHUNK_ORDERS = 50_000


@dataclass(frozen=True)
class Params:
    orders: int = 1_000_000
    days: int = 400
    waiters: int = 1_000
    products: int = 120
    seed: int = 20261122
    version: int = 3  # bump when the generator or the schema changes


# -- environment ------------------------------------------------------------------------------------
def bench_env(db_name: str) -> dict[str, str]:
    """Production settings against the bench database (secrets are throwaway)."""
    return {
        "COMANDA_ENV": "production",
        "DATABASE_URL": f"{SERVER}/{db_name}",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "JWT_SECRET_KEY": secrets.token_urlsafe(32),
        "BUSINESS_TIMEZONE": TIMEZONE,
        "BUSINESS_DAY_STARTS_AT": DAY_START,
        "DB_STATEMENT_TIMEOUT_MS": "300000",
        "LOG_LEVEL": "WARNING",
        "RATELIMIT_ENABLED": "false",
        "FLASK_APP": "wsgi",
    }


def connect(db_name: str):
    return psycopg2.connect(f"{SERVER}/{db_name}")


def ensure_database(db_name: str) -> None:
    conn = connect("postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db_name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{db_name}"')
    conn.close()


def stored_meta(db_name: str) -> dict | None:
    conn = connect(db_name)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('public.bench_meta')")
            if cur.fetchone()[0] is None:
                return None
            cur.execute("SELECT value FROM bench_meta WHERE key = 'meta'")
            row = cur.fetchone()
            return json.loads(row[0]) if row else None
    finally:
        conn.close()


def save_meta(db_name: str, meta: dict) -> None:
    conn = connect(db_name)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)")
        cur.execute("INSERT INTO bench_meta VALUES ('meta', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (json.dumps(meta),))
    conn.close()


def migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env={**os.environ, **env},
                   check=True, capture_output=True)


# -- data generation ----------------------------------------------------------------------------------
def business_today() -> date:
    local = datetime.now(ZoneInfo(TIMEZONE)).replace(tzinfo=None)
    return (local - timedelta(hours=4)).date()


def _order_minutes(rng: random.Random) -> int:
    """Minutes after local midnight of the business date: lunch and dinner peaks, a thin rest of the day."""
    r = rng.random()
    if r < 0.5:
        return rng.randrange(13 * 60, 17 * 60)
    if r < 0.9:
        return rng.randrange(19 * 60, 26 * 60)  # until 02:00 the next calendar day
    return rng.randrange(4 * 60, 28 * 60)  # the whole business day, 04:00 to 04:00


def catalogue_prices(params: Params) -> list[int]:
    """Unit prices in cents of products 1..n (15.00 to 259.50)."""
    rng = random.Random(params.seed)
    return [rng.randrange(15, 260) * 100 + rng.choice((0, 0, 50)) for _ in range(params.products)]


def generate(params: Params, last_day: date):
    """Yield (orders_tsv, items_tsv) chunks, deterministic for a seed and last day."""
    rng = random.Random(params.seed + 1)
    tz = ZoneInfo(TIMEZONE)
    prices = catalogue_prices(params)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(params.products)]
    cum = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)
    names = [f"Producto {pid:03d}" for pid in range(1, params.products + 1)]
    first_day = last_day - timedelta(days=params.days - 1)
    day_weights = [(1.4 if (first_day + timedelta(d)).weekday() in (4, 5) else 1.0) * (0.8 + 0.4 * d / params.days)
                   for d in range(params.days)]
    scale = params.orders / sum(day_weights)
    per_day = [int(w * scale) for w in day_weights]
    per_day[-1] += params.orders - sum(per_day)

    order_id = item_id = 0
    orders_buf, items_buf = io.StringIO(), io.StringIO()
    for d, count in enumerate(per_day):
        day = first_day + timedelta(days=d)
        midnight = datetime.combine(day, datetime.min.time())
        offset = tz.utcoffset(midnight + timedelta(hours=12))
        is_today = day == last_day
        for _ in range(count):
            order_id += 1
            local = midnight + timedelta(minutes=_order_minutes(rng), seconds=rng.randrange(60))
            created = (local - offset).replace(tzinfo=UTC)
            created_s = created.isoformat()
            r = rng.random()
            status = ("open" if r < 0.5 else "closed" if r < 0.95 else "cancelled") if is_today else (
                "closed" if r < 0.97 else "cancelled")
            waiter = 2 + rng.randrange(params.waiters)
            total_cents = item_count = 0
            n_lines = rng.choices((1, 2, 3, 4, 5, 6), cum_weights=(15, 40, 65, 83, 93, 100))[0]
            for _ in range(n_lines):
                item_id += 1
                pid = rng.choices(range(params.products), cum_weights=cum)[0]
                qty = 1 if rng.random() < 0.7 else rng.choice((2, 2, 3, 4))
                voided = rng.random() < 0.02
                if not voided:
                    total_cents += qty * prices[pid]
                    item_count += qty
                items_buf.write(f"{item_id}\t{order_id}\t{pid + 1}\t{names[pid]}\t{prices[pid]}\t{qty}\t\\N\t"
                                f"{'t' if voided else 'f'}\t{created_s if voided else chr(92) + 'N'}\t{created_s}\n")
            closed_at = created_s if status == "closed" else "\\N"
            cancelled = status == "cancelled"
            orders_buf.write(
                f"{order_id}\t\\N\tCliente\t{1 + order_id % 40}\t\\N\t{status}\t{waiter}\t{total_cents}\t{item_count}\t"
                f"{'card' if status == 'closed' else chr(92) + 'N'}\t{day.isoformat()}\t"
                f"{local.replace(minute=0, second=0).isoformat(sep=' ')}\t{created_s}\t{created_s}\t{closed_at}\t"
                f"{created_s if cancelled else chr(92) + 'N'}\t{'duplicada' if cancelled else chr(92) + 'N'}\t"
                f"{2 if status != 'open' else 1}\n")
            if order_id % CHUNK_ORDERS == 0:
                yield orders_buf.getvalue(), items_buf.getvalue()
                orders_buf, items_buf = io.StringIO(), io.StringIO()
    yield orders_buf.getvalue(), items_buf.getvalue()


ORDER_COLUMNS = ("id, client_order_id, customer_name, table_label, notes, status, waiter_id, total_cents, item_count, "
                 "payment_method, business_date, local_hour, created_at, updated_at, closed_at, cancelled_at, "
                 "cancel_reason, version")
ITEM_COLUMNS = ("id, order_id, product_id, product_name, unit_price_cents, quantity, notes, voided, voided_at, "
                "created_at")


def load(db_name: str, env: dict[str, str], params: Params) -> dict:
    """Fresh schema from the migrations, then COPY everything; returns timings and the data's last day."""
    started = time.perf_counter()
    conn = connect(db_name)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate(env)
    last_day = business_today()
    now = datetime.now(UTC).isoformat()
    with conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers while bulk loading
        cur.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
                       AND tablename IN ('orders', 'order_items')
                       AND indexname NOT IN (SELECT conname FROM pg_constraint)""")
        secondary = cur.fetchall()
        for name, _ in secondary:
            cur.execute(f'DROP INDEX "{name}"')
        users = io.StringIO()
        for n in range(params.waiters):
            users.write(f"{n + 2}\twaiter{n + 1}@bench.local\tMesero {n + 1:04d}\twaiter\tunusable\tt\t1\t"
                        f"{now}\t{now}\n")
        cur.copy_expert("COPY users (id, email, name, role, password_hash, active, token_version, created_at, "
                        "updated_at) FROM STDIN", io.StringIO(users.getvalue()))
        products = io.StringIO()
        for pid, price in enumerate(catalogue_prices(params), start=1):
            products.write(f"{pid}\tProducto {pid:03d}\tproducto {pid:03d}\t{price}\tMenú\tt\t{now}\t{now}\n")
        cur.copy_expert("COPY products (id, name, name_key, price_cents, category, active, created_at, updated_at) "
                        "FROM STDIN", io.StringIO(products.getvalue()))
        for orders_tsv, items_tsv in generate(params, last_day):
            cur.copy_expert(f"COPY orders ({ORDER_COLUMNS}) FROM STDIN", io.StringIO(orders_tsv))
            cur.copy_expert(f"COPY order_items ({ITEM_COLUMNS}) FROM STDIN", io.StringIO(items_tsv))
        copied = time.perf_counter()
        for _, definition in secondary:
            cur.execute(definition)
        for table in ("users", "products", "orders", "order_items"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute("SELECT count(*) FROM orders")
        n_orders = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM order_items")
        n_items = cur.fetchone()[0]
    conn.close()
    return {"last_day": last_day.isoformat(), "orders": n_orders, "lines": n_items,
            "copy_s": round(copied - started, 1), "load_s": round(time.perf_counter() - started, 1)}


# -- the application ----------------------------------------------------------------------------------
def make_app(env: dict[str, str]):
    os.environ.update(env)
    from app import create_app

    return create_app("production")


def build_rollups(app, first: date, last: date) -> dict:
    from app.extensions import db
    from app.reports import maintenance

    with app.app_context():
        started = time.perf_counter()
        for _ in maintenance.rebuild_in_chunks(first, last):
            pass
        rebuilt = time.perf_counter()
        counts = maintenance.compact()
        compacted = time.perf_counter()
        db.session.remove()
    return {"rebuild_s": round(rebuilt - started, 1), "compact_s": round(compacted - rebuilt, 1),
            "rows": {name: c.written for name, c in counts.items()}}


def vacuum(db_name: str) -> None:
    conn = connect(db_name)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()


def manager_headers(app) -> dict[str, str]:
    from flask_jwt_extended import create_access_token
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    from app.users.services import UserInput, create_user

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "bench-manager@bench.local"))
        if user is None:
            user = create_user(UserInput(email="bench-manager@bench.local", name="Bench Manager",
                                         password=secrets.token_urlsafe(16), role="manager"))
            db.session.commit()
        token = create_access_token(identity=user)
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}


def time_http(client, url: str, headers: dict, runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        assert client.get(url, headers=headers).status_code == 200
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        resp = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, resp.get_data(as_text=True)
    return times


def time_baselines(app, first: date, last: date, runs: int) -> dict[str, list[float]]:
    """The same products report from the raw lines (what the endpoint would run without rollups)."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Order, OrderItem, Product
    from app.reports.queries import Scope, raw_product_sums

    raw = raw_product_sums(Scope(first, last)).subquery()
    exact = select(raw.c.product_id, Product.name, raw.c.quantity, raw.c.revenue_cents, raw.c.orders).join(
        Product, Product.id == raw.c.product_id)
    plain = (select(OrderItem.product_id, func.sum(OrderItem.quantity),
                    func.sum(OrderItem.quantity * OrderItem.unit_price_cents))
             .join(Order, Order.id == OrderItem.order_id)
             .where(Order.business_date.between(first, last), Order.status != "cancelled", ~OrderItem.voided)
             .group_by(OrderItem.product_id))
    results = {}
    with app.app_context():
        for name, stmt in (("exact", exact), ("plain", plain)):
            db.session.execute(stmt).all()  # warm-up
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                db.session.execute(stmt).all()
                times.append((time.perf_counter() - started) * 1000)
            results[name] = times
        db.session.remove()
    return results


# -- order-creation throughput -------------------------------------------------------------------------
_worker_app = None


def _worker(task: tuple) -> int:
    """One process: create orders from start_at until start_at + seconds; returns how many."""
    env, mode, start_at, seconds, n, http = task
    global _worker_app
    if _worker_app is None:
        _worker_app = make_app(env)
    app = _worker_app
    import app.reports.rollups as rollups_module

    real = rollups_module.record

    def noop(_changes) -> None:
        return None

    patched = []
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith(("app.", "tests.")):
            for attr, value in list(vars(module).items()):
                if value is real:
                    patched.append((module, attr, value))
    for module, attr, _ in patched:
        setattr(module, attr, noop if mode == "noop" else real)
    rng = random.Random(n)
    count = 0
    try:
        while time.time() < start_at:
            time.sleep(0.005)
        deadline = start_at + seconds
        create_orders = _http_orders if http else _service_orders
        count = create_orders(app, rng, deadline, n)
    finally:
        for module, attr, value in patched:
            setattr(module, attr, value)
    return count


def _service_orders(app, rng: random.Random, deadline: float, n: int) -> int:
    from app.extensions import db
    from app.models import User
    from tests.reports.orderkit import Line, OrmDriver

    count = 0
    with app.app_context():
        kit = OrmDriver()
        waiter = db.session.get(User, 2 + n)
        while time.time() < deadline:
            lines = [Line(rng.randrange(1, 121), rng.choice((1, 1, 2))) for _ in range(3)]
            kit.create(waiter, lines)
            count += 1
        db.session.remove()
    return count


def _http_orders(app, rng: random.Random, deadline: float, n: int) -> int:
    from flask_jwt_extended import create_access_token

    from app.extensions import db
    from app.models import User

    with app.app_context():
        token = create_access_token(identity=db.session.get(User, 2 + n))
        db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    count = 0
    while time.time() < deadline:
        body = {"customer_name": "Bench", "table": "1",
                "items": [{"product_id": rng.randrange(1, 121), "quantity": rng.choice((1, 1, 2))} for _ in range(3)]}
        resp = client.post("/api/v1/orders", json=body, headers=headers)
        assert resp.status_code == 201, resp.get_data(as_text=True)
        count += 1
    return count


def throughput(env: dict, app, db_name: str, procs: int, seconds: float, rounds: int) -> dict:
    """Alternate rounds with and without rollup maintenance (ABBA order), after a discarded warm-up."""
    http = "/api/v1/orders" in {rule.rule.rstrip("/") for rule in app.url_map.iter_rules()
                                if "POST" in (rule.methods or ())}
    conn = connect(db_name)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CHECKPOINT")  # no checkpoint of the bulk load in the middle of a round
    conn.close()
    ctx = multiprocessing.get_context("spawn")
    rates: dict[str, list[float]] = {"rollups": [], "noop": []}
    pairs: list[float] = []

    def run(mode: str) -> float:
        start_at = time.time() + 1.0
        counts = pool.map(_worker, [(env, mode, start_at, seconds, n, http) for n in range(procs)])
        return sum(counts) / seconds

    with ctx.Pool(procs) as pool:
        pool.map(_worker, [(env, "noop", time.time() + 4, 0.5, n, http) for n in range(procs)])  # start the apps
        run("rollups"), run("noop")  # warm-up, discarded
        for r in range(rounds):
            order = ("rollups", "noop") if r % 2 == 0 else ("noop", "rollups")
            pair = {mode: run(mode) for mode in order}
            for mode, rate in pair.items():
                rates[mode].append(rate)
            pairs.append(pair["rollups"] / pair["noop"])
    return {"path": "HTTP POST /api/v1/orders" if http else "service layer (tests/reports/orderkit.py)",
            "procs": procs, "seconds": seconds, "rounds": rounds, "pair_ratios": pairs, **rates}


def compact_now(app) -> float:
    from app.extensions import db
    from app.reports import maintenance

    with app.app_context():
        started = time.perf_counter()
        maintenance.compact()
        elapsed = time.perf_counter() - started
        db.session.remove()
    return elapsed


def remove_bench_orders(app, db_name: str, max_order_id: int) -> None:
    """Delete the orders the throughput test created and rebuild the business dates they touched."""
    conn = connect(db_name)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT min(business_date), max(business_date) FROM orders WHERE id > %s", (max_order_id,))
        first, last = cur.fetchone()
        cur.execute("DELETE FROM orders WHERE id > %s", (max_order_id,))
    conn.close()
    if first is not None:
        build_rollups(app, first, last)


# -- main ---------------------------------------------------------------------------------------------
def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    return f"{os.cpu_count()} vCPU {cpu}, {mem_kb / 1024 / 1024:.0f} GiB RAM"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_DATABASE", "comanda_bench"))
    parser.add_argument("--orders", type=int, default=Params.orders)
    parser.add_argument("--reload", action="store_true", help="load the data again even if it is there")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--baseline-runs", type=int, default=5)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()

    params = Params(orders=args.orders)
    ensure_database(args.db)
    env = bench_env(args.db)
    meta = stored_meta(args.db)
    if args.reload or meta is None or meta.get("params") != asdict(params):
        print(f"loading {params.orders:,} orders into {args.db} ...", flush=True)
        loaded = load(args.db, env, params)
        save_meta(args.db, {"params": asdict(params), **loaded})
        app = make_app(env)
        last = date.fromisoformat(loaded["last_day"])
        print(f"  {loaded['orders']:,} orders, {loaded['lines']:,} lines in {loaded['load_s']} s; building rollups",
              flush=True)
        rollups = build_rollups(app, last - timedelta(days=params.days - 1), last)
        vacuum(args.db)
        meta = {"params": asdict(params), **loaded, "rollups": rollups}
        save_meta(args.db, meta)
        print(f"  rollups: rebuild {rollups['rebuild_s']} s, compact {rollups['compact_s']} s, rows {rollups['rows']}",
              flush=True)
    else:
        migrate(env)
        app = make_app(env)
        print(f"reusing {args.db}: {meta['orders']:,} orders, {meta['lines']:,} lines up to {meta['last_day']}",
              flush=True)

    last = date.fromisoformat(meta["last_day"])
    first = last - timedelta(days=364)
    headers = manager_headers(app)
    client = app.test_client()
    query = f"start_date={first}&end_date={last}"
    urls = {"products": f"products?{query}", "waiters": f"waiters?{query}", "sales": f"sales?{query}",
            "hourly": f"sales?granularity=hour&{query}"}
    latencies = {name: time_http(client, f"/api/v1/reports/{url}", headers, args.runs, args.warmup)
                 for name, url in urls.items()}
    baselines = time_baselines(app, first, last, args.baseline_runs)

    products_ms = median(latencies["products"])
    exact_ms, plain_ms = median(baselines["exact"]), median(baselines["plain"])
    print()
    print(f"machine: {machine()}; PostgreSQL default settings; range {first}..{last} (365 business days)")
    print("| measurement | median ms | runs |")
    print("|---|---:|---:|")
    print(f"| GET /reports/products, 365 days, end to end | {products_ms:.1f} | {args.runs} |")
    for path in ("waiters", "sales"):
        print(f"| GET /reports/{path}, 365 days, end to end | {median(latencies[path]):.1f} | {args.runs} |")
    hourly = latencies["hourly"]
    print(f"| GET /reports/sales?granularity=hour, 365 days (8,760 rows) | {median(hourly):.1f} | {args.runs} |")
    print(f"| baseline: same report from orders JOIN order_items (SQL only) | {exact_ms:.1f} | {args.baseline_runs} |")
    print(f"| baseline without COUNT(DISTINCT) orders (SQL only) | {plain_ms:.1f} | {args.baseline_runs} |")
    print(f"\nspeed-up: {exact_ms / products_ms:.0f}x (exact baseline), {plain_ms / products_ms:.0f}x (plain baseline)")

    results = {"machine": machine(), "meta": meta, "range": [str(first), str(last)],
               "latency_ms": {k: median(v) for k, v in latencies.items()},
               "p90_products_ms": statistics.quantiles(latencies["products"], n=10)[-1],
               "baseline_ms": {k: median(v) for k, v in baselines.items()}}
    if not args.skip_throughput:
        conn = connect(args.db)
        with conn.cursor() as cur:
            cur.execute("SELECT max(id) FROM orders")
            max_id = cur.fetchone()[0]
        conn.close()
        try:
            tp = throughput(env, app, args.db, args.procs, args.seconds, args.rounds)
            # the orders just created are unfolded delta rows of today: the live, not-yet-compacted case
            conn = connect(args.db)
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM report_product_daily WHERE NOT folded")
                unfolded = cur.fetchone()[0]
                cur.execute("SELECT count(*) FROM orders WHERE id > %s", (max_id,))
                new_orders = cur.fetchone()[0]
            conn.close()
            live = time_http(client, f"/api/v1/reports/{urls['products']}", headers, args.runs, args.warmup)
            compact_s = compact_now(app)
            compacted = time_http(client, f"/api/v1/reports/{urls['products']}", headers, args.runs, args.warmup)
        finally:
            remove_bench_orders(app, args.db, max_id)
        with_rollups, without = median(tp["rollups"]), median(tp["noop"])
        print(f"\norder creation via {tp['path']}, {tp['procs']} processes, {tp['rounds']} alternating rounds "
              f"of {tp['seconds']:.0f} s each")
        print("| mode | orders/s (median) | rounds |")
        print("|---|---:|---|")
        print(f"| with rollup maintenance | {with_rollups:.0f} | {', '.join(f'{x:.0f}' for x in tp['rollups'])} |")
        print(f"| no-op record() | {without:.0f} | {', '.join(f'{x:.0f}' for x in tp['noop'])} |")
        print(f"\nthroughput with rollups: {100 * with_rollups / without:.1f}% of without (ratio of medians); "
              f"median of the per-round-pair ratios {100 * median(tp['pair_ratios']):.1f}%")
        print(f"\nGET /reports/products, 365 days, right after those {new_orders:,} orders "
              f"({unfolded:,} product delta rows not compacted yet): median {median(live):.1f} ms; "
              f"`compact` then took {compact_s:.2f} s, and the report {median(compacted):.1f} ms")
        results["throughput"] = tp
        results["live"] = {"orders": new_orders, "unfolded_product_rows": unfolded, "median_ms": median(live),
                           "compact_s": compact_s, "after_compact_ms": median(compacted)}
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"reports_{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
