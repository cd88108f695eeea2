"""Reports at chain scale, on PostgreSQL.

1. Loads (once; reused while the parameters match) ~1,000,000 orders / ~3,000,000 lines over 400
   business days, a chain of 5 locations in 4 time zones, 1,000 waiters (each at one location), 120
   products with skewed popularity, generated in Python with a fixed seed and streamed with COPY into
   a schema built by `flask db upgrade`.
2. Builds the rollups with the real code path (`rebuild` a month at a time, then `compact`) and
   runs VACUUM ANALYZE.
3. Measures end to end, for the whole chain (a manager of every location; an admin) and for one
   location (`?location_id=`), through the Flask test client (routing, JWT auth with its user lookup,
   query parsing, SQL, JSON) GET /api/v1/reports/products for the last 365 days: median of
   --runs after a warm-up; plus /waiters and /sales. The baseline is the straightforward
   GROUP BY over orders JOIN order_items for the same range (the same report computed from raw
   lines, SQL only, so the ratio is conservative), measured in the same run. GET /reports/payments
   (the till) for the chain, one location and one waiter against the raw payments-and-refunds
   query it ran before the till rollups (SQL only), checking both give the same rows.
4. Measures order-creation throughput with rollup maintenance (record()) and with a no-op
   record(), alternating rounds of --procs processes posting POST /api/v1/orders end to end.

    python bench/reports_bench.py                       # DATABASE: postgresql://postgres@127.0.0.1:5432/comanda_bench
    BENCH_DATABASE=other python bench/reports_bench.py --runs 50
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import secrets
import statistics
import sys
import time
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from reports_data import (  # noqa: E402
    Params,
    bench_env,
    connect,
    ensure_database,
    load,
    migrate,
    save_meta,
    stored_meta,
)


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


def staff_headers(app, role: str = "manager", location_ids: list[int] | None = None) -> dict[str, str]:
    """A bench manager of `location_ids` (default: the default location), or a bench admin."""
    from flask_jwt_extended import create_access_token
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    from app.users.services import UserInput, create_user

    email = f"bench-{role}-{'-'.join(map(str, location_ids or []))}@bench.local"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(UserInput(email=email, name=f"Bench {role}", password=secrets.token_urlsafe(16),
                                         role=role, location_ids=location_ids))
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
    from app.figures.queries import Scope, raw_product_sums
    from app.models import Order, OrderItem, Product

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


def raw_payment_rows(first: date, last: date, location_ids: list[int] | None = None, waiter_id: int | None = None):
    """GET /reports/payments as it was computed before the till rollups (0014): the raw payments and
    refunds of the range through their business_date indexes, joined with their orders (SQL only)."""
    from sqlalchemy import BigInteger, func, literal, select, union_all

    from app.models import Order, Payment, Refund

    zero = literal(0, BigInteger)
    filters = [Order.location_id.in_(location_ids)] if location_ids is not None else []
    if waiter_id is not None:
        filters.append(Order.waiter_id == waiter_id)
    paid = (select(Payment.method, func.count().label("payments"), func.sum(Payment.amount_cents).label("amount"),
                   func.sum(Payment.tip_cents).label("tips"), zero.label("refunds"))
            .join(Order, Order.id == Payment.order_id)
            .where(Payment.business_date.between(first, last), *filters).group_by(Payment.method))
    returned = (select(Refund.method, zero.label("payments"), zero.label("amount"), zero.label("tips"),
                       func.sum(Refund.amount_cents + Refund.tip_cents).label("refunds"))
                .join(Order, Order.id == Refund.order_id)
                .where(Refund.business_date.between(first, last), *filters).group_by(Refund.method))
    both = union_all(paid, returned).subquery("till")
    names = ("payments", "amount", "tips", "refunds")
    return (select(both.c.method, *(func.sum(both.c[n]).label(n) for n in names))
            .group_by(both.c.method).order_by(both.c.method))


def time_payment_baselines(app, first: date, last: date, runs: int, cases: dict[str, dict]) -> dict[str, list[float]]:
    """The raw till query of each case (what /reports/payments ran before 0014), SQL only."""
    from app.extensions import db

    results = {}
    with app.app_context():
        for name, case in cases.items():
            stmt = raw_payment_rows(first, last, **case)
            db.session.execute(stmt).all()  # warm-up
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                db.session.execute(stmt).all()
                times.append((time.perf_counter() - started) * 1000)
            results[name] = times
        db.session.remove()
    return results


def time_payment_rollups(app, first: date, last: date, runs: int, cases: dict[str, dict]) -> dict[str, list[float]]:
    """The rollup read of each case (app/reports/queries.payment_rows: the statement and its rows), SQL only."""
    from app.extensions import db
    from app.figures.queries import Scope, payment_rows

    results = {}
    for name, case in cases.items():
        scope = Scope(first, last, waiter_id=case.get("waiter_id"), location_ids=tuple(case["location_ids"]))
        times = []
        for n in range(runs + 1):
            with app.app_context():  # a fresh `g` each time, as each request has
                started = time.perf_counter()
                payment_rows(scope)
                if n:  # the first is the warm-up
                    times.append((time.perf_counter() - started) * 1000)
                db.session.remove()
        results[name] = times
    return results


def same_till(app, client, url: str, headers: dict, first: date, last: date, **case) -> bool:
    """The rollup answer (HTTP) has the raw query's rows, in the same order."""
    from app.extensions import db

    got = [(r["method"], r["payments"], r["amount"], r["tips"], r["refunds"])
           for r in client.get(url, headers=headers).json["data"]]
    with app.app_context():
        raw = [(m, p, f"{a / 100:.2f}", f"{t / 100:.2f}", f"{r / 100:.2f}")
               for m, p, a, t, r in db.session.execute(raw_payment_rows(first, last, **case)).all()]
        db.session.remove()
    return got == raw


