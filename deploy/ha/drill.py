"""The failover drill: lose the primary under a load of order creations and count what survived.

    make ha-drill                      # both runs: synchronous_mode on, then off for comparison
    python deploy/ha/drill.py --mode sync

Each run starts a throwaway cluster (deploy/ha/cluster.py: one etcd, two Patroni-managed
PostgreSQL 15 nodes on loopback ports), migrates it with `flask db upgrade`, serves the app under
real gunicorn (deploy/gunicorn.conf.py) on the multi-host URL
`postgresql://...@h1:p1,h2:p2/comanda?target_session_attrs=read-write`, and runs a few threads that
create orders, each with a client_order_id and an Idempotency-Key, retrying the same key after a
503 or a lost answer. A few seconds in, the leader's server is lost: its Patroni and its PostgreSQL
postmaster are SIGKILLed, so Patroni on the other node takes the leader key when it expires (TTL)
and promotes its replica. The load goes on until writes have succeeded for a while again.

Printed per run: seconds without a successful write, the 201 answers (distinct orders the app
acknowledged), how many of those orders the new leader has (must be equal: no acknowledged order
lost), 5xx answers other than 503 (must be 0), and the commit latency before the kill (what
synchronous replication costs). Exit status 1 when the synchronous run breaks a guarantee or
writes are not back within 30 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from cluster import Cluster, free_port, tail  # noqa: E402

ADMIN_EMAIL, ADMIN_PASSWORD = "drill-admin@comanda.local", "drill-" + "p" * 16
RECOVERY_TARGET_SECONDS = 30


@dataclass
class Attempt:
    key: str
    status: int | None  # None: no HTTP answer (connection refused/reset, timeout)
    started: float
    ended: float


@dataclass
class DrillResult:
    synchronous: bool
    killed: str = ""
    new_leader: str = ""
    failover_seconds: float | None = None  # kill -> Patroni reports a new leader
    outage_seconds: float | None = None  # last successful write before the kill -> first after
    recovered_seconds: float | None = None  # kill -> first successful write begun after the kill
    acknowledged: int = 0  # distinct orders answered 201 (first answer or replay)
    present: int = 0  # of those, orders the new leader has
    half_written: int = 0  # orders on the new leader whose lines or totals are not all there
    statuses: Counter = field(default_factory=Counter)
    commit_ms: tuple[float, float] = (0.0, 0.0)  # median, p95 of single-row commits before the kill
    post_ms: tuple[float, float] = (0.0, 0.0)  # median, p95 of POST /orders before the kill

    @property
    def other_5xx(self) -> int:
        """5xx answers other than 503 (and other than 504 outcome_unknown, a truthful "retry")."""
        return sum(n for status, n in self.statuses.items() if status and status >= 500 and status not in (503, 504))

    @property
    def lost(self) -> int:
        return self.acknowledged - self.present

    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.half_written == 0
            and self.other_5xx == 0
            and self.recovered_seconds is not None
            and self.recovered_seconds <= RECOVERY_TARGET_SECONDS
        )

    def report(self) -> str:
        mode = "on" if self.synchronous else "off"
        fmt = lambda v: "never" if v is None else f"{v:.1f}"  # noqa: E731
        ordered = sorted(self.statuses.items(), key=lambda item: item[0] or 0)
        answers = ", ".join(f"{status or 'no answer'}: {n}" for status, n in ordered)
        return "\n".join([
            f"synchronous_mode {mode}: killed {self.killed} (leader), new leader {self.new_leader}",
            f"  seconds without a successful write:      {fmt(self.outage_seconds)}"
            f" (kill -> first write that succeeded: {fmt(self.recovered_seconds)} s;"
            f" kill -> new leader: {fmt(self.failover_seconds)} s)",
            f"  201 answers (orders acknowledged):       {self.acknowledged}",
            f"  of those present on the new leader:      {self.present}"
            + ("" if self.lost == 0 else f"   <-- {self.lost} ACKNOWLEDGED ORDERS LOST"),
            f"  orders half written on the new leader:   {self.half_written}",
            f"  5xx other than 503 (and 504):            {self.other_5xx}",
            f"  all answers:                             {answers}",
            f"  commit latency before the kill:          median {self.commit_ms[0]:.2f} ms,"
            f" p95 {self.commit_ms[1]:.2f} ms",
            f"  POST /orders latency before the kill:    median {self.post_ms[0]:.1f} ms, p95 {self.post_ms[1]:.1f} ms",
        ])  # fmt: skip


def _percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return (0.0, 0.0)
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _post(port: int, path: str, body: dict, headers: dict, timeout: float = 20) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw or b"{}")
        except ValueError:
            return resp.status, {}
    finally:
        conn.close()


def _commit_latency(dsn: str, rounds: int = 200) -> tuple[float, float]:
    """Median and p95 of single-row INSERT commits: the price of waiting for the standby."""
    import psycopg2

    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS drill_probe (id bigserial PRIMARY KEY, at timestamptz)")
        conn.commit()
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            with conn.cursor() as cur:
                cur.execute("INSERT INTO drill_probe (at) VALUES (now())")
            conn.commit()
            times.append((time.perf_counter() - started) * 1000)
        return _percentiles(times)
    finally:
        conn.close()


def app_env(database_url: str, port: int, extra: dict | None = None) -> dict:
    """The app's environment: production mode on `database_url`, this process's PATH and Python."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GUNICORN_", "FLASK_", "COMANDA_", "RATELIMIT_", "DB_"))
        and k not in {"DATABASE_URL", "REPORTS_DATABASE_URL", "SECRET_KEY", "JWT_SECRET_KEY", "REDIS_URL"}
    }
    env.update(
        COMANDA_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=database_url,
        DB_CONNECT_TIMEOUT="2",
        ADMIN_EMAIL=ADMIN_EMAIL,
        ADMIN_PASSWORD=ADMIN_PASSWORD,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="3",
        RATELIMIT_PER_ADDRESS="100000000 per minute",  # order load from one address: counted, never refused
        RATELIMIT_PER_USER="100000000 per minute",
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
        FLASK_APP="wsgi",
    )
    env.update(extra or {})
    return env


