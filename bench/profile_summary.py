"""Where a gunicorn worker's time goes, from py-spy's collapsed stacks (`http_bench.py --profile X.svg`: X.txt.gz).

    .venv/bin/python bench/profile_summary.py bench/profiles/create_path_after.txt.gz [--orders N]

Every sample of a worker (py-spy --idle: waiting counts too) falls in exactly one bucket: the
first of CATEGORIES whose frame pattern appears in its stack, checked in order (so the pool's
pre-ping, which runs inside the first query of a request, counts as the pool's and not as that
query's). A sample is "waiting for PostgreSQL" when its innermost frame is SQLAlchemy's call into
psycopg2 (execute, commit, ping) or the app's psycopg2 wait callback (app/database.py): the round
trip, PostgreSQL's parse/plan/execute and the
scheduling delay on a busy machine. With --orders (orders created while profiling), it also
prints worker milliseconds per order (samples at 100 Hz).
"""

from __future__ import annotations

import argparse
import gzip
import re
from collections import defaultdict
from pathlib import Path

RATE_HZ = 100
# (bucket, regex over the joined stack); first match wins. Order matters: see the module docstring.
CATEGORIES = [
    ("worker idle: waiting for the next request", r"SyncWorker\.wait \("),
    ("gunicorn master", r"^(?!.*Worker\.init_process)"),
    ("bench setup: POST /auth/login (not the create path)", r"\blogin \(app/auth"),
    ("pool checkout + pre-ping (SELECT 1)", r"_ConnectionFairy\._checkout|do_ping"),
    ("auth: user + revocation check + locations (one SELECT)", r"verify_token_not_blocklisted|_revoked \("),
    ("auth: user lookup (SELECT users)", r"user_lookup|_load_user"),
    ("auth: JWT decode and verify", r"verify_jwt_in_request"),
    ("Idempotency-Key", r"_claim \(|request_fingerprint|_replay \("),
    ("rollups + created event (one INSERT statement)",
     r"\brecord \(app/reports/rollups|contribution \(app/reports/rollups"),
    ("lines: one INSERT ... RETURNING", r"_insert_lines"),
    ("product lookup (SELECT products)", r"resolve_or_raise|resolve_lines"),
    ("kitchen routing + the day's advisory lock (one SELECT)", r"\broute \(app/orders/kitchen|closed_days|_lock_days"),
    ("order: INSERT ... ON CONFLICT DO NOTHING RETURNING", r"create_order \("),
    ("request body: webargs + marshmallow load", r"Parser\.parse|Schema\.load|_do_load"),
    ("response: marshmallow dump + JSON", r"Schema\.dump|jsonify|DefaultJSONProvider\.dumps"),
    ("feed events at commit (counter + INSERT)", r"write_staged"),
    ("commit", r"commit_or_rollback|Session\.commit"),
    ("logging (request log, access log)", r"\(logging/|pythonjsonlogger|glogging"),
    ("rate limiter (app/web/ratelimit.py, limits)", r"flask_limiter|app/web/ratelimit|\(limits/"),
    ("Flask/werkzeug/gunicorn HTTP and the rest", r"SyncWorker\.handle"),
]
WAIT_LEAF = re.compile(
    r"wait_with_deadline|do_execute|do_executemany|do_ping|do_commit|do_rollback|_exec_insertmany|cursor\.execute")


def summarize(path: Path) -> tuple[dict[str, list[int]], int]:
    buckets: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # samples, of which waiting on PostgreSQL
    compiled = [(name, re.compile(pattern)) for name, pattern in CATEGORIES]
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        name = next((name for name, rx in compiled if rx.search(stack)), "other (outside a request)")
        leaf = stack.rsplit(";", 1)[-1]
        buckets[name][0] += n
        if WAIT_LEAF.search(leaf):
            buckets[name][1] += n
    in_request = sum(v[0] for k, v in buckets.items() if not k.startswith(("worker idle", "gunicorn master",
                                                                            "bench setup", "other (")))
    return buckets, in_request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("collapsed", type=Path)
    parser.add_argument("--orders", type=int, help="orders created while profiling (for ms per order)")
    args = parser.parse_args()
    buckets, in_request = summarize(args.collapsed)
    waiting = sum(v[1] for k, v in buckets.items() if not k.startswith(("worker idle", "gunicorn master")))
    per_order = " | worker ms per order | of which not waiting" if args.orders else ""
    print(f"| where a worker's request time goes | % of request time | of which waiting for PostgreSQL{per_order} |")
    print("|---|---:|---:|" + ("---:|---:|" if args.orders else ""))
    order = [name for name, _ in CATEGORIES] + ["other (outside a request)"]
    for name in sorted(buckets, key=lambda k: (k.startswith(("worker idle", "gunicorn", "bench", "other (")),
                                               -buckets[k][0] if not k.startswith("worker") else order.index(k))):
        samples, wait = buckets[name]
        outside = name.startswith(("worker idle", "gunicorn master", "bench setup", "other ("))
        share = "" if outside else f"{100 * samples / in_request:.1f}%"
        ms = 1000 / RATE_HZ / args.orders if args.orders else 0.0
        extra = f" | {samples * ms:.2f} | {(samples - wait) * ms:.2f}" if args.orders and not outside else (
            " | | " if args.orders else "")
        print(f"| {name} | {share or f'({samples} samples)'} | {100 * wait / samples:.0f}%{extra} |")
    print(f"\nin requests: {in_request} samples ({in_request / RATE_HZ:.1f} worker-seconds); waiting for PostgreSQL: "
          f"{100 * waiting / max(in_request, 1):.0f}% of them")
    if args.orders:
        print(f"per order: {in_request * 10 / args.orders:.1f} worker-ms, "
              f"{(in_request - waiting) * 10 / args.orders:.1f} of them not waiting for PostgreSQL")


if __name__ == "__main__":
    main()