# -- order-creation throughput -------------------------------------------------------------------------
_worker_app = None


def _worker(task: tuple) -> int:
    """One process: create orders from start_at until start_at + seconds; returns how many."""
    env, mode, start_at, seconds, n = task
    global _worker_app
    if _worker_app is None:
        _worker_app = make_app(env)
    app = _worker_app
    import app.figures.rollups as rollups_module

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
        count = _http_orders(app, rng, deadline, n)
    finally:
        for module, attr, value in patched:
            setattr(module, attr, value)
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
        counts = pool.map(_worker, [(env, mode, start_at, seconds, n) for n in range(procs)])
        return sum(counts) / seconds

    with ctx.Pool(procs) as pool:
        pool.map(_worker, [(env, "noop", time.time() + 4, 0.5, n) for n in range(procs)])  # start the apps
        run("rollups"), run("noop")  # warm-up, discarded
        for r in range(rounds):
            order = ("rollups", "noop") if r % 2 == 0 else ("noop", "rollups")
            pair = {mode: run(mode) for mode in order}
            for mode, rate in pair.items():
                rates[mode].append(rate)
            pairs.append(pair["rollups"] / pair["noop"])
    return {"path": "HTTP POST /api/v1/orders",
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
    chain = list(range(1, params.locations + 1))
    headers = staff_headers(app, "manager", chain)  # a manager of every location: the IN filter
    admin = staff_headers(app, "admin")  # the whole chain without a location filter
    client = app.test_client()
    query = f"start_date={first}&end_date={last}"
    urls = {"products": f"products?{query}", "waiters": f"waiters?{query}", "sales": f"sales?{query}",
            "hourly": f"sales?granularity=hour&{query}"}
    latencies = {name: time_http(client, f"/api/v1/reports/{url}", headers, args.runs, args.warmup)
                 for name, url in urls.items()}
    one = f"location_id={chain[2]}&{query}"  # Cancún, one location of five
    per_location = {"products": f"products?{one}", "waiters": f"waiters?{one}", "sales": f"sales?{one}",
                    "hourly": f"sales?granularity=hour&{one}"}
    latencies.update({f"{name}@location": time_http(client, f"/api/v1/reports/{url}", headers, args.runs,
                                                    args.warmup) for name, url in per_location.items()})
    latencies["locations"] = time_http(client, f"/api/v1/reports/locations?{query}", headers, args.runs, args.warmup)
    latencies["products@admin"] = time_http(client, f"/api/v1/reports/products?{query}", admin, args.runs,
                                            args.warmup)
    baselines = time_baselines(app, first, last, args.baseline_runs)
    # The till (GET /reports/payments, issue 27): the whole chain, one location, one waiter (of Cancún).
    waiter = 2 + chain[2] - 1  # waiter n works at location 1 + (n - 2) % 5
    till_urls = {"chain": (f"payments?{query}", {"location_ids": chain}),
                 "location": (f"payments?{one}", {"location_ids": [chain[2]]}),
                 "waiter": (f"payments?waiter_id={waiter}&{query}", {"location_ids": chain, "waiter_id": waiter})}
    till = {name: time_http(client, f"/api/v1/reports/{url}", headers, args.runs, args.warmup)
            for name, (url, _) in till_urls.items()}
    till_raw = time_payment_baselines(app, first, last, args.baseline_runs,
                                      {name: case for name, (_, case) in till_urls.items()})
    cases = {name: case for name, (_, case) in till_urls.items()}
    till_sql = time_payment_rollups(app, first, last, args.runs, cases)
    till_same = {name: same_till(app, client, f"/api/v1/reports/{url}", headers, first, last, **case)
                 for name, (url, case) in till_urls.items()}

    products_ms = median(latencies["products"])
    exact_ms, plain_ms = median(baselines["exact"]), median(baselines["plain"])
    print()
    print(f"machine: {machine()}; PostgreSQL default settings; range {first}..{last} (365 business days); "
          f"a chain of {params.locations} locations in 4 time zones")
    print("| measurement (whole chain: a manager of every location) | median ms | runs |")
    print("|---|---:|---:|")
    print(f"| GET /reports/products, 365 days, end to end | {products_ms:.1f} | {args.runs} |")
    for path in ("waiters", "sales", "locations"):
        print(f"| GET /reports/{path}, 365 days, end to end | {median(latencies[path]):.1f} | {args.runs} |")
    hourly = latencies["hourly"]
    print(f"| GET /reports/sales?granularity=hour, 365 days (every local hour) | {median(hourly):.1f} | {args.runs} |")
    print(f"| GET /reports/products as an admin (no location filter) | {median(latencies['products@admin']):.1f} "
          f"| {args.runs} |")
    for path in ("products", "waiters", "sales", "hourly"):
        print(f"| one location (?location_id=): {path} | {median(latencies[path + '@location']):.1f} | {args.runs} |")
    print(f"| baseline: same report from orders JOIN order_items (SQL only) | {exact_ms:.1f} | {args.baseline_runs} |")
    print(f"| baseline without COUNT(DISTINCT) orders (SQL only) | {plain_ms:.1f} | {args.baseline_runs} |")
    print(f"\nspeed-up: {exact_ms / products_ms:.0f}x (exact baseline), {plain_ms / products_ms:.0f}x (plain baseline)")
    print(f"\nGET /reports/payments (the till), 365 days; {meta.get('payments', 0):,} payments, "
          f"{meta.get('refunds', 0):,} refunds in the database")
    print("| scope | end to end p50 ms (p90) | rollup read p50 ms (SQL only) | raw query p50 ms (SQL only) "
          "| raw / rollup read | same answer |")
    print("|---|---:|---:|---:|---:|---|")
    for name in till:
        p50, sql, raw = median(till[name]), median(till_sql[name]), median(till_raw[name])
        p90 = statistics.quantiles(till[name], n=10)[-1]
        print(f"| {name} | {p50:.1f} ({p90:.1f}) | {sql:.2f} | {raw:.1f} | {raw / sql:.0f}x | {till_same[name]} |")

    results = {"machine": machine(), "meta": meta, "range": [str(first), str(last)],
               "latency_ms": {k: median(v) for k, v in latencies.items()},
               "p90_products_ms": statistics.quantiles(latencies["products"], n=10)[-1],
               "baseline_ms": {k: median(v) for k, v in baselines.items()},
               "payments_ms": {k: median(v) for k, v in till.items()},
               "payments_sql_ms": {k: median(v) for k, v in till_sql.items()},
               "payments_raw_ms": {k: median(v) for k, v in till_raw.items()}, "payments_same": till_same}
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
