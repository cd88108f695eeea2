"""What a kitchen screen's poll costs: `GET /api/v1/kitchen/stations/{id}/tickets` answered 304 (the
`If-None-Match` path: the token's user and one read of the station by primary key) against the full
200 answer (the station's open tickets with their lines, waiter and table), on PostgreSQL, over
gunicorn with the production settings (deploy/gunicorn.conf.py), measured in the same run.

1. Builds a fresh database `<name>_kitchen` (flask db upgrade), a station and `--tickets` open
   tickets of 3 lines each, made by the real create path (POST /orders' service).
2. Starts gunicorn (`--workers`, sync workers like production) on a free loopback port.
3. Runs `--clients` threads that poll for `--seconds`, rounds alternating 304, 200, 200, 304 (ABBA,
   cancelling a linear drift of the machine's load), and prints requests/s of each and the ratio.

    python bench/kitchen_poll.py                                   # postgresql://postgres@127.0.0.1:5432/comanda_bench
    python bench/kitchen_poll.py --seconds 5 --clients 4 --tickets 40
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(url: str) -> str:
    from config import normalize_database_url

    url = normalize_database_url(url)
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"{server.url.database}_kitchen"
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    target = sa.make_url(url)
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    server.dispose()


def seed(env: dict[str, str], tickets: int) -> tuple[int, str]:
    """A station with `tickets` open tickets; returns the station id and a waiter's access token."""
    os.environ.update(env)
    from flask_jwt_extended import create_access_token
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.kitchen.stations import create_station
    from app.models import Location, Product
    from app.orders.services import create_order
    from app.users.services import UserInput, create_user

    app = create_app("production")
    with app.app_context():
        upgrade()
        location = db.session.scalar(sa.select(Location).where(Location.is_default))
        password = secrets.token_hex(8)  # nobody signs in: the bench makes its token itself
        admin = create_user(UserInput(email="admin@bench.test", name="Admin", password=password, role="admin"))
        waiter = create_user(UserInput(email="luis@bench.test", name="Luis", password=password))
        waiter.locations = [location]
        products = [Product(name=f"Plato {n}", price_cents=1000 + n, category="Cocina") for n in range(3)]
        db.session.add_all(products)
        db.session.flush()
        station = create_station(admin, location.id, {"name": "Parrilla", "categories": ["Cocina"]})
        for n in range(tickets):
            create_order(waiter, {"customer_name": f"Mesa {n}", "table": str(n % 30 + 1), "items": [
                {"product_id": p.id, "quantity": 1 + i, "notes": "sin cebolla" if i == 0 else None,
                 "modifiers": [{"name": "Extra salsa", "price": 0}] if i == 1 else []}
                for i, p in enumerate(products)]})
        db.session.commit()
        return station.id, create_access_token(identity=waiter)


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status, dict(resp.getheaders())
    finally:
        conn.close()


def measure(port: int, path: str, headers: dict[str, str], expected: int, clients: int, seconds: float) -> float:
    """Requests/s answered with `expected` by `clients` threads polling for `seconds`."""
    done = [0] * clients
    bad: list[int] = []
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        while time.monotonic() < stop:
            status, _ = get(port, path, headers)
            if status == expected:
                done[index] += 1
            else:
                bad.append(status)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if bad:
        raise SystemExit(f"unexpected answers: {sorted(set(bad))}")
    return sum(done) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/comanda_bench"))
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--tickets", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="rounds per kind, ABBA")
    parser.add_argument("--keep-db", action="store_true", help="keep <name>_kitchen afterwards")
    args = parser.parse_args()

    url = fresh_database(args.database)
    env = {"COMANDA_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32),
           "JWT_SECRET_KEY": secrets.token_hex(32), "LOG_LEVEL": "WARNING",
           "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6")}
    station_id, token = seed(env, args.tickets)
    port = free_port()
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
        env={**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(args.workers)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if get(port, "/health", {})[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        path = f"/api/v1/kitchen/stations/{station_id}/tickets"
        auth = {"Authorization": f"Bearer {token}"}
        status, headers = get(port, path, auth)
        assert status == 200, status
        conditional = {**auth, "If-None-Match": headers["ETag"]}
        assert get(port, path, conditional)[0] == 304
        measure(port, path, auth, 200, args.clients, 2)  # warm-up, discarded
        results: dict[str, list[float]] = {"304": [], "200": []}
        order = ["304", "200", "200", "304"] * ((args.rounds + 1) // 2)
        for kind in order[: 2 * args.rounds]:
            # The ETag changes every minute (`late` moves with time): take the current one per round.
            tag = get(port, path, auth)[1]["ETag"]
            hdrs = {**auth, "If-None-Match": tag} if kind == "304" else auth
            rate = measure(port, path, hdrs, int(kind), args.clients, args.seconds)
            results[kind].append(rate)
            print(f"round {kind}: {rate:,.0f} req/s", flush=True)
        not_modified, full = statistics.median(results["304"]), statistics.median(results["200"])
        print(f"\n{args.tickets} open tickets x 3 lines, {args.clients} clients, {args.workers} gunicorn workers")
        print(f"304 (If-None-Match): {not_modified:,.0f} req/s")
        print(f"200 (full answer):   {full:,.0f} req/s")
        print(f"ratio 304/200: {not_modified / full:.2f}x")
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        if not args.keep_db:
            drop_database(url)


if __name__ == "__main__":
    main()
