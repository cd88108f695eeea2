"""The feed's promise under concurrency (PostgreSQL, real threads): every committed event exactly once,
in commit order per location, even when transactions commit in another order than they started."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from app.extensions import db
from app.models import FeedEvent, OrderEvent
from app.orders.services import create_order
from tests.constants import ORDERS
from tests.feed.conftest import EVENTS, read_all
from tests.helpers import http_json, serving


def test_transactions_committing_out_of_start_order_are_both_returned_once(app, client, factory, waiter, manager,
                                                                           menu, postgres_only):
    boss = factory.headers(manager)
    cursor = client.get(EVENTS, headers=boss, query_string={"after": "now"}).json["next_cursor"]
    wrote, release, ids = threading.Event(), threading.Event(), {}
    body = {"customer_name": "Slow", "items": [{"product_id": menu["taco"].id, "quantity": 1}]}

    def slow():  # starts first, writes its order and history, commits last
        with app.app_context():
            order = create_order(db.session.merge(waiter), dict(body))
            db.session.flush()
            ids["slow"] = order.id
            wrote.set()
            release.wait(30)
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=slow)
    thread.start()
    assert wrote.wait(30)
    fast = client.post(ORDERS, headers=factory.headers(waiter), json={**body, "customer_name": "Fast"}).json
    first, cursor = read_all(client, boss, cursor)
    assert [e["subject"]["id"] for e in first] == [fast["id"]]  # the slow one is not committed yet
    release.set()
    thread.join(30)
    second, _ = read_all(client, boss, cursor)
    assert [e["subject"]["id"] for e in second] == [ids["slow"]]
    # The history ids are in start order (an id cursor at the fast one's would have skipped the slow one);
    # the feed's positions are in commit order.
    history = dict(db.session.execute(select(OrderEvent.order_id, OrderEvent.id)).all())
    assert history[ids["slow"]] < history[fast["id"]]
    assert second[0]["id"] > first[0]["id"]


def test_twenty_concurrent_writers_and_a_tailing_reader_see_every_event_once(app, factory, waiter, manager, menu,
                                                                           postgres_only):
    writers, per_writer = 20, 5
    users = [factory.make_user("waiter") for _ in range(writers)]
    tokens = [factory.headers(u) for u in users]
    boss = factory.headers(manager)
    taco, agua = menu["taco"].id, menu["agua"].id
    seen: list[dict] = []
    done = threading.Event()

    with serving(app) as server:
        port = server.port
        status, start = http_json(port, "GET", f"{EVENTS}?after=now", headers=boss)
        assert status == 200

        def tail():
            cursor = start["next_cursor"]
            while True:
                status, page = http_json(port, "GET", f"{EVENTS}?after={cursor}&wait=1&limit=37", headers=boss)
                assert status == 200, page
                seen.extend(page["data"])
                cursor = page["next_cursor"]
                if done.is_set() and not page["data"]:
                    return

        def write(headers):
            for n in range(per_writer):
                status, order = http_json(port, "POST", ORDERS, {"customer_name": f"W{n}", "items": [
                    {"product_id": taco, "quantity": 1}]}, headers)
                assert status == 201, order
                status, _ = http_json(port, "POST", f"{ORDERS}/{order['id']}/items", {"items": [
                    {"product_id": agua, "quantity": 1}]}, headers)
                assert status == 201

        reader = threading.Thread(target=tail)
        reader.start()
        with ThreadPoolExecutor(max_workers=writers) as pool:
            list(pool.map(write, tokens))
        time.sleep(0.2)
        done.set()
        reader.join(60)
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)) == writers * per_writer * 2
    assert len(ids) == db.session.scalar(select(func.count()).select_from(OrderEvent))
    positions = list(db.session.scalars(select(FeedEvent.position).where(FeedEvent.id.in_(ids))
                                        .order_by(FeedEvent.id)))
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert positions[-1] - positions[0] == len(positions) - 1  # gapless
