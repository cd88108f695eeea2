"""1000 clients at once through the real nginx: no connection fails, and every 201 is a stored order.

One stack (tests/deploy/stack.py: deploy/nginx.conf, deploy/gunicorn.conf.py, production mode) on
PostgreSQL. The test opens 1000 TCP connections to nginx and keeps them all open, then sends one
`POST /api/v1/orders` on each at the same moment, every order with its own `client_order_id`, and
reads every answer. Afterwards the rows are matched to the answers: orders == 201s, id for id.

The shipped nginx.conf once had `worker_connections 1024`: one worker holding ~500 clients plus
their ~500 upstream connections ran out, and nginx dropped requests ("worker_connections are not
enough"). This file is what proves the sizing.
"""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import time
from collections import Counter

import pytest

from tests.deploy.stack import (
    DEPLOY_MARKS,
    Stack,
    admin_headers,
    create_product,
    order_json,
    run_stack,
    stored_client_order_ids,
)

CLIENTS = 1000
ANSWER_TIMEOUT_S = 60.0

pytestmark = [
    *DEPLOY_MARKS,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"),
    pytest.mark.timeout(180),
]


def raise_open_file_limit(needed: int) -> None:
    """This process holds CLIENTS sockets: lift the soft limit to the hard one if needed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, max(needed, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft >= needed, f"open-file limit {soft} < {needed}: run `ulimit -n 65536` first (.ci/run does)"


@pytest.fixture(scope="module")
def stack():
    raise_open_file_limit(CLIENTS + 1024)
    # Quiet logs: the request log of 1000 orders is not what this test reads.
    with run_stack(workers=4, extra_env={"LOG_LEVEL": "WARNING", "GUNICORN_LOG_LEVEL": "warning"}) as running:
        yield running


async def one_client(port: int, payload: bytes, headers: dict[str, str], gate: asyncio.Event,
                     connected: list[int]) -> tuple[str, int | None, float]:
    """Connect, wait for every other client to be connected too, send one order, read the answer."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
    except (OSError, TimeoutError) as exc:
        connected.append(0)
        return f"connect: {exc!r}", None, 0.0
    connected.append(1)
    try:
        await gate.wait()
        started = time.monotonic()
        head = [
            "POST /api/v1/orders HTTP/1.1",
            "Host: localhost",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
            "Connection: close",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), ANSWER_TIMEOUT_S)  # until nginx closes
        elapsed = time.monotonic() - started
        if not raw.startswith(b"HTTP/1."):
            return f"no answer ({raw[:80]!r})", None, elapsed
        return "ok", int(raw.split(b" ", 2)[1]), elapsed
    except (OSError, TimeoutError) as exc:
        return f"exchange: {exc!r}", None, 0.0
    finally:
        writer.close()


async def burst(port: int, headers: dict[str, str], product_id: int, prefix: str):
    gate = asyncio.Event()
    connected: list[int] = []
    tasks = [
        asyncio.create_task(one_client(port, order_json(f"{prefix}{i}", product_id), headers, gate, connected))
        for i in range(CLIENTS)
    ]
    while len(connected) < CLIENTS:  # every connection open (or failed) before anyone sends
        await asyncio.sleep(0.05)
    open_together = sum(connected)
    started = time.monotonic()
    gate.set()
    results = await asyncio.gather(*tasks)
    return open_together, results, time.monotonic() - started


def test_thousand_concurrent_clients_through_nginx(stack: Stack) -> None:
    headers = admin_headers(stack)
    product_id = create_product(stack, headers)
    prefix = f"load-{secrets.token_hex(3)}-"

    open_together, results, wall = asyncio.run(burst(stack.nginx_port, headers, product_id, prefix))

    failures = Counter(outcome for outcome, _, _ in results if outcome != "ok")
    statuses = Counter(status for _, status, _ in results if status is not None)
    latencies = sorted(elapsed for outcome, _, elapsed in results if outcome == "ok")
    print(
        f"\n{CLIENTS} clients: {open_together} connections open together, statuses {dict(statuses)}, "
        f"wall {wall:.1f}s ({CLIENTS / wall:.0f} orders/s), latency p50 {latencies[len(latencies) // 2]:.2f}s "
        f"max {latencies[-1]:.2f}s"
    )
    assert open_together == CLIENTS
    assert not failures, failures
    assert statuses == {201: CLIENTS}, statuses

    answered_201 = {f"{prefix}{i}" for i, (_, status, _) in enumerate(results) if status == 201}
    assert stored_client_order_ids(stack.database_url, prefix) == answered_201

    nginx_errors = stack.nginx_log.read_text(errors="replace")
    assert "worker_connections are not enough" not in nginx_errors
    assert "Too many open files" not in nginx_errors
