"""The change feed and webhooks on PostgreSQL (issue 26's targets), in one run:

1. reading the feed in pages of 500 over HTTP (target >= 10,000 events/s); baseline: the same request
   answering an empty page;
2. one worker's delivery rate to a local receiver (a separate process; target >= 200/s); baseline: the
   receiver's own ceiling, 8 threads posting without a database;
3. commit-to-delivery latency while orders are created at 100/s by --creators processes (the service
   through the unit of work, one commit each, at --locations locations), with `flask webhooks work` as
   its own process (target p50 < 500 ms); baseline: the same at --baseline-rate orders/s;
4. the create path with and without the feed (ABBA rounds; target: the feed costs at most 10 %).

    .venv/bin/python bench/feed_bench.py [--db postgresql://postgres@127.0.0.1:5432/comanda_bench_feed]
        [--events 50000] [--deliveries 3000] [--seconds 10] [--round 8] [--rate 100] [--baseline-rate 10]
        [--creators 4] [--locations 4] [--steps 1234]

End to end through the Flask app (werkzeug's threaded server for 1; the test client for 4, where the two
variants differ only by the feed's commit hook). Prints markdown rows, each with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RECEIVER = r"""
import sys, time, json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
out = open(sys.argv[1], "a", buffering=1)
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        out.write(json.dumps([time.time(), self.headers["webhook-id"], json.loads(body).get("subject")]) + "\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H); s.daemon_threads = True
print(s.server_address[1], flush=True); s.serve_forever()
"""


def prepare_database(url: str) -> None:
    server = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def start_receiver(log: Path) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER, str(log)], stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def load() -> str:
    """The machine's load averages (1, 5, 15 min), to print with each figure."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def received(log: Path) -> list[list]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []


def read_feed(app, boss: dict) -> tuple[float, int, float]:
    """Every page of 500 from the beginning over real HTTP: (events/s, events, and the empty last page's
    own rate in pages/s: what the request costs without events)."""
    from tests.helpers import http_json, serving

    with serving(app) as server:
        port = server.port
        http_json(port, "GET", "/api/v1/events?limit=500", headers=boss)  # warm-up
        start, cursor, seen = time.perf_counter(), None, 0
        while True:
            query = "/api/v1/events?limit=500" + (f"&after={cursor}" if cursor else "")
            status, page = http_json(port, "GET", query, headers=boss)
            assert status == 200
            if not page["data"]:
                break
            seen, cursor = seen + len(page["data"]), page["next_cursor"]
        rate = seen / (time.perf_counter() - start)
        pages, start = 200, time.perf_counter()
        for _ in range(pages):
            assert http_json(port, "GET", query, headers=boss)[0] == 200
        return rate, seen, pages / (time.perf_counter() - start)


def post_rate(port: int, n: int) -> float:
    """The receiver's own ceiling on this machine: n POSTs from 8 threads, one connection each, no database."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    body = json.dumps({"subject": {"type": "order", "id": 1, "version": 1}, "data": {"x": "y" * 200}})

    def one(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/hook", body=body,
                     headers={"webhook-id": f"base_{i}", "Content-Type": "application/json"})
        conn.getresponse().read()
        conn.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(n)))
    return n / (time.perf_counter() - start)


def bench_app(url: str):
    from app import create_app
    from config import TestingConfig

    cfg = TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url
    cfg.LOG_LEVEL = "WARNING"
    cfg.RATELIMIT_ENABLED = False
    cfg.WEBHOOK_ALLOW_PRIVATE_URLS = True
    return create_app(cfg)


def generate(url: str, user_id: int, location_id: int, products: list[int], rate: float, count: int,
             offset: float, per_commit: int, ready, go, start_at, out) -> None:
    """One order creator process: `count` orders at `location_id` at `rate`/s from `start_at` + `offset`,
    each by the service through the unit of work (`orders.services.create_order`, the POST's own call)
    and committed on its own, or with `per_commit` > 1 that many per transaction (`orders.batch.sync_batch`,
    POST /orders/batch's call, one `creating_many`); puts [(order id, commit time)] on `out`."""
    import uuid

    from app.extensions import db
    from app.models import User
    from app.orders.batch import sync_batch
    from app.orders.schemas import OrderIn
    from app.orders.services import create_order

    app = bench_app(url)
    with app.app_context():
        waiter, schema = db.session.get(User, user_id), OrderIn()
        db.session.commit()
        ready.put(1)
        go.wait()
        committed = []
        for i in range(0, count, per_commit):
            if (delay := start_at.value + offset + i / rate - time.time()) > 0:
                time.sleep(delay)
            bodies = [{"customer_name": "Lat", "location_id": location_id, "client_order_id": uuid.uuid4().hex,
                       "items": [{"product_id": products[(i + k) % len(products)], "quantity": 1}]}
                      for k in range(min(per_commit, count - i))]
            if per_commit == 1:
                del bodies[0]["client_order_id"]
                ids = [create_order(waiter, schema.load(bodies[0])).id]
            else:
                ids = [result["id"] for result in sync_batch(waiter, bodies)]
            db.session.commit()
            committed += [(order_id, time.time()) for order_id in ids]
        out.put(committed)


def create_at(url: str, user_id: int, locations: list[int], products: list[int], rate: float, seconds: float,
              processes: int, per_commit: int = 1) -> tuple[dict[int, float], float]:
    """Orders created at `rate`/s for `seconds` by `processes` creator processes (their commits interleave;
    process k creates at locations[k % len(locations)]): ({order id: commit time}, the rate achieved)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    ready, out, go, start_at = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Value("d", 0.0)
    n = int(rate * seconds)
    share = [n // processes + (k < n % processes) for k in range(processes)]
    procs = [ctx.Process(target=generate, args=(url, user_id, locations[k % len(locations)], products,
                                                rate / processes, share[k], k / rate, per_commit, ready, go,
                                                start_at, out))
             for k in range(processes)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=120)
    start_at.value = time.time() + 0.2
    go.set()
    committed: dict[int, float] = {}
    for _ in procs:
        committed.update(out.get(timeout=seconds * 10 + 120))
    for proc in procs:
        proc.join(30)
    return committed, len(committed) / (max(committed.values()) - start_at.value)


def print_table(rows: list[tuple[str, ...]]) -> None:
    print("| benchmark | figure | target | notes |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:  # noqa: PLR0915  (one script, four measurements in order)
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=os.environ.get("BENCH_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/comanda_bench_feed"))
    parser.add_argument("--events", type=int, default=50000)
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=10, help="length of the 100 orders/s run")
    parser.add_argument("--round", type=float, default=8, help="seconds per ABBA round")
    parser.add_argument("--rate", type=float, default=100, help="orders/s for the commit-to-delivery run")
    parser.add_argument("--baseline-rate", type=float, default=10, help="orders/s of its baseline in the same run")
    parser.add_argument("--creators", type=int, default=4, help="order creator processes for that run")
    parser.add_argument("--locations", type=int, default=4, help="locations they create at (process k: k mod this)")
    parser.add_argument("--per-commit", type=int, default=1,
                        help="orders per transaction there (> 1: POST /orders/batch's service, a busy sync)")
    parser.add_argument("--steps", default="1234", help="which measurements to run (default all: 1234)")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy.orm import Session

    from app.extensions import db
    from app.feed.worker import Worker
    from app.models import Location
    from app.outbox import write_staged
    from config import normalize_database_url
    from tests.factories import Factory
    url = normalize_database_url(args.db)
    prepare_database(url)
    app = bench_app(url)
    rows: list[tuple[str, ...]] = []

    def report(row: tuple[str, ...]) -> None:
        rows.append(row)
        print("ROW | " + " | ".join(row) + " |", flush=True)
    with app.app_context():
        upgrade()
        factory = Factory()
        waiter, admin = factory.make_user("waiter"), factory.make_user("admin")
        products = [factory.make_product(f"Bench product {i}", f"{10 + i}.50").id for i in range(10)]
        headers, boss = factory.headers(waiter), factory.headers(admin)
        location_id, admin_id = waiter.locations[0].id, admin.id
        extra = [Location(name=f"Bench location {k}", timezone="UTC", day_starts_at="00:00")
                 for k in range(1, args.locations)]
        db.session.add_all(extra)
        db.session.commit()
        chain = [location_id] + [loc.id for loc in extra]
        # 1. feed read rate: --events events written like the app writes them (gapless positions)
        db.session.execute(sa.text("""
            INSERT INTO feed_events (location_id, position, type, subject_type, subject_id, subject_version,
                                     actor_id, occurred_at, data)
            SELECT :loc, g, 'order.items_added', 'order', g / 4 + 1, g % 4 + 1, :actor, now(),
                   json_build_object('item_ids', json_build_array(g, g + 1), 'total', '125.50', 'version', g % 4 + 1)
            FROM generate_series(1, :n) g"""), {"loc": location_id, "actor": waiter.id, "n": args.events})
        db.session.execute(sa.text("INSERT INTO location_counters (location_id, name, day, value) "
                                   "VALUES (:loc, 'feed', '1970-01-01', :n)"), {"loc": location_id, "n": args.events})
        db.session.commit()
        db.session.execute(sa.text("ANALYZE feed_events"))  # as autovacuum does after such a load
        db.session.commit()
    client = app.test_client()
    if "1" in args.steps:
        read_rate, seen, floor = read_feed(app, boss)
        report(("feed read, pages of 500 over HTTP (werkzeug, 1 reader)", f"{read_rate:,.0f} events/s",
                ">= 10,000 events/s", f"{seen:,} events; the same request answering an empty page (the floor): "
                f"{floor:,.0f} pages/s, so a page of 500 costs {floor * 500 / read_rate:.1f}x an empty one; "
                f"load {load()}"))

    # 2. one worker's delivery rate (in this process) to a receiver process
    log = Path(tempfile.mkdtemp(prefix="comanda-feed-bench-")) / "received.log"
    receiver, rport = start_receiver(log)
    try:
        skip = 0
        if "2" in args.steps:
            with app.app_context():
                hook = client.post("/api/v1/webhooks", headers=boss,
                                   json={"url": f"http://127.0.0.1:{rport}/hook", "types": ["order.*"]}).json
                first = args.events - args.deliveries  # start the webhook's fan-out --deliveries before the end
                db.session.execute(sa.text("UPDATE webhooks SET cursor = :c WHERE id = :id"),
                                   {"c": json.dumps({str(location_id): first}), "id": hook["id"]})
                db.session.commit()
                baseline = post_rate(rport, 400)
                skip = len(received(log))
                worker = Worker(batch=50)
                start = time.perf_counter()
                while worker.run_once():
                    pass
                delivery_rate = (len(received(log)) - skip) / (time.perf_counter() - start)
                db.session.execute(sa.text("DELETE FROM webhook_deliveries"))
                db.session.execute(sa.text("DELETE FROM webhooks"))
                db.session.commit()
            report(("one worker delivering to a local receiver (fan-out included, batch 50)",
                    f"{delivery_rate:,.0f} deliveries/s", ">= 200/s",
                    f"{len(received(log)) - skip:,} deliveries; the bare receiver, 8 threads posting the same "
                    f"way without a database: {baseline:,.0f} POSTs/s ({delivery_rate / baseline:.2f}x); "
                    f"load {load()}"))
            skip = len(received(log))  # the receiver keeps appending to the same file
        if "3" in args.steps:
            # 3. commit-to-delivery while orders are created at --rate/s (baseline: --baseline-rate/s in the
            # same run), the worker as its own process
            hook = client.post("/api/v1/webhooks", headers=boss,
                               json={"url": f"http://127.0.0.1:{rport}/hook", "types": ["order.created"]}).json
            env = {**os.environ, "FLASK_APP": "wsgi", "COMANDA_ENV": "testing", "DATABASE_URL": url,
                   "WEBHOOK_ALLOW_PRIVATE_URLS": "1", "LOG_LEVEL": "WARNING"}
            worker_proc = subprocess.Popen([sys.executable, "-m", "flask", "webhooks", "work"], cwd=ROOT, env=env)
            time.sleep(3)
            try:
                for rate in (args.baseline_rate, args.rate):
                    committed, achieved = create_at(url, admin_id, chain, products, rate, args.seconds,
                                                       args.creators, args.per_commit)
                    deadline = time.time() + 30
                    while len(received(log)) - skip < len(committed) and time.time() < deadline:
                        time.sleep(0.2)
                    got = received(log)[skip:]
                    skip += len(got)
                    lat = sorted((at - committed[subject["id"]]) * 1000 for at, _, subject in got
                                 if subject and subject["id"] in committed)
                    p50, p95 = (statistics.median(lat), lat[int(len(lat) * 0.95) - 1]) if lat else (float("nan"),) * 2
                    report((f"commit-to-delivery, orders created at {achieved:.0f}/s (asked {rate:g}/s, "
                            f"{args.creators} creator processes, {len(chain)} locations, {args.per_commit} a commit), "
                            "`flask webhooks work` process",
                            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms", "p50 < 500 ms at 100/s",
                            f"{len(lat):,}/{len(committed):,} delivered; load {load()}"))
            finally:
                worker_proc.terminate()
                worker_proc.wait(20)
            client.delete(f"/api/v1/webhooks/{hook['id']}", headers=boss)
    finally:
        receiver.terminate()

    if "4" not in args.steps:
        print_table(rows)
        return
    # 4. the create path with and without the feed, ABBA
    def rate(with_feed: bool) -> float:
        hooked = sa.event.contains(Session, "before_commit", write_staged)
        if with_feed and not hooked:
            sa.event.listen(Session, "before_commit", write_staged)
        if not with_feed and hooked:
            sa.event.remove(Session, "before_commit", write_staged)
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.round:
            body = {"customer_name": "ABBA", "items": [{"product_id": products[(done + k) % 10], "quantity": 1}
                                                       for k in range(3)]}
            done += client.post("/api/v1/orders", headers=headers, json=body).status_code == 201
        return done / (time.perf_counter() - start)

    rate(True)  # warm-up
    results: dict[bool, list[float]] = {True: [], False: []}
    for with_feed in (True, False, False, True, True, False, False, True):
        results[with_feed].append(rate(with_feed))
    rate(True)
    on, off = statistics.median(results[True]), statistics.median(results[False])
    report(("`POST /orders` (3 lines, test client, 1 thread) with the feed vs without, ABBA x2",
                 f"{on:.0f} vs {off:.0f} orders/s", "feed costs <= 10 %",
                 f"{(1 - on / off) * 100:+.1f} % cost (rounds: {', '.join(f'{r:.0f}' for r in results[True])} "
                 f"vs {', '.join(f'{r:.0f}' for r in results[False])}); load {load()}"))

    print_table(rows)


if __name__ == "__main__":
    main()
