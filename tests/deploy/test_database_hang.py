"""A hanging database under load, through the real gunicorn and nginx: fast answers that tell the truth.

The stack (tests/deploy/stack.py) runs on a throwaway PostgreSQL cluster (tests/pgcluster.py), never
the shared server. Three clients create orders one after another and a fourth polls /health while
the whole cluster is stopped with SIGSTOP for a while and then continued. Then every answer is
checked against the rows:

- every answer (orders and /health) came within the app's bound, DB_CONNECT_TIMEOUT +
  DB_RESPONSE_TIMEOUT_MS, long before gunicorn's 30 s or nginx's 35 s;
- 201 -> the order is stored; 503 -> it is not (and never appears later); 504 `outcome_unknown`
  is the only answer that may go either way;
- after SIGCONT the service recovers by itself.

Timeouts are shortened (1 s to connect, 3 s for an answer) to keep the test short; the code path is
the production one. The last test kills gunicorn with requests inside it and checks nginx's own
answers: 504 `outcome_unknown` for a write that reached the app, 503 for a read.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from app.errors import OutcomeUnknown, ServiceUnavailable
from tests.deploy.stack import (
    DEPLOY_MARKS,
    Reply,
    Stack,
    admin_headers,
    create_product,
    order_json,
    request,
    run_stack,
    stored_client_order_ids,
)
from tests.pgcluster import ThrowawayPostgres, find_pg_bindir

BINDIR = find_pg_bindir()
CONNECT_TIMEOUT_S = 1
RESPONSE_TIMEOUT_S = 3
BOUND_S = CONNECT_TIMEOUT_S + RESPONSE_TIMEOUT_S  # the most one request waits on a silent database
SLACK_S = 3.0  # a busy shared CI box
FREEZE_S = 8.0
ORDER_CLIENTS = 3

pytestmark = [
    *DEPLOY_MARKS,
    pytest.mark.skipif(BINDIR is None, reason="PostgreSQL server binaries (initdb, pg_ctl) not installed"),
    pytest.mark.timeout(180),
]


@pytest.fixture(scope="module")
def cluster():
    pg = ThrowawayPostgres(BINDIR)
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture(scope="module")
def stack(cluster):
    env = {
        "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S),
        "DB_STATEMENT_TIMEOUT_MS": "2000",
        "DB_RESPONSE_TIMEOUT_MS": str(RESPONSE_TIMEOUT_S * 1000),
    }
    # Enough workers that the four clients never queue behind each other: each answer's time is
    # its own wait on the database.
    with run_stack(database_url=cluster.create_database("comanda_hang"), extra_env=env, workers=5) as running:
        yield running


@dataclass
class Answer:
    what: str  # a client_order_id, or "health"
    started: float
    elapsed: float
    reply: Reply | None
    error: str | None = None

    @property
    def status(self) -> int | None:
        return self.reply.status if self.reply else None


def timed_request(port: int, what: str, method: str, path: str, body: bytes | None, headers: dict) -> Answer:
    started = time.monotonic()
    try:
        reply = request(port, method, path, body, headers)
        return Answer(what, started, time.monotonic() - started, reply)
    except OSError as exc:  # a dropped connection or a 10 s client timeout: both count as failures
        return Answer(what, started, time.monotonic() - started, None, repr(exc))


def assert_problem_reply(answer: Answer, code: str) -> None:
    reply = answer.reply
    assert reply.header("Content-Type").startswith("application/problem+json"), (answer.what, reply.body[:200])
    body = json.loads(reply.body)
    assert body["code"] == code, (answer.what, body)
    assert reply.header("Retry-After") == "5", answer.what


def test_frozen_database_under_load_answers_fast_and_truthfully(stack: Stack, cluster: ThrowawayPostgres) -> None:
    headers = admin_headers(stack)
    product_id = create_product(stack, headers)
    order_headers = {**headers, "Content-Type": "application/json"}
    prefix = f"hang-{secrets.token_hex(3)}-"
    answers: list[Answer] = []
    health: list[Answer] = []
    stop = threading.Event()

    def order_client(n: int) -> None:
        i = 0
        while not stop.is_set():
            cid = f"{prefix}{n}-{i}"
            answers.append(timed_request(stack.nginx_port, cid, "POST", "/api/v1/orders",
                                         order_json(cid, product_id), order_headers))
            i += 1

    def health_client() -> None:
        while not stop.is_set():
            health.append(timed_request(stack.nginx_port, "health", "GET", "/health", None, {}))
            time.sleep(0.2)

    threads = [threading.Thread(target=order_client, args=(n,)) for n in range(ORDER_CLIENTS)]
    threads.append(threading.Thread(target=health_client))
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        cluster.freeze()
        frozen_at = time.monotonic()  # after every process is stopped: a request begun while the
        # processes were being listed and stopped may still have been served in full
        time.sleep(FREEZE_S)
        cluster.thaw()
        thawed_at = time.monotonic()
        time.sleep(BOUND_S + 2)  # requests caught by the freeze finish; new ones succeed again
    finally:
        cluster.thaw()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    # Every backend that was frozen with a request has ended, so every transaction is decided.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and request(stack.nginx_port, "GET", "/health").status != 200:
        time.sleep(0.2)
    time.sleep(1.0)
    stored = stored_client_order_ids(stack.database_url, prefix)

    statuses = Counter(a.status for a in answers)
    health_statuses = Counter(a.status for a in health)
    slowest = max(a.elapsed for a in answers + health)
    print(f"\nfreeze {FREEZE_S:.0f}s: orders {dict(statuses)}, health {dict(health_statuses)}, "
          f"slowest answer {slowest:.2f}s (bound {BOUND_S}s)")

    assert not [a for a in answers + health if a.error], [a for a in answers + health if a.error][:3]
    assert set(statuses) <= {201, 503, 504}, statuses
    assert set(health_statuses) <= {200, 503}, health_statuses
    # Fast: nobody waited for gunicorn's 30 s or nginx's 35 s.
    late = [(a.what, round(a.elapsed, 2), a.status) for a in answers + health if a.elapsed > BOUND_S + SLACK_S]
    assert not late, late

    # Truthful: 201 stored, 503 not stored, 504 the only unknowns.
    for answer in answers:
        if answer.status == 201:
            assert answer.what in stored, f"{answer.what} answered 201 but is not stored"
        elif answer.status == 503:
            assert answer.what not in stored, f"{answer.what} answered 503 but was stored"
            assert_problem_reply(answer, "service_unavailable")
            # The app's own answer, passed through by nginx (not nginx's guess in its place).
            assert json.loads(answer.reply.body)["detail"] == ServiceUnavailable.detail
        else:
            assert_problem_reply(answer, "outcome_unknown")
            assert json.loads(answer.reply.body)["detail"] == OutcomeUnknown.detail
    answered = {a.what for a in answers}
    assert stored <= answered, stored - answered  # nothing stored that nobody asked for

    # The freeze was felt (by writes and by /health) and the service came back by itself.
    during = [a for a in answers if frozen_at <= a.started < thawed_at]
    assert during and all(a.status in (503, 504) for a in during if a.started + a.elapsed < thawed_at)
    assert statuses[503] + statuses[504] > 0
    assert any(a.status == 503 and frozen_at <= a.started < thawed_at for a in health)
    assert any(a.status == 201 and a.started > thawed_at + BOUND_S for a in answers)
    assert health[-1].status == 200


def test_gunicorn_gone_mid_request_nginx_says_unknown_for_writes(stack: Stack) -> None:
    """Runs last: it kills this module's gunicorn. Requests that reached gunicorn's socket get no
    answer; nginx cannot know whether a write was stored: 504 outcome_unknown; a read: 503; and
    once nothing listens, a write that was never sent: 503."""
    headers = {**admin_headers(stack), "Content-Type": "application/json"}
    product_id = create_product(stack, headers, name="Agua de horchata")
    master = stack.gunicorn_pid
    os.killpg(master, signal.SIGSTOP)  # master and workers: connections wait in the listen backlog
    results: dict[str, Reply] = {}

    def call(name: str, method: str, path: str, body: bytes | None) -> None:
        results[name] = request(stack.nginx_port, method, path, body, headers)

    write = threading.Thread(target=call, args=("write", "POST", "/api/v1/orders", order_json("gone-1", product_id)))
    read = threading.Thread(target=call, args=("read", "GET", "/api/v1/orders", None))
    try:
        write.start()
        read.start()
        time.sleep(1.5)  # nginx has connected and sent both requests
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(master, signal.SIGKILL)
    write.join(timeout=15)
    read.join(timeout=15)

    assert results["write"].status == 504, results["write"].body[:300]
    assert results["write"].json()["code"] == "outcome_unknown"
    assert "client_order_id" in results["write"].json()["detail"]
    assert results["read"].status == 503, results["read"].body[:300]
    assert results["read"].json()["code"] == "service_unavailable"
    # Now nothing listens: a write that never reached the app is a plain 503.
    results["refused"] = request(stack.nginx_port, "POST", "/api/v1/orders", order_json("gone-2", product_id), headers)
    assert results["refused"].status == 503, results["refused"].body[:300]
    assert results["refused"].json()["code"] == "service_unavailable"
    for reply in results.values():
        assert reply.header("Content-Type").startswith("application/problem+json")
        assert reply.header("Retry-After") == "5"