def flask(env: dict, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def start_gunicorn(env: dict, log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"), "wsgi:app"],
            cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    finally:
        handle.close()  # the child has its own copy


def wait_http(port: int, proc: subprocess.Popen, log: Path, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}\n{tail(log)}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer /health within {timeout:.0f}s\n{tail(log)}")


def stop_process(proc: subprocess.Popen | None, grace: float = 15) -> None:
    import signal

    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def login(port: int) -> str:
    status, body = _post(port, "/api/v1/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, {})
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body}")
    return body["access_token"]


class Load:
    """Threads creating orders; each order is retried with its own key until it is answered 201."""

    def __init__(self, port: int, token: str, threads: int) -> None:
        self.port, self.token, self.threads = port, token, threads
        self.stop = threading.Event()
        self.attempts: list[Attempt] = []
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]

    def start(self) -> Load:
        for worker in self._workers:
            worker.start()
        return self

    def join(self) -> None:
        self.stop.set()
        for worker in self._workers:
            worker.join(timeout=60)

    def _run(self, n: int) -> None:
        while not self.stop.is_set():
            key = f"drill-{n}-{uuid.uuid4().hex[:16]}"
            body = {"customer_name": "Drill", "table": str(n), "client_order_id": key,
                    "items": [{"product_name": "Drill taco", "unit_price": "10.00", "quantity": 1}]}  # fmt: skip
            headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
            while True:  # the same order until it is acknowledged (or the run ends)
                started = time.monotonic()
                try:
                    status = _post(self.port, "/api/v1/orders", body, headers)[0]
                except OSError:
                    status = None
                with self._lock:
                    self.attempts.append(Attempt(key, status, started, time.monotonic()))
                if status == 201 or self.stop.is_set():
                    break
                time.sleep(0.25)


def run(synchronous: bool, *, warmup: float = 5.0, stall: float = 2.0, settle: float = 5.0, threads: int = 3,
        give_up: float = 60.0, log=print) -> DrillResult:  # fmt: skip
    """One drill on a fresh cluster; everything started here is stopped before it returns."""
    import psycopg2

    result = DrillResult(synchronous)
    cluster = Cluster(synchronous=synchronous)
    gunicorn = None
    workdir = Path(tempfile.mkdtemp(prefix="comanda-drill-"))
    app_log = workdir / "gunicorn.log"
    try:
        log(f"[{'sync' if synchronous else 'async'}] starting etcd and two Patroni nodes in {cluster.root}")
        cluster.start()
        leader = cluster.leader()
        conn = psycopg2.connect(leader.dsn(), connect_timeout=5)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE comanda")
        conn.close()

        port = free_port()
        env = app_env(cluster.multi_host_url, port)
        flask(env, "db", "upgrade")
        flask(env, "users", "ensure-admin")
        result.commit_ms = _commit_latency(cluster.leader().dsn("comanda"))
        gunicorn = start_gunicorn(env, app_log)
        wait_http(port, gunicorn, app_log)
        load = Load(port, login(port), threads).start()
        time.sleep(warmup)

        if stall:
            # The standby stops receiving WAL for `stall` seconds before the server is lost.
            cluster.stall_replication()
            time.sleep(stall)
        killed = cluster.kill_leader()
        kill_at = time.monotonic()
        result.killed = killed.name
        log(f"[{'sync' if synchronous else 'async'}] SIGKILLed {killed.name}'s Patroni and PostgreSQL")
        try:
            new_leader = cluster.wait_for_leader(give_up, exclude=killed)
            result.failover_seconds = time.monotonic() - kill_at
            result.new_leader = new_leader.name
        finally:
            # Keep loading until writes have been back for `settle` seconds (or we give up).
            while time.monotonic() - kill_at < give_up:
                with load._lock:
                    back = [a.ended for a in load.attempts if a.status == 201 and a.started > kill_at]
                if back and time.monotonic() - min(back) >= settle:
                    break
                time.sleep(0.2)
            load.join()

        attempts = load.attempts
        result.statuses = Counter(a.status for a in attempts)
        before = [a for a in attempts if a.status == 201 and a.ended <= kill_at]
        after = [a for a in attempts if a.status == 201 and a.started > kill_at]
        result.post_ms = _percentiles([(a.ended - a.started) * 1000 for a in before])
        if after:
            first_after = min(a.ended for a in after)
            result.recovered_seconds = first_after - kill_at
            last_before = max((a.ended for a in attempts if a.status == 201 and a.ended <= first_after
                               and a.ended <= kill_at), default=kill_at)  # fmt: skip
            result.outage_seconds = first_after - last_before
        acknowledged = sorted({a.key for a in attempts if a.status == 201})
        result.acknowledged = len(acknowledged)

        leader = cluster.leader()
        conn = psycopg2.connect(leader.dsn("comanda"), connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM orders WHERE client_order_id = ANY(%s)", (acknowledged,))
                result.present = cur.fetchone()[0]
                # Each drill order has exactly one line of quantity 1: anything else is a torn write.
                cur.execute("""
                    SELECT count(*) FROM orders o
                    WHERE o.client_order_id LIKE 'drill-%%'
                      AND (o.item_count <> 1 OR (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) <> 1)
                """)
                result.half_written = cur.fetchone()[0]
        finally:
            conn.close()
        return result
    except BaseException:
        log(f"drill failed; cluster logs:\n{cluster.logs()}\n--- gunicorn\n{tail(app_log)}")
        raise
    finally:
        stop_process(gunicorn)
        cluster.stop()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("both", "sync", "async"), default="both")
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--stall", type=float, default=2.0,
                        help="seconds the standby receives no WAL before the kill (0: none)")
    args = parser.parse_args(argv)
    modes = {"both": (True, False), "sync": (True,), "async": (False,)}[args.mode]
    results = [run(sync, threads=args.threads, warmup=args.warmup, stall=args.stall) for sync in modes]
    print()
    for result in results:
        print(result.report())
    failed = [r for r in results if r.synchronous and not r.ok()]
    if any(not r.synchronous and r.lost for r in results):
        print("\nsynchronous_mode off lost acknowledged orders: asynchronous replication acknowledges a commit "
              "before the replica has it.")  # fmt: skip
    if failed:
        print("\nFAILED: the synchronous run lost acknowledged orders, answered 5xx other than 503, "
              f"or did not take writes again within {RECOVERY_TARGET_SECONDS} s", file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
