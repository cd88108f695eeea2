"""The reports benchmark's data: a reusable PostgreSQL database of ~1M orders loaded with COPY.

Generated in Python with a fixed seed; the schema comes from `flask db upgrade`. See
bench/reports_bench.py and bench/README.md.
"""

from __future__ import annotations

import io
import json
import os
import random
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg2

ROOT = Path(__file__).resolve().parent.parent

SERVER = os.environ.get("BENCH_SERVER", "postgresql://postgres@127.0.0.1:5432")
TIMEZONE, DAY_START = "America/Mexico_City", "04:00"
# The chain: the default location (the migration makes it from TIMEZONE) and four more in three other
# zones; every business day starts at DAY_START on its own wall clock. Waiter n works at location n % 5.
CHAIN = [("Main", TIMEZONE), ("Monterrey", "America/Monterrey"), ("Cancún", "America/Cancun"),
         ("Tijuana", "America/Tijuana"), ("Hermosillo", "America/Hermosillo")]
CHUNK_ORDERS = 50_000


@dataclass(frozen=True)
class Params:
    orders: int = 1_000_000
    days: int = 400
    waiters: int = 1_000
    products: int = 120
    seed: int = 20261122
    locations: int = len(CHAIN)
    version: int = 5  # bump when the generator or the schema changes (5: payments and refunds, the till)


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
def business_today(zone: str = TIMEZONE) -> date:
    local = datetime.now(ZoneInfo(zone)).replace(tzinfo=None)
    return (local - timedelta(hours=4)).date()


def location_of(waiter_id: int, params: Params) -> int:
    """The location id (1 = the default) a bench waiter works at."""
    return 1 + (waiter_id - 2) % params.locations


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


def _till(till_rng: random.Random, status: str, total_cents: int, day: date, last_day: date,
          created_s: str, local_hour: str) -> tuple[list[tuple], list[tuple]]:
    """The payments of a closed order (1 in 10 split in two, by two methods) and, for 1 in 2 cancelled
    ones, the payment they had and the refund of it and its tip, on the same or the next business day:
    ([(method, amount, tip, business_date)], [(method, amount, tip, business_date, local_hour)])."""
    if status == "open" or total_cents == 0:
        return [], []
    if status == "cancelled" and till_rng.random() < 0.5:
        return [], []
    method = till_rng.choices(("card", "cash", "other"), cum_weights=(60, 95, 100))[0]
    tip = total_cents * till_rng.choice((0, 0, 10, 10, 15)) // 100
    if status == "closed" and till_rng.random() < 0.1:
        part = total_cents // 2
        other = "cash" if method != "cash" else "card"
        return [(method, part, tip, day), (other, total_cents - part, 0, day)], []
    paid = [(method, total_cents, tip, day)]
    if status == "closed":
        return paid, []
    refunded = day + timedelta(days=1) if day < last_day and till_rng.random() < 0.3 else day
    return paid, [(method, total_cents, tip, refunded, local_hour)]


def generate(params: Params, last_day: date):
    """Yield (orders_tsv, items_tsv, payments_tsv, refunds_tsv) chunks, deterministic for a seed and last day."""
    rng = random.Random(params.seed + 1)
    till_rng = random.Random(params.seed + 2)  # its own stream: the orders and lines stay as in version 4
    zones = [ZoneInfo(zone) for _, zone in CHAIN[: params.locations]]
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

    order_id = item_id = payment_id = refund_id = 0
    orders_buf, items_buf, payments_buf, refunds_buf = io.StringIO(), io.StringIO(), io.StringIO(), io.StringIO()
    for d, count in enumerate(per_day):
        day = first_day + timedelta(days=d)
        midnight = datetime.combine(day, datetime.min.time())
        offsets = [tz.utcoffset(midnight + timedelta(hours=12)) for tz in zones]
        is_today = day >= last_day - timedelta(days=1)  # "today" somewhere in the chain
        for _ in range(count):
            order_id += 1
            waiter = 2 + rng.randrange(params.waiters)
            location = location_of(waiter, params)
            local = midnight + timedelta(minutes=_order_minutes(rng), seconds=rng.randrange(60))
            created = (local - offsets[location - 1]).replace(tzinfo=UTC)
            created_s = created.isoformat()
            r = rng.random()
            status = ("open" if r < 0.5 else "closed" if r < 0.95 else "cancelled") if is_today else (
                "closed" if r < 0.97 else "cancelled")
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
                f"{2 if status != 'open' else 1}\t{location}\n")
            hour_s = local.replace(minute=0, second=0).isoformat(sep=' ')
            paid, refunded = _till(till_rng, status, total_cents, day, last_day, created_s, hour_s)
            for method, amount, tip, paid_on in paid:
                payment_id += 1
                payments_buf.write(f"{payment_id}\t{order_id}\t{method}\t{amount}\t{tip}\t{paid_on.isoformat()}\t"
                                   f"{waiter}\t{created_s}\n")
            for method, amount, tip, made_on, hour in refunded:
                refund_id += 1
                refunds_buf.write(f"{refund_id}\t{order_id}\t{amount}\t0\t{tip}\t{method}\tduplicada\t"
                                  f"{made_on.isoformat()}\t{hour}\t{waiter}\t{created_s}\n")
            if order_id % CHUNK_ORDERS == 0:
                yield orders_buf.getvalue(), items_buf.getvalue(), payments_buf.getvalue(), refunds_buf.getvalue()
                orders_buf, items_buf, payments_buf, refunds_buf = (io.StringIO(), io.StringIO(), io.StringIO(),
                                                                    io.StringIO())
    yield orders_buf.getvalue(), items_buf.getvalue(), payments_buf.getvalue(), refunds_buf.getvalue()


