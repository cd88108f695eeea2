"""GET /events: one feed event per history event (same code path), paged by a per-location cursor,
filtered, scoped to the caller's locations, waiting when asked."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import FeedEvent, OrderEvent
from tests.constants import ORDERS
from tests.feed.conftest import EVENTS, read_all
from tests.helpers import assert_problem


def test_every_order_change_is_one_feed_event_with_the_history_events_data(client, factory, place, waiter,
                                                                           manager, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 2}])
    oid, mine = order["id"], factory.headers(waiter)
    assert client.post(f"{ORDERS}/{oid}/items", headers=mine,
                       json={"items": [{"product_id": menu["mole"].id, "quantity": 1}]}).status_code == 201
    assert client.post(f"{ORDERS}/{oid}/close", headers=mine, json={"payment_method": "cash"}).status_code == 200
    history = client.get(f"{ORDERS}/{oid}/events", headers=mine).json["data"]
    feed, _ = read_all(client, factory.headers(manager))
    assert [e["type"] for e in feed] == ["order.created", "order.items_added", "order.closed"]
    for event, hist in zip(feed, history, strict=True):
        assert event["type"] == f"order.{hist['type']}"
        assert event["data"] == hist["data"] and event["occurred_at"] == hist["at"]
        assert event["actor"] == hist["actor"] and event["approved_by"] is None
        assert event["subject"] == {"type": "order", "id": oid, "version": hist["data"]["version"]}
        assert event["location_id"] == order["location_id"]
    assert db.session.scalar(select(func.count()).select_from(FeedEvent)) == db.session.scalar(
        select(func.count()).select_from(OrderEvent))


def test_a_batch_gets_one_feed_event_per_order_with_consecutive_positions(client, factory, waiter, manager, menu):
    line = {"product_id": menu["taco"].id, "quantity": 1}
    orders = [{"client_order_id": f"c{n}", "customer_name": "Ana", "items": [line]} for n in range(5)]
    resp = client.post(f"{ORDERS}/batch", headers=factory.headers(waiter), json={"orders": orders})
    assert resp.status_code == 200, resp.json
    feed, _ = read_all(client, factory.headers(manager))
    assert [e["type"] for e in feed] == ["order.created"] * 5
    positions = list(db.session.scalars(select(FeedEvent.position).order_by(FeedEvent.id)))
    assert positions == [1, 2, 3, 4, 5]


def test_cursor_pages_exactly_once_and_after_now_starts_at_the_end(client, factory, place, waiter, manager, menu):
    boss = factory.headers(manager)
    for _ in range(5):
        place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    first = client.get(EVENTS, headers=boss, query_string={"limit": 2}).json
    assert len(first["data"]) == 2
    rest, cursor = read_all(client, boss, first["next_cursor"], limit=2)
    assert [e["id"] for e in first["data"] + rest] == sorted(e["id"] for e in first["data"] + rest)
    assert len({e["id"] for e in first["data"] + rest}) == 5
    empty = client.get(EVENTS, headers=boss, query_string={"after": cursor}).json
    assert empty == {"data": [], "next_cursor": cursor}
    now = client.get(EVENTS, headers=boss, query_string={"after": "now"}).json
    assert now["data"] == [] and isinstance(now["next_cursor"], str)
    place(waiter, [{"product_id": menu["agua"].id, "quantity": 1}])
    after_now = client.get(EVENTS, headers=boss, query_string={"after": now["next_cursor"]}).json["data"]
    from_cursor = client.get(EVENTS, headers=boss, query_string={"after": cursor}).json["data"]
    assert len(after_now) == 1 and after_now == from_cursor


def test_types_filter_exact_and_prefix(client, factory, place, waiter, manager, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    client.post(f"{ORDERS}/{order['id']}/close", headers=factory.headers(waiter), json={"payment_method": "cash"})
    boss = factory.headers(manager)
    closed, _ = read_all(client, boss, types="order.closed")
    assert [e["type"] for e in closed] == ["order.closed"]
    every, _ = read_all(client, boss, types="order.*,kitchen_ticket.*")
    assert [e["type"] for e in every] == ["order.created", "order.closed"]
    none = client.get(EVENTS, headers=boss, query_string={"types": "drawer_session.*"}).json
    assert none["data"] == []


def test_scope_managers_see_their_locations_admins_all_waiters_none(client, factory, place, waiter, manager,
                                                                    admin, menu, away):
    place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    place(admin, [{"product_id": menu["taco"].id, "quantity": 1}], location_id=away.id)
    mine, _ = read_all(client, factory.headers(manager))
    assert len(mine) == 1 and mine[0]["location_id"] != away.id
    everything, _ = read_all(client, factory.headers(admin))
    assert {e["location_id"] for e in everything} == {mine[0]["location_id"], away.id}
    only_away, _ = read_all(client, factory.headers(admin), location_id=away.id)
    assert [e["location_id"] for e in only_away] == [away.id]
    assert_problem(client.get(EVENTS, headers=factory.headers(manager), query_string={"location_id": away.id}),
                   404, "not_found")
    assert_problem(client.get(EVENTS, headers=factory.headers(waiter)), 403, "forbidden")
    assert_problem(client.get(EVENTS), 401, "unauthorized")


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"limit": 0}, 422, "validation_error"),
    ({"limit": 501}, 422, "validation_error"),
    ({"limit": "x"}, 422, "validation_error"),
    ({"wait": 26}, 422, "validation_error"),
    ({"wait": -1}, 422, "validation_error"),
    ({"types": "order"}, 422, "validation_error"),
    ({"types": "Order.*"}, 422, "validation_error"),
    ({"types": "order.created;drop"}, 422, "validation_error"),
    ({"location_id": 0}, 422, "validation_error"),
    ({"after": "not-a-cursor"}, 400, "invalid_cursor"),
    ({"after": "eyJ2IjoyfQ"}, 400, "invalid_cursor"),
    ({"after": "eyJ2IjoxLCJwIjp7IjEiOi0xfX0"}, 400, "invalid_cursor"),
    ({"cursor": "x"}, 422, "validation_error"),
])
def test_bad_input(client, factory, manager, params, status, code):
    assert_problem(client.get(EVENTS, headers=factory.headers(manager), query_string=params), status, code)


def test_wait_answers_as_soon_as_an_event_commits(app, client, factory, place, waiter, manager, menu):
    boss = factory.headers(manager)
    cursor = client.get(EVENTS, headers=boss, query_string={"after": "now"}).json["next_cursor"]
    got = {}

    def reader():
        with app.app_context():
            started = time.monotonic()
            resp = app.test_client().get(EVENTS, headers=boss, query_string={"after": cursor, "wait": 20})
            got["seconds"], got["body"] = time.monotonic() - started, resp.json

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.5)
    place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    thread.join(timeout=30)
    assert [e["type"] for e in got["body"]["data"]] == ["order.created"]
    assert got["seconds"] < 5  # woken by the commit, not the 20 s deadline


def test_wait_with_nothing_answers_the_same_cursor(client, factory, manager):
    boss = factory.headers(manager)
    cursor = client.get(EVENTS, headers=boss, query_string={"after": "now"}).json["next_cursor"]
    started = time.monotonic()
    resp = client.get(EVENTS, headers=boss, query_string={"after": cursor, "wait": 1})
    assert resp.json == {"data": [], "next_cursor": cursor} and 0.9 < time.monotonic() - started < 5
