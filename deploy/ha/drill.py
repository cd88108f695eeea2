"""The failover drill: faults injected into a three-node Patroni cluster under order load, counted.

    make ha-drill                                   # every case, ~3-4 minutes
    python deploy/ha/drill.py --cases kill-patroni,server-loss

One throwaway cluster (deploy/ha/cluster.py: three etcd members, three Patroni-managed PostgreSQL 15
nodes on loopback ports, synchronous_mode with synchronous_node_count 1) is migrated with
`flask db upgrade` and serves the app under real gunicorn (deploy/gunicorn.conf.py) on the
multi-host URL, with DATABASE_PATRONI_URLS (writes only to the node holding the leader lock,
app/leader.py) and REPORTS_DATABASE_URL on the standbys. For the whole run:

- writer threads create orders, each with a client_order_id and an Idempotency-Key, retrying the
  same key after a 503/504 or a lost answer until it is answered 201 (acknowledged);
- a reader thread asks for a report every 0.2 s with the same token (the report availability).

Then the cases run one after the other on the same cluster (CASES, in this order), each with its
fault, a wait until writes have been back for a few seconds, and a repair (the killed node rejoins,
the etcd member restarts), so the next case starts from three healthy nodes again:

- disk-full (as root only): the leader's data directory is a small tmpfs in a mount namespace of
  its own; it is filled to the last byte for 8 s, then freed.
- kill-patroni: SIGKILL of only Patroni on the leader; its PostgreSQL keeps running read-write.
  The app stops writing there within a second (its Patroni no longer confirms the lock); the leader
  key expires (ttl) and the synchronous standby is promoted. Counted before the repair: orders the
  old primary has that the new leader lacks (committed locally, never acknowledged) and, of those,
  acknowledged ones (must be 0). Repair: Patroni is started again, demotes and rewinds the old
  primary, which rejoins as a replica.
- kill-postgres: SIGKILL of the leader's postmaster and backends; Patroni restarts it (crash
  recovery) while it holds the lock: no failover.
- kill-etcd: SIGKILL of the etcd member leading the Raft group; the two others elect a leader.
- server-loss: the standbys receive nothing for 2 s (the leader's WAL senders SIGSTOPped), then
  the leader's Patroni and PostgreSQL are SIGKILLed together.
- async-server-loss (comparison): synchronous_mode turned off, then the same as server-loss:
  acknowledged orders are lost, which proves the drill bites.

`--unfenced` runs the app without DATABASE_PATRONI_URLS (libpq's target_session_attrs alone):
kill-patroni then shows the problem the leader check solves (writes stuck on the old primary).

At the end, every acknowledged order is looked up on the final leader. Exit status 1 when a
synchronous case lost an acknowledged order, acknowledged one on a demoted node, answered a 5xx
other than 503/504, or took writes again later than 30 s after the fault.

The change feed is checked after the last case (feed_check): every acknowledged order of a
synchronous case has its `order.created` event in GET /events exactly once, no event twice, and
each order's versions in commit order. Webhook deliveries are checked too (webhooks_check): a webhook
for `order.*` is created before the load and `flask webhooks work` runs beside the app (restarted if it
exits, as a service manager would) delivering to a receiver in the drill; every acknowledged order's
`order.created` must be delivered, and each order's events in version order. Adding a check: append a
function to CHECKS. It gets the
Drill after the last case, with the load stopped (drill.port, drill.token, drill.cluster,
drill.acknowledged() -> {client_order_id: (case, ack time)}, drill.final_leader) and returns a
Check; a failed check fails the drill.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from cluster import DISK_MB, TTL, Cluster, Node, free_port, tail  # noqa: E402

ADMIN_EMAIL, ADMIN_PASSWORD = "drill-admin@comanda.local", "drill-" + "p" * 16
RECOVERY_TARGET_SECONDS = 30
REPORT_PATH = "/api/v1/reports/products"


@dataclass
class Attempt:
    key: str
    status: int | None  # None: no HTTP answer (connection refused/reset, timeout)
    started: float
    ended: float


@dataclass
class Read:
    status: int | None
    source: str | None  # X-Data-Source
    started: float
    ended: float


@dataclass
class CaseResult:
    name: str
    synchronous: bool = True
    fault: str = ""
    started: float = 0.0  # monotonic: the case's window of acknowledgements
    ended: float = 0.0
    fault_at: float = 0.0
    new_leader: str = ""
    failover_seconds: float | None = None  # fault -> Patroni reports a (new) leader
    recovered_seconds: float | None = None  # fault -> first successful write begun after it
    outage_seconds: float | None = None  # last successful write before the fault -> first after
    repair_seconds: float | None = None  # repair started -> three healthy members again
    acknowledged: int = 0  # distinct orders answered 201 within the case's window
    present: int = 0  # of those, on the final leader
    demoted_only: int = 0  # orders on the demoted primary that the new leader lacks (kill-patroni)
    demoted_acknowledged: int = 0  # of those, answered 201 (must be 0)
    statuses: Counter = field(default_factory=Counter)  # answers to POSTs begun during the outage
    reads: Counter = field(default_factory=Counter)  # (status, X-Data-Source) of reports begun in the outage
    report_gap_seconds: float | None = None  # longest time without a successful report in the outage
    notes: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.acknowledged - self.present

    @property
    def other_5xx(self) -> int:
        """5xx answers other than 503 (nothing stored) and 504 outcome_unknown (a truthful "retry")."""
        return sum(n for s, n in self.statuses.items() if s and s >= 500 and s not in (503, 504))

    @property
    def report_availability(self) -> float | None:
        total = sum(self.reads.values())
        return None if not total else sum(n for (s, _), n in self.reads.items() if s == 200) / total

    def ok(self) -> bool:
        if not self.synchronous:
            return self.other_5xx == 0 and self.recovered_seconds is not None
        return (
            self.lost == 0
            and self.demoted_acknowledged == 0
            and self.other_5xx == 0
            and self.recovered_seconds is not None
            and self.recovered_seconds <= RECOVERY_TARGET_SECONDS
        )

    def report(self) -> str:
        fmt = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
        by_status = sorted(self.statuses.items(), key=lambda i: i[0] or 0)
        answers = ", ".join(f"{s or 'no answer'}: {n}" for s, n in by_status)
        by_read = sorted(self.reads.items(), key=lambda i: (i[0][0] or 0, i[0][1] or ""))
        reads = ", ".join(f"{s or 'no answer'} {src or ''}".strip() + f": {n}" for (s, src), n in by_read)
        availability = self.report_availability
        lines = [
            f"{self.name} (synchronous_mode {'on' if self.synchronous else 'off'}): {self.fault}",
            f"  fault -> writes back:                    {fmt(self.recovered_seconds)} s"
            f"   (longest time without a successful write: {fmt(self.outage_seconds)} s;"
            f" fault -> new leader: {fmt(self.failover_seconds)} s)",
            f"  leader afterwards:                       {self.new_leader or '-'}",
            f"  orders acknowledged in this case:        {self.acknowledged}",
            f"  of those on the final leader:            {self.present}"
            + ("" if self.lost == 0 else f"   <-- {self.lost} ACKNOWLEDGED ORDERS LOST"),
            f"  POST answers begun during the outage:    {answers or '-'}",
            f"  report answers during the outage:        {reads or '-'}"
            + ("" if availability is None else f"  ({availability:.0%} answered,"
               f" longest gap {fmt(self.report_gap_seconds)} s)"),
        ]  # fmt: skip
        if self.name == "kill-patroni":
            lines.append(f"  on the demoted primary, not the leader:  {self.demoted_only} orders,"
                         f" {self.demoted_acknowledged} of them acknowledged")  # fmt: skip
        if self.repair_seconds is not None:
            lines.append(f"  repair -> three healthy members:         {fmt(self.repair_seconds)} s")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class DrillSummary:
    cases: list[CaseResult]
    checks: list[Check]
    commit_ms: tuple[float, float] = (0.0, 0.0)
    post_ms: tuple[float, float] = (0.0, 0.0)
    startup_seconds: float = 0.0
    total_seconds: float = 0.0

    def case(self, name: str) -> CaseResult:
        return next(c for c in self.cases if c.name == name)

    def ok(self) -> bool:
        return all(c.ok() for c in self.cases) and all(c.ok for c in self.checks)

    def report(self) -> str:
        lines = [c.report() for c in self.cases]
        lines += [f"check {c.name}: {'ok' if c.ok else 'FAILED'} - {c.detail}" for c in self.checks]
        lines.append(f"commit latency (synchronous, before the faults): median {self.commit_ms[0]:.2f} ms,"
                     f" p95 {self.commit_ms[1]:.2f} ms; POST /orders median {self.post_ms[0]:.1f} ms,"
                     f" p95 {self.post_ms[1]:.1f} ms")  # fmt: skip
        lines.append(f"cluster + app start {self.startup_seconds:.0f} s, whole drill {self.total_seconds:.0f} s")
        return "\n".join(lines)


def _percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return (0.0, 0.0)
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _request(port: int, method: str, path: str, body: dict | None, headers: dict,
             timeout: float = 20) -> tuple[int, dict, http.client.HTTPResponse]:  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json", **headers})
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw or b"{}"), resp
        except ValueError:
            return resp.status, {}, resp
    finally:
        conn.close()


def _post(port: int, path: str, body: dict, headers: dict, timeout: float = 20) -> tuple[int, dict]:
    status, data, _ = _request(port, "POST", path, body, headers, timeout)
    return status, data


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
        and k not in {"DATABASE_URL", "REPORTS_DATABASE_URL", "DATABASE_PATRONI_URLS", "SECRET_KEY",
                      "JWT_SECRET_KEY", "REDIS_URL"}  # fmt: skip
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
                          text=True, timeout=180)  # fmt: skip
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


def wait_http(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
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
        self.lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]

    def start(self) -> Load:
        for worker in self._workers:
            worker.start()
        return self

    def join(self) -> None:
        self.stop.set()
        for worker in self._workers:
            worker.join(timeout=60)

    def snapshot(self) -> list[Attempt]:
        with self.lock:
            return list(self.attempts)

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
                with self.lock:
                    self.attempts.append(Attempt(key, status, started, time.monotonic()))
                if status == 201 or self.stop.is_set():
                    break
                time.sleep(0.25)


class Reader:
    """One thread asking for a report every `interval` seconds: is it answered, and from what."""

    def __init__(self, port: int, token: str, interval: float = 0.2) -> None:
        self.port, self.token, self.interval = port, token, interval
        self.stop = threading.Event()
        self.reads: list[Read] = []
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Reader:
        self._thread.start()
        return self

    def join(self) -> None:
        self.stop.set()
        self._thread.join(timeout=60)

    def snapshot(self) -> list[Read]:
        with self.lock:
            return list(self.reads)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                status, _, resp = _request(self.port, "GET", REPORT_PATH, None, headers, timeout=20)
                source = resp.getheader("X-Data-Source")
            except OSError:
                status, source = None, None
            with self.lock:
                self.reads.append(Read(status, source, started, time.monotonic()))
            self.stop.wait(self.interval)


# ---------------------------------------------------------------------------------------- the drill


class Receiver:
    """A webhook receiver on loopback: answers 200 to every POST and keeps what came, in arrival order:
    (webhook-id, subject id, subject version)."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        got: list[tuple[str, int, int]] = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1: the worker keeps its connection (app/feed/delivery.py) instead of connecting for
            # every POST; with http.server's HTTP/1.0 and its backlog of 5, connects from eight sender
            # threads to this busy process waited for SYN retransmits, whole batches waited for them,
            # and deliveries that timed out were retried minutes later (the drill's check then failed).
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                subject = body.get("subject") or {}
                with lock:
                    got.append((self.headers.get("webhook-id", ""), subject.get("id", 0), subject.get("version", 0)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                return

        self.got, self.lock = got, lock
        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # http.server's default listen backlog is 5

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self) -> list[tuple[str, int, int]]:
        with self.lock:
            return list(self.got)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Worker:
    """`flask webhooks work`. Through a failover it connects again to the new leader by itself (backoff,
    app/feed/worker.py), so `restarts` should stay 0; the watch restarts it if it ever exits anyway, as
    a service manager would."""

    def __init__(self, env: dict, log: Path) -> None:
        self.env, self.log, self.restarts = env, log, 0
        self.proc = self._start()
        self.done = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _start(self) -> subprocess.Popen:
        handle = self.log.open("ab")
        try:
            return subprocess.Popen([sys.executable, "-m", "flask", "webhooks", "work"], cwd=REPO, env=self.env,
                                    stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            handle.close()

    def _watch(self) -> None:
        while not self.done.wait(1.0):
            if self.proc.poll() is not None:
                self.restarts += 1
                self.proc = self._start()

    def stop(self) -> None:
        self.done.set()
        stop_process(self.proc)


class Drill:
    """The cluster, the app and the load, shared by the cases."""

    def __init__(self, *, threads: int = 3, settle: float = 3.0, give_up: float = 60.0, fenced: bool = True,
                 log=print) -> None:  # fmt: skip
        self.threads, self.settle, self.give_up, self.fenced, self.log = threads, settle, give_up, fenced, log
        # As root the first leader (pg0) gets a small disk of its own for the disk-full case.
        self.cluster = Cluster(synchronous=True, small_disk="pg0" if os.geteuid() == 0 else None)
        self.workdir = Path(tempfile.mkdtemp(prefix="comanda-drill-"))
        self.app_log = self.workdir / "gunicorn.log"
        self.gunicorn: subprocess.Popen | None = None
        self.port = 0
        self.token = ""
        self.load: Load | None = None
        self.reader: Reader | None = None
        self.receiver: Receiver | None = None
        self.worker: Worker | None = None
        self.cases: list[CaseResult] = []
        self.final_leader: Node | None = None
        self.commit_ms: tuple[float, float] = (0.0, 0.0)

    # -------------------------------------------------------------- lifecycle

    def start(self) -> None:
        import psycopg2

        self.log(f"starting three etcd members and three Patroni nodes in {self.cluster.root}")
        self.cluster.start()
        conn = psycopg2.connect(self.cluster.leader().dsn(), connect_timeout=5)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE comanda")
        conn.close()
        self.port = free_port()
        # Retries within seconds, not the production schedule's minutes: the check waits for delivery
        # through the faults, and an attempt that failed during one must be made again within its wait.
        extra = {"REPORTS_DATABASE_URL": self.cluster.standby_first_url, "WEBHOOK_ALLOW_PRIVATE_URLS": "1",
                 "WEBHOOK_RETRY_SCHEDULE": "1,2,5,10,20,30,60"}
        if self.fenced:  # --unfenced: libpq's target_session_attrs alone, for comparison
            extra["DATABASE_PATRONI_URLS"] = self.cluster.patroni_urls
        env = app_env(self.cluster.multi_host_url, self.port, extra)
        flask(env, "db", "upgrade")
        flask(env, "users", "ensure-admin")
        self.commit_ms = _commit_latency(self.cluster.leader().dsn("comanda"))
        self.gunicorn = start_gunicorn(env, self.app_log)
        wait_http(self.port, self.gunicorn, self.app_log)
        self.token = login(self.port)
        # A webhook for every order event, delivered by the worker to a receiver here (webhooks_check).
        self.receiver = Receiver()
        status, body = _post(self.port, "/api/v1/webhooks", {"url": f"http://127.0.0.1:{self.receiver.port}/hook",
                                                             "types": ["order.*"]},
                             {"Authorization": f"Bearer {self.token}"})
        if status != 201:
            raise RuntimeError(f"POST /webhooks answered {status}: {body}")
        self.worker = Worker(env, self.workdir / "worker.log")
        self.load = Load(self.port, self.token, self.threads).start()
        self.reader = Reader(self.port, self.token).start()

    def stop(self) -> None:
        for worker in (self.load, self.reader):
            if worker is not None:
                worker.join()
        if self.worker is not None:
            self.worker.stop()
        if self.receiver is not None:
            self.receiver.stop()
        stop_process(self.gunicorn)
        self.cluster.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def logs(self) -> str:
        return f"{self.cluster.logs()}\n--- gunicorn\n{tail(self.app_log)}"

    # -------------------------------------------------------------- what the cases use

    def wait_writes_back(self, case: CaseResult, since: float) -> None:
        """Until a write begun after `since` succeeded `settle` seconds ago (or give_up after the fault)."""
        while time.monotonic() - case.fault_at < self.give_up:
            back = [a.ended for a in self.load.snapshot() if a.status == 201 and a.started > since]
            if back and time.monotonic() - min(back) >= self.settle:
                return
            time.sleep(0.2)

    def measure(self, case: CaseResult) -> None:
        """The case's figures from the load's and the reader's records, fault to now.

        The outage is the longest stretch without an acknowledged write after the fault (counted from
        the last acknowledgement before it); writes are back at its end. A fault the writes never
        noticed leaves only the ordinary gap between two orders.
        """
        now = time.monotonic()
        attempts = self.load.snapshot()
        acks = sorted(a.ended for a in attempts if a.status == 201)
        points = [max((t for t in acks if t <= case.fault_at), default=case.fault_at)]
        points += [t for t in acks if case.fault_at < t <= now]
        # The stretch from the last acknowledgement to now counts too: writes that never came back.
        start, end = max(zip(points, [*points[1:], now], strict=True), key=lambda gap: gap[1] - gap[0])
        case.outage_seconds = end - start
        if end == now and case.outage_seconds >= 1.0:
            case.recovered_seconds = None  # not back by the end of the watch
        else:
            # A longest gap under a second is the load's own rhythm: writes never stopped.
            case.recovered_seconds = end - case.fault_at if case.outage_seconds >= 1.0 else 0.0
        back_at = now if case.recovered_seconds is None else case.fault_at + case.recovered_seconds
        if case.recovered_seconds == 0.0:
            back_at = now  # no outage: the whole watched stretch counts
        case.statuses = Counter(a.status for a in attempts if case.fault_at <= a.started <= back_at)
        reads = [r for r in self.reader.snapshot() if r.ended >= case.fault_at and r.started <= back_at]
        case.reads = Counter((r.status, r.source) for r in reads)
        ok_times = sorted([case.fault_at, back_at] + [r.ended for r in reads if r.status == 200 and r.ended <= back_at])
        case.report_gap_seconds = max((b - a for a, b in zip(ok_times, ok_times[1:], strict=False)), default=None)

    def repair(self, case: CaseResult, node: Node | None = None) -> None:
        """Restart `node`'s Patroni (if given) and wait for three healthy members with a sync standby."""
        started = time.monotonic()
        if node is not None:
            self.cluster.restart_patroni(node)
        self.cluster.wait_for_replicas(120)
        case.repair_seconds = time.monotonic() - started

    def acknowledged(self) -> dict[str, tuple[str, float]]:
        """client_order_id -> (case, when) of every order answered 201."""
        found: dict[str, tuple[str, float]] = {}
        for attempt in self.load.snapshot():
            if attempt.status == 201 and attempt.key not in found:
                case = next((c.name for c in self.cases if c.started <= attempt.ended < c.ended), "between cases")
                found[attempt.key] = (case, attempt.ended)
        return found

    def orders_on(self, node: Node, keys: list[str] | None = None) -> set[str]:
        import psycopg2

        conn = psycopg2.connect(node.dsn("comanda"), connect_timeout=5)
        try:
            with conn.cursor() as cur:
                if keys is None:
                    cur.execute("SELECT client_order_id FROM orders WHERE client_order_id LIKE 'drill-%%'")
                else:
                    cur.execute("SELECT client_order_id FROM orders WHERE client_order_id = ANY(%s)", (keys,))
                return {row[0] for row in cur.fetchall()}
        finally:
            conn.close()

    # -------------------------------------------------------------- running

    def run_case(self, name: str, inject: Callable[[Drill, CaseResult], None], pause: float) -> CaseResult:
        # Windows are contiguous: the first case also owns the acknowledgements of the warm-up.
        started = self.cases[-1].ended if self.cases else 0.0
        case = CaseResult(name, synchronous=self.cluster.synchronous, started=started)
        self.cluster.wait_for_leader(60)
        self.cluster.wait_for_replicas(120)
        time.sleep(pause)  # writes and reads flowing on a healthy cluster
        self.log(f"[{name}] injecting the fault")
        inject(self, case)
        case.ended = time.monotonic()
        self.cases.append(case)
        self.log(f"[{name}] done: writes back after {case.recovered_seconds} s")
        return case

    def finish(self) -> list[Check]:
        for worker in (self.load, self.reader):
            worker.join()
        if self.cases:
            self.cases[-1].ended = float("inf")  # the last case owns what came after it
        acknowledged = self.acknowledged()
        self.final_leader = self.cluster.wait_for_leader(60)
        present = self.orders_on(self.final_leader, sorted(acknowledged))
        for case in self.cases:
            keys = [k for k, (c, _) in acknowledged.items() if c == case.name]
            case.acknowledged = len(keys)
            case.present = sum(1 for k in keys if k in present)
        return [check(self) for check in CHECKS]


# ---------------------------------------------------------------------------------------- the cases


def _failover(drill: Drill, case: CaseResult, old: Node) -> None:
    since = case.fault_at
    try:
        new = drill.cluster.wait_for_leader(drill.give_up, exclude=old)
        since = time.monotonic()
        case.failover_seconds = since - case.fault_at
        case.new_leader = new.name
    finally:
        drill.wait_writes_back(case, since)
        drill.measure(case)


def disk_full(drill: Drill, case: CaseResult, hold: float = 8.0) -> None:
    node = drill.cluster.node(drill.cluster.small_disk)
    if drill.cluster.leader() is not node:
        drill.cluster.switchover(node)
        drill.cluster.wait_for_replicas(120)
    case.fault = (f"the leader {node.name}'s disk ({DISK_MB} MB tmpfs) filled to the last byte for {hold:g} s,"
                  " then freed")  # fmt: skip
    case.fault_at = time.monotonic()
    drill.cluster.fill_disk(node)
    filled = time.monotonic()
    time.sleep(max(0.0, hold - (filled - case.fault_at)))
    leader_while_full = drill.cluster.leader()
    drill.cluster.free_disk(node)
    freed = time.monotonic()
    try:
        drill.wait_writes_back(case, freed)
    finally:
        drill.measure(case)
    now = drill.cluster.wait_for_leader(drill.give_up)
    case.new_leader = now.name + (" (unchanged: no failover)" if now is node else "")
    case.notes.append(f"disk full for {freed - case.fault_at:.1f} s (filling took {filled - case.fault_at:.1f} s);"
                      f" leader while full: {leader_while_full.name if leader_while_full else 'none'}")  # fmt: skip
    lines = node.log.read_text(errors="replace").splitlines()
    enospc = [line for line in lines if "No space left on device" in line]
    panics = sum(1 for line in lines if "PANIC" in line)
    case.notes.append(f"PostgreSQL log: {len(enospc)} 'No space left on device' errors, {panics} PANIC"
                      + (f"; first: {enospc[0].split('UTC', 1)[-1].strip()[:110]}" if enospc else ""))  # fmt: skip
    if case.recovered_seconds:
        back = case.fault_at + case.recovered_seconds - freed
        case.notes.append(f"writes back {back:.1f} s after the disk was freed")
    drill.repair(case)


def kill_patroni(drill: Drill, case: CaseResult) -> None:
    old = drill.cluster.leader()
    case.fault = f"SIGKILL of Patroni only on the leader {old.name} (its PostgreSQL keeps running)"
    drill.cluster.kill_patroni(old)
    case.fault_at = time.monotonic()
    _failover(drill, case, old)
    # Before the repair: what the old primary took that the new leader does not have.
    on_old = drill.orders_on(old)
    on_new = drill.orders_on(drill.cluster.leader(), sorted(on_old))
    orphans = on_old - on_new
    acknowledged = drill.acknowledged()
    case.demoted_only = len(orphans)
    case.demoted_acknowledged = sum(1 for key in orphans if key in acknowledged)
    still_running = old.postmaster_pid() is not None
    case.notes.append(f"old primary's PostgreSQL still running read-write until the repair: {still_running}")
    drill.repair(case, old)


def kill_postgres(drill: Drill, case: CaseResult) -> None:
    leader = drill.cluster.leader()
    case.fault = f"SIGKILL of PostgreSQL (postmaster and backends) on the leader {leader.name}; Patroni stays"
    drill.cluster.kill_postgres(leader)
    case.fault_at = time.monotonic()
    try:
        drill.wait_writes_back(case, case.fault_at)
    finally:
        drill.measure(case)
    now = drill.cluster.wait_for_leader(drill.give_up)
    case.new_leader = now.name + (" (the same node: Patroni restarted it)" if now is leader else "")
    drill.repair(case)


def kill_etcd(drill: Drill, case: CaseResult) -> None:
    member = drill.cluster.kill_etcd_leader()
    leader = drill.cluster.leader()
    case.fault = f"SIGKILL of the etcd Raft leader {member.name} (two of three members left)"
    case.fault_at = time.monotonic()
    try:
        # Watched for a whole ttl: long enough for Patroni to lose its lock if it could not renew it.
        drill.wait_writes_back(case, case.fault_at + TTL)
    finally:
        drill.measure(case)
    now = drill.cluster.leader()
    case.new_leader = "none" if now is None else now.name + (" (unchanged)" if now is leader else "")
    started = time.monotonic()
    drill.cluster.restart_etcd(member)
    drill.cluster.wait_for_replicas(120)
    case.repair_seconds = time.monotonic() - started


def _server_loss(drill: Drill, case: CaseResult, stall: float = 2.0) -> Node:
    old = drill.cluster.leader()
    case.fault = f"standbys get no WAL for {stall:g} s, then SIGKILL of Patroni and PostgreSQL on {old.name}"
    drill.cluster.stall_replication()
    time.sleep(stall)
    drill.cluster.kill_leader()
    case.fault_at = time.monotonic()
    _failover(drill, case, old)
    return old


def server_loss(drill: Drill, case: CaseResult) -> None:
    old = _server_loss(drill, case)
    drill.repair(case, old)


def async_server_loss(drill: Drill, case: CaseResult) -> None:
    drill.cluster.patch_config({"synchronous_mode": False})
    drill.cluster.synchronous = case.synchronous = False
    deadline = time.monotonic() + 30
    while drill.cluster.sync_standby() is not None and time.monotonic() < deadline:
        time.sleep(0.3)
    time.sleep(2)  # asynchronous commits flowing
    _server_loss(drill, case)


CASES: dict[str, Callable[[Drill, CaseResult], None]] = {
    "disk-full": disk_full,  # first: pg0, the first leader, has the small disk (root only)
    "kill-patroni": kill_patroni,
    "kill-postgres": kill_postgres,
    "kill-etcd": kill_etcd,
    "server-loss": server_loss,
    "async-server-loss": async_server_loss,
}

def feed_check(drill: Drill) -> Check:
    """The change feed through every failover: each acknowledged order of a synchronous case has its
    `order.created` event in GET /events exactly once; no event comes twice; within a location the
    positions only grow and each order's versions only grow (commit order survived the failovers)."""
    import psycopg2

    sync_cases = {c.name for c in drill.cases if c.synchronous}
    acknowledged = {k for k, (case, _) in drill.acknowledged().items() if case in sync_cases}
    conn = psycopg2.connect(drill.final_leader.dsn("comanda"), connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, client_order_id FROM orders WHERE client_order_id = ANY(%s)",
                        (sorted(acknowledged),))
            ids = {row[0]: row[1] for row in cur.fetchall()}
    finally:
        conn.close()
    seen: set[int] = set()
    created: dict[int, int] = {}
    versions: dict[int, int] = {}
    problems: list[str] = []
    cursor, pages = None, 0
    while pages < 10_000:
        path = "/api/v1/events?limit=500" + (f"&after={quote(cursor, safe='')}" if cursor else "")
        status, body, _ = _request(drill.port, "GET", path, None, {"Authorization": f"Bearer {drill.token}"}, 30)
        if status != 200:
            return Check("feed", False, f"GET /events answered {status}: {str(body)[:200]}")
        pages += 1
        for event in body["data"]:
            if event["id"] in seen:
                problems.append(f"event {event['id']} twice")
            seen.add(event["id"])
            subject = event["subject"]
            if subject["type"] == "order":
                if subject["version"] <= versions.get(subject["id"], 0):
                    problems.append(f"order {subject['id']}: version {subject['version']} after "
                                    f"{versions[subject['id']]}")
                versions[subject["id"]] = subject["version"]
                if event["type"] == "order.created":
                    created[subject["id"]] = created.get(subject["id"], 0) + 1
        if not body["data"]:
            break
        cursor = body["next_cursor"]
    missing = [key for order_id, key in ids.items() if created.get(order_id) != 1]
    missing += sorted(acknowledged - set(ids.values()))  # not even in the database (counted by the cases too)
    ok = not missing and not problems
    detail = (f"{len(seen)} events in {pages} pages; {len(ids)} acknowledged orders of synchronous cases, "
              f"each created exactly once in the feed: {'yes' if not missing else f'NO ({len(missing)} missing)'}; "
              f"order versions in commit order: {'yes' if not problems else '; '.join(problems[:5])}")
    return Check("feed", ok, detail)


def webhooks_check(drill: Drill, wait: float = 240.0) -> Check:
    """Webhook deliveries through every failover: each acknowledged order of a synchronous case has its
    `order.created` event delivered at least once (waiting up to `wait` s for the worker to catch up), and
    for every order the events arrive in version order (a repeat of one already delivered aside)."""
    import psycopg2

    sync_cases = {c.name for c in drill.cases if c.synchronous}
    acknowledged = {k for k, (case, _) in drill.acknowledged().items() if case in sync_cases}
    conn = psycopg2.connect(drill.final_leader.dsn("comanda"), connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM orders WHERE client_order_id = ANY(%s)", (sorted(acknowledged),))
            wanted = {row[0] for row in cur.fetchall()}
    finally:
        conn.close()
    deadline = time.monotonic() + wait
    while True:
        got = drill.receiver.snapshot()
        created = {subject for _, subject, version in got if version == 1}
        missing = wanted - created
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(2)
    out_of_order = 0
    highest: dict[int, int] = {}
    first_seen: set[str] = set()
    for webhook_id, subject, version in got:
        if webhook_id in first_seen:
            continue  # a repeat (at least once)
        first_seen.add(webhook_id)
        if version < highest.get(subject, 0):
            out_of_order += 1
        highest[subject] = max(highest.get(subject, 0), version)
    ok = not missing and out_of_order == 0
    detail = (f"{len(got)} deliveries ({len(got) - len(first_seen)} repeats), worker restarts "
              f"{drill.worker.restarts} (0 expected: it reconnects by itself); "
              f"{len(wanted)} acknowledged orders, created event delivered for all: "
              f"{'yes' if not missing else f'NO ({len(missing)} missing)'}; out of per-order order: {out_of_order}")
    return Check("webhooks", ok, detail)


# Checks over the whole run, after the last case.
CHECKS: list[Callable[[Drill], Check]] = [feed_check, webhooks_check]


def default_cases() -> list[str]:
    """Every case this machine can run: disk-full needs root (a tmpfs in a mount namespace)."""
    return [name for name in CASES if name != "disk-full" or os.geteuid() == 0]


def run(cases: list[str] | None = None, *, threads: int = 3, pause: float = 3.0, settle: float = 3.0,
        give_up: float = 60.0, fenced: bool = True, log=print) -> DrillSummary:  # fmt: skip
    """Every case in `cases` (default: all, in CASES' order) on one cluster; everything is stopped after."""
    names = default_cases() if cases is None else cases
    began = time.monotonic()
    drill = Drill(threads=threads, settle=settle, give_up=give_up, fenced=fenced, log=log)
    try:
        drill.start()
        startup = time.monotonic() - began
        for name in names:
            drill.run_case(name, CASES[name], pause)
        checks = drill.finish()
        attempts = drill.load.snapshot()
        first_fault = min((c.fault_at for c in drill.cases), default=time.monotonic())
        post_ms = _percentiles([(a.ended - a.started) * 1000 for a in attempts
                                if a.status == 201 and a.ended < first_fault])  # fmt: skip
        return DrillSummary(drill.cases, checks, drill.commit_ms, post_ms, startup, time.monotonic() - began)
    except BaseException:
        log(f"drill failed; logs:\n{drill.logs()}")
        raise
    finally:
        drill.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(default_cases()),
                        help=f"comma-separated, from: {', '.join(CASES)}")  # fmt: skip
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--pause", type=float, default=3.0, help="seconds of healthy load before each fault")
    parser.add_argument("--unfenced", action="store_true",
                        help="comparison: the app without DATABASE_PATRONI_URLS (kill-patroni fails)")  # fmt: skip
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    summary = run(names, threads=args.threads, pause=args.pause, fenced=not args.unfenced)
    print()
    print(summary.report())
    if not summary.ok():
        print("\nFAILED: a synchronous case lost or demoted-acknowledged an order, answered a 5xx other than "
              f"503/504, or did not take writes again within {RECOVERY_TARGET_SECONDS} s, or a check failed",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
