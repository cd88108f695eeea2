"""The change feed and webhooks on PostgreSQL (issue 26's targets), in one run:

1. reading the feed in pages of 500 over HTTP (target >= 10,000 events/s);
2. one worker's delivery rate to a local receiver (a separate process; target >= 200/s);
3. commit-to-delivery latency while orders are created at 100/s, with `flask webhooks work` as its own
   process (target p50 < 500 ms);
4. the create path with and without the feed (ABBA rounds; target: the feed costs at most 10 %).

    .venv/bin/python bench/feed_bench.py [--db postgresql://postgres@127.0.0.1:5432/comanda_bench_feed]
                                         [--events 50000] [--deliveries 3000] [--seconds 10] [--round 8]

End to end through the Flask app in this process (werkzeug's threaded server for 1; the test client for
4, where the two variants differ only by the feed's commit hook). Prints markdown rows.
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


def received(log: Path) -> list[list]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []


def read_feed(app, boss: dict) -> tuple[float, int]:
    """Every page of 500 from the beginning over real HTTP: (events/s, events)."""
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
                return seen / (time.perf_counter() - start), seen
            seen, cursor = seen + len(page["data"]), page["next_cursor"]


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


def main() -> None:  # noqa: PLR0915  (one script, four measurements in order)
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=os.environ.get("BENCH_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/comanda_bench_feed"))
    parser.add_argument("--events", type=int, default=50000)
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=10, help="length of the 100 orders/s run")
    parser.add_argument("--round", type=float, default=8, help="seconds per ABBA round")
    parser.add_argument("--steps", default="1234", help="which measurements to run (default all: 1234)")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy.orm import Session

    from app import create_app
    from app.extensions import db
    from app.feed.worker import Worker
    from app.outbox import write_staged
    from config import TestingConfig, normalize_database_url
    from tests.factories import Factory
    url = normalize_database_url(args.db)
    prepare_database(url)
    cfg = TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url
    cfg.LOG_LEVEL = "WARNING"
    cfg.RATELIMIT_ENABLED = False
    cfg.WEBHOOK_ALLOW_PRIVATE_URLS = True
    app = create_app(cfg)
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
        location_id = waiter.locations[0].id
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
    client = app.test_client()
    if "1" in args.steps:
        read_rate, seen = read_feed(app, boss)
        report(("feed read, pages of 500 over HTTP (werkzeug, 1 reader)", f"{read_rate:,.0f} events/s",
                ">= 10,000 events/s", f"{seen:,} events"))

    # 2. one worker's delivery rate (in this process) to a receiver process
    log = Path(tempfile.mkdtemp(prefix="comanda-feed-bench-")) / "received.log"
    receiver, rport = start_receiver(log)
    try:
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
                     f"way without a database: {baseline:,.0f} POSTs/s ({delivery_rate / baseline:.2f}x)"))
        skip = len(received(log))  # the receiver keeps appending to the same file

        if "3" not in args.steps:
            return
        # 3. commit-to-delivery at 100 orders/s, the worker as its own process
        hook = client.post("/api/v1/webhooks", headers=boss,
                           json={"url": f"http://127.0.0.1:{rport}/hook", "types": ["order.created"]}).json
        env = {**os.environ, "FLASK_APP": "wsgi", "COMANDA_ENV": "testing", "DATABASE_URL": url,
               "WEBHOOK_ALLOW_PRIVATE_URLS": "1", "LOG_LEVEL": "WARNING"}
        worker_proc = subprocess.Popen([sys.executable, "-m", "flask", "webhooks", "work"], cwd=ROOT, env=env)
        time.sleep(3)
        committed: dict[int, float] = {}
        n = int(args.seconds * 100)
        start = time.time()
        for i in range(n):
            target = start + i / 100
            if (delay := target - time.time()) > 0:
                time.sleep(delay)
            resp = client.post("/api/v1/orders", headers=headers, json={"customer_name": "Lat", "items": [
                {"product_id": products[i % 10], "quantity": 1}]})
            committed[resp.json["id"]] = time.time()
        achieved = n / (time.time() - start)
        deadline = time.time() + 30
        while len(received(log)) - skip < n and time.time() < deadline:
            time.sleep(0.2)
        worker_proc.terminate()
        worker_proc.wait(20)
        lat = sorted((at - committed[subject["id"]]) * 1000 for at, _, subject in received(log)[skip:]
                     if subject and subject["id"] in committed)
        p50, p95 = (statistics.median(lat), lat[int(len(lat) * 0.95) - 1]) if lat else (float("nan"),) * 2
        report((f"commit-to-delivery, orders created at {achieved:.0f}/s, `flask webhooks work` process",
                     f"p50 {p50:.0f} ms, p95 {p95:.0f} ms", "p50 < 500 ms", f"{len(lat):,}/{n:,} delivered"))
        client.delete(f"/api/v1/webhooks/{hook['id']}", headers=boss)
    finally:
        receiver.terminate()

    if "4" not in args.steps:
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
                 f"vs {', '.join(f'{r:.0f}' for r in results[False])})"))

    print("| benchmark | figure | target | notes |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
