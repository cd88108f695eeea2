"""Ticket changes reach the change feed through app/outbox.py publish(), never the order's history."""

from __future__ import annotations

import pytest

from app.kitchen import tickets
from app.orders import kitchen
from tests.constants import API, ORDERS
from tests.kitchen.conftest import line


@pytest.fixture
def published(monkeypatch):
    seen: list[dict] = []

    def record(**kwargs):
        seen.append(kwargs)

    monkeypatch.setattr(kitchen, "publish", record)
    monkeypatch.setattr(tickets, "publish", record)
    return seen


def test_created_ready_recalled(kit, published):
    order = kit.order([line(kit.taco), line(kit.margarita)])
    assert [(e["type"], e["subject"][0], e["subject"][2]) for e in published] == [
        ("kitchen_ticket.created", "kitchen_ticket", 1), ("kitchen_ticket.created", "kitchen_ticket", 1)]
    created = published[0]
    assert created["location_id"] == kit.location.id and created["actor"].id == kit.waiter.id
    assert created["data"]["order_id"] == order["id"] and created["data"]["kind"] == "new"
    assert created["data"]["lines"] == [{"item_id": order["items"][0]["id"], "quantity": 1}]
    ticket = kit.queue(kit.grill)[0]
    kit.client.post(f"{API}/kitchen/tickets/{ticket['id']}/ready", headers=kit.h())
    kit.client.post(f"{API}/kitchen/tickets/{ticket['id']}/recall", headers=kit.h())
    assert [(e["type"], e["subject"]) for e in published[2:]] == [
        ("kitchen_ticket.ready", ("kitchen_ticket", ticket["id"], 2)),
        ("kitchen_ticket.recalled", ("kitchen_ticket", ticket["id"], 3))]
    # None of it is order history: the order is still at version 1 with one event.
    got = kit.client.get(f"{ORDERS}/{order['id']}", headers=kit.h()).json
    events = kit.client.get(f"{ORDERS}/{order['id']}/events", headers=kit.h()).json["data"]
    assert got["version"] == 1 and [e["type"] for e in events] == ["created"]


def test_a_void_ticket_is_published(kit, published):
    order = kit.order([line(kit.taco)])
    kit.client.delete(f"{ORDERS}/{order['id']}/items/{order['items'][0]['id']}", headers=kit.h(kit.manager))
    assert [e["data"]["kind"] for e in published] == ["new", "void"]
    assert published[1]["actor"].id == kit.manager.id
