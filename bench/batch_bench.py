"""Batch sync speed on PostgreSQL: one 500-order batch (3 lines each) vs the same orders posted one by one.

    .venv/bin/python bench/batch_bench.py [--runs 7] [--db postgresql://postgres@127.0.0.1:5432/comanda_bench_batch]
    ... --json    # also a machine-readable line, for bench/http_bench.py

End to end through the Flask app (routing, auth, validation, JSON, SQL, commit), in one process.
Prints a markdown row; the median of --runs batches, and the one-by-one baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prepare_database(url: str) -> None:
    server = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="also print `BENCH_JSON {...}` (for bench/http_bench.py)")
    parser.add_argument(
        "--db", default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/comanda_bench_batch")
    )
    args = parser.parse_args()

    from flask_migrate import upgrade

    from app import create_app
    from config import TestingConfig, normalize_database_url
    from tests.factories import Factory

    url = normalize_database_url(args.db)
    prepare_database(url)
    cfg = TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url
    cfg.LOG_LEVEL = "WARNING"
    app = create_app(cfg)
    with app.app_context():
        upgrade()
        factory = Factory()
        waiter = factory.make_user("waiter")
        products = [factory.make_product(f"Bench product {i}", f"{10 + i}.50").id for i in range(30)]
        headers = factory.headers(waiter)
    client = app.test_client()

    def orders(n: int) -> list[dict]:
        tag = uuid.uuid4().hex[:8]
        return [
            {
                "client_order_id": f"{tag}-{i}",
                "customer_name": f"Mesa {i}",
                "items": [{"product_id": products[(i + k) % 30], "quantity": 1 + k} for k in range(3)],
            }
            for i in range(n)
        ]

    # warm-up (connection pool, caches)
    assert client.post("/api/v1/orders/batch", json={"orders": orders(50)}, headers=headers).status_code == 200

    batch_times = []
    for _ in range(args.runs):
        body = {"orders": orders(500)}
        start = time.perf_counter()
        resp = client.post("/api/v1/orders/batch", json=body, headers=headers)
        batch_times.append(time.perf_counter() - start)
        assert resp.status_code == 200 and all(r["status"] == "created" for r in resp.json["results"])

    single_times = []
    for _ in range(max(1, args.runs // 3)):
        start = time.perf_counter()
        for order in orders(500):
            assert client.post("/api/v1/orders", json=order, headers=headers).status_code == 201
        single_times.append(time.perf_counter() - start)

    batch_ms = statistics.median(batch_times) * 1000
    single_ms = statistics.median(single_times) * 1000
    if args.json:
        print("BENCH_JSON " + json.dumps({"runs": args.runs, "batch_ms": batch_ms, "single_ms": single_ms}))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}")
    print("| benchmark | median | baseline (same run) | ratio |")
    print("|---|---|---|---|")
    print(
        f"| POST /orders/batch, 500 orders x 3 lines (median of {args.runs}) | {batch_ms:.0f} ms "
        f"| 500 x POST /orders: {single_ms:.0f} ms | {single_ms / batch_ms:.1f}x faster |"
    )


if __name__ == "__main__":
    main()