ORDER_COLUMNS = ("id, client_order_id, customer_name, table_label, notes, status, waiter_id, total_cents, item_count, "
                 "payment_method, business_date, local_hour, created_at, updated_at, closed_at, cancelled_at, "
                 "cancel_reason, version, location_id")
ITEM_COLUMNS = ("id, order_id, product_id, product_name, unit_price_cents, quantity, notes, voided, voided_at, "
                "created_at")
PAYMENT_COLUMNS = "id, order_id, method, amount_cents, tip_cents, business_date, created_by_id, created_at"
REFUND_COLUMNS = ("id, order_id, amount_cents, tax_cents, tip_cents, method, reason, business_date, local_hour, "
                  "created_by_id, created_at")
BULK_TABLES = ("orders", "order_items", "payments", "refunds")


def load(db_name: str, env: dict[str, str], params: Params) -> dict:
    """Fresh schema from the migrations, then COPY everything; returns timings and the data's last day."""
    started = time.perf_counter()
    conn = connect(db_name)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate(env)
    last_day = max(business_today(zone) for _, zone in CHAIN[: params.locations])
    now = datetime.now(UTC).isoformat()
    with conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers while bulk loading
        cur.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
                       AND tablename IN ('orders', 'order_items', 'payments', 'refunds')
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
        for n, (name, zone) in enumerate(CHAIN[1: params.locations], start=2):
            cur.execute("INSERT INTO locations (id, name, name_key, timezone, day_starts_at, tax_rate_thousandths, "
                        "prices_include_tax, active, is_default, created_at, updated_at) "
                        "VALUES (%s, %s, %s, %s, %s, 0, false, true, false, %s, %s)",
                        (n, name, name.casefold(), zone, DAY_START, now, now))
        members = io.StringIO()
        for n in range(params.waiters):
            members.write(f"{n + 2}\t{location_of(n + 2, params)}\n")
        cur.copy_expert("COPY user_locations (user_id, location_id) FROM STDIN", io.StringIO(members.getvalue()))
        products = io.StringIO()
        for pid, price in enumerate(catalogue_prices(params), start=1):
            products.write(f"{pid}\tProducto {pid:03d}\tproducto {pid:03d}\t{price}\tMenú\tt\t{now}\t{now}\n")
        cur.copy_expert("COPY products (id, name, name_key, price_cents, category, active, created_at, updated_at) "
                        "FROM STDIN", io.StringIO(products.getvalue()))
        columns = (ORDER_COLUMNS, ITEM_COLUMNS, PAYMENT_COLUMNS, REFUND_COLUMNS)
        for chunk in generate(params, last_day):
            for table, names, tsv in zip(BULK_TABLES, columns, chunk, strict=True):
                cur.copy_expert(f"COPY {table} ({names}) FROM STDIN", io.StringIO(tsv))
        copied = time.perf_counter()
        for _, definition in secondary:
            cur.execute(definition)
        for table in ("users", "products", *BULK_TABLES, "locations"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute("SELECT count(*) FROM orders")
        n_orders = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM order_items")
        n_items = cur.fetchone()[0]
        cur.execute("SELECT (SELECT count(*) FROM payments), (SELECT count(*) FROM refunds)")
        n_payments, n_refunds = cur.fetchone()
    conn.close()
    return {"last_day": last_day.isoformat(), "orders": n_orders, "lines": n_items, "payments": n_payments,
            "refunds": n_refunds,
            "copy_s": round(copied - started, 1), "load_s": round(time.perf_counter() - started, 1)}
