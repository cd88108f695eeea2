"""30 waiters send at once at one location (PostgreSQL, real threads over real HTTP): the kitchen
tickets are numbered exactly 1..30, each number once, and every ticket is in a queue."""

from __future__ import annotations

import json
import threading
import urllib.request

from sqlalchemy import select

from app.extensions import db
from app.models import KitchenTicket
from tests.constants import API, ORDERS
from tests.helpers import LiveServer

SENDS = 30


def post(url: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",  # noqa: S310 - local
                                     headers={**headers, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310 - a local test server
        return resp.status, json.loads(resp.read())


def test_thirty_concurrent_sends_number_tickets_1_to_30(app, postgres_only, kit):
    waiters = [kit.factory.make_user("waiter") for _ in range(SENDS)]
    for waiter in waiters:
        waiter.locations = [kit.location]
    db.session.commit()
    headers = [kit.h(waiter) for waiter in waiters]
    taco = {"product_id": kit.taco.id, "quantity": 1}
    db.session.close()
    server = LiveServer(app)
    barrier = threading.Barrier(SENDS)
    answers: list[tuple[int, dict] | None] = [None] * SENDS
    failures: list[BaseException] = []

    def send(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            answers[n] = post(f"{server.url}{ORDERS}", {"customer_name": f"Mesa {n}", "items": [taco]}, headers[n])
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(n,), daemon=True) for n in range(SENDS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
    finally:
        server.stop()
    assert not failures, failures
    assert [a[0] for a in answers if a] == [201] * SENDS
    tickets = db.session.scalars(select(KitchenTicket).order_by(KitchenTicket.number)).all()
    assert [t.number for t in tickets] == list(range(1, SENDS + 1))
    assert sorted(t.order_id for t in tickets) == sorted(a[1]["id"] for a in answers if a)
    queue = kit.client.get(f"{API}/kitchen/stations/{kit.grill['id']}/tickets", headers=headers[0])
    assert [t["number"] for t in queue.json["data"]] == list(range(1, SENDS + 1))  # oldest first
