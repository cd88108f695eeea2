"""Sending, courses, fire, ready, recall, served, void tickets: API.md v1.2 "The kitchen"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import KitchenTicket, OrderEvent
from tests.constants import API, ORDERS
from tests.kitchen.conftest import line


def events(order_id: int) -> list[OrderEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)))


def test_a_send_makes_one_ticket_per_station(kit):
    order = kit.order([line(kit.taco, 3, notes="sin cebolla"), line(kit.margarita, 2), line(kit.water)])
    assert [i["kitchen_status"] for i in order["items"]] == ["sent", "sent", "sent"]
    assert [i["course"] for i in order["items"]] == [1, 1, 1]
    grill, bar = kit.queue(kit.grill), kit.queue(kit.bar)
    assert len(grill) == 1 and len(bar) == 1
    ticket = grill[0]
    assert ticket["kind"] == "new" and ticket["status"] == "open" and ticket["table"] == "12"
    assert ticket["waiter"] == {"id": kit.waiter.id, "name": "Luis"}
    assert ticket["lines"] == [{"item_id": order["items"][0]["id"], "product_name": "Taco al pastor", "quantity": 3,
                                "modifiers": [], "notes": "sin cebolla", "seat": None, "course": 1}]
    assert sorted([grill[0]["number"], bar[0]["number"]]) == [1, 2]
    assert order["version"] == 1  # tickets never bump the order


def test_category_then_product_then_default(kit):
    kitchen = kit.station({"name": "Cocina", "default": True})
    assert kitchen.status_code == 201
    kit.order([line(kit.soup), line(kit.water)])  # soup: no route -> default; water: Bebidas, not routed -> default
    assert [t["lines"][0]["product_name"] for t in kit.queue(kitchen.json)] == ["Sopa de tortilla"]
    assert len(kit.queue(kitchen.json)[0]["lines"]) == 2


def test_unrouted_lines_are_sent_without_ticket(kit):
    order = kit.order([line(kit.soup)])
    assert order["items"][0]["kitchen_status"] == "sent"
    assert kit.queue(kit.grill) == [] and kit.queue(kit.bar) == []


def test_courses_hold_and_fire(kit):
    order = kit.order([line(kit.taco), line(kit.taco, 2, course=2)])
    assert [i["kitchen_status"] for i in order["items"]] == ["sent", "held"]
    assert len(kit.queue(kit.grill)) == 1
    nothing = kit.client.post(f"{ORDERS}/{order['id']}/fire", json={"course": 3}, headers=kit.h())
    assert nothing.status_code == 200 and nothing.json["version"] == 1
    fired = kit.client.post(f"{ORDERS}/{order['id']}/fire", json={"course": 2}, headers=kit.h())
    assert fired.status_code == 200, fired.json
    assert fired.json["version"] == 2
    assert [i["kitchen_status"] for i in fired.json["items"]] == ["sent", "sent"]
    tickets = kit.queue(kit.grill)
    assert [t["number"] for t in tickets] == [1, 2]
    assert tickets[1]["lines"][0]["course"] == 2
    last = events(order["id"])[-1]
    assert last.type == "fired"
    assert last.data["item_ids"] == [order["items"][1]["id"]] and last.data["ticket_ids"] == [tickets[1]["id"]]


def test_hold_holds_every_line_and_append_sends(kit):
    order = kit.order([line(kit.taco)], hold=True)
    assert order["items"][0]["kitchen_status"] == "held"
    assert kit.queue(kit.grill) == []
    appended = kit.client.post(f"{ORDERS}/{order['id']}/items", json={"items": [line(kit.margarita)]},
                               headers=kit.h())
    assert appended.status_code == 201
    assert [i["kitchen_status"] for i in appended.json["items"]] == ["held", "sent"]
    assert len(kit.queue(kit.bar)) == 1
    held = kit.client.post(f"{ORDERS}/{order['id']}/items", json={"items": [line(kit.margarita)], "hold": True},
                           headers=kit.h())
    assert held.json["items"][-1]["kitchen_status"] == "held"
    fired = kit.client.post(f"{ORDERS}/{order['id']}/fire", json={}, headers=kit.h())
    assert [i["kitchen_status"] for i in fired.json["items"]] == ["sent", "sent", "sent"]


def test_ready_recall_served(kit):
    order = kit.order([line(kit.taco)])
    ticket = kit.queue(kit.grill)[0]
    ready = kit.client.post(f"{API}/kitchen/tickets/{ticket['id']}/ready", headers=kit.h())
    assert ready.status_code == 200, ready.json
    assert ready.json["status"] == "ready" and ready.json["ready_at"] and ready.json["version"] == 2
    assert kit.queue(kit.grill) == [] and len(kit.queue(kit.grill, status="ready")) == 1
    again = kit.client.post(f"{API}/kitchen/tickets/{ticket['id']}/ready", headers=kit.h())
    assert again.status_code == 409 and again.json["code"] == "ticket_not_open"
    got = kit.client.get(f"{ORDERS}/{order['id']}", headers=kit.h()).json
    assert got["items"][0]["kitchen_status"] == "ready" and got["version"] == 1
    recalled = kit.client.post(f"{API}/kitchen/tickets/{ticket['id']}/recall", headers=kit.h())
    assert recalled.status_code == 200 and recalled.json["status"] == "open" and recalled.json["version"] == 3
    assert kit.client.get(f"{ORDERS}/{order['id']}", headers=kit.h()).json["items"][0]["kitchen_status"] == "sent"
    not_ready = kit.client.post(f"{API}/kitchen/tickets/{ticket['id']}/recall", headers=kit.h())
    assert not_ready.status_code == 409 and not_ready.json["code"] == "ticket_not_ready"
    served = kit.client.post(f"{ORDERS}/{order['id']}/served", json={}, headers=kit.h())
    assert served.status_code == 200 and served.json["version"] == 2
    assert served.json["items"][0]["kitchen_status"] == "served"
    assert events(order["id"])[-1].type == "served"
    nothing = kit.client.post(f"{ORDERS}/{order['id']}/served", json={}, headers=kit.h())
    assert nothing.status_code == 200 and nothing.json["version"] == 2


def test_recall_expires_after_ten_minutes(kit):
    kit.order([line(kit.taco)])
    ticket = kit.queue(kit.grill)[0]
    ready = kit.client.post(f"{API}/kitchen/tickets/{ticket['id']}/ready", headers=kit.h()).json
    from datetime import datetime
    at = datetime.fromisoformat(ready["ready_at"].replace("Z", "+00:00")) - timedelta(minutes=10, seconds=1)
    db.session.execute(update(KitchenTicket).where(KitchenTicket.id == ticket["id"]).values(ready_at=at))
    db.session.commit()
    late = kit.client.post(f"{API}/kitchen/tickets/{ticket['id']}/recall", headers=kit.h())
    assert late.status_code == 409 and late.json["code"] == "recall_expired"
    assert kit.queue(kit.grill, status="ready") == []


def test_served_rejects_unknown_and_held_lines(kit):
    order = kit.order([line(kit.taco), line(kit.taco, course=2)])
    resp = kit.client.post(f"{ORDERS}/{order['id']}/served", json={"item_ids": [order["items"][1]["id"], 999999]},
                           headers=kit.h())
    assert resp.status_code == 422
    assert set(resp.json["errors"]) == {"item_ids.0", "item_ids.1"}


def test_void_of_a_sent_line_needs_approval_and_makes_a_void_ticket(kit):
    order = kit.order([line(kit.taco, 2), line(kit.soup)])
    taco, soup = order["items"][0]["id"], order["items"][1]["id"]
    refused = kit.client.delete(f"{ORDERS}/{order['id']}/items/{taco}", headers=kit.h())
    assert refused.status_code == 403 and refused.json["code"] == "approval_required"
    unrouted = kit.client.delete(f"{ORDERS}/{order['id']}/items/{soup}", headers=kit.h())
    assert unrouted.status_code == 200  # on no ticket: as in v1
    assert unrouted.json["items"][1]["kitchen_status"] == "voided"
    by_manager = kit.client.delete(f"{ORDERS}/{order['id']}/items/{taco}", headers=kit.h(kit.manager))
    assert by_manager.status_code == 200
    assert by_manager.json["items"][0]["kitchen_status"] == "voided"
    queue = kit.queue(kit.grill)
    assert [t["kind"] for t in queue] == ["new", "void"]
    assert queue[1]["lines"][0]["quantity"] == 2 and queue[1]["number"] == 2
    event = events(order["id"])[-1]
    assert event.type == "item_voided" and event.approved_by_id is None


def test_void_after_served_makes_no_void_ticket(kit):
    order = kit.order([line(kit.taco)])
    kit.client.post(f"{ORDERS}/{order['id']}/served", json={}, headers=kit.h())
    resp = kit.client.delete(f"{ORDERS}/{order['id']}/items/{order['items'][0]['id']}", headers=kit.h(kit.manager))
    assert resp.status_code == 200
    assert [t["kind"] for t in kit.queue(kit.grill)] == ["new"]


def test_cancel_voids_each_station_once(kit):
    order = kit.order([line(kit.taco), line(kit.taco, 2), line(kit.margarita), line(kit.taco, course=2)])
    refused = kit.client.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "se fueron"}, headers=kit.h())
    assert refused.status_code == 403 and refused.json["code"] == "approval_required"
    resp = kit.client.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "se fueron"}, headers=kit.h(kit.manager))
    assert resp.status_code == 200
    assert {i["kitchen_status"] for i in resp.json["items"]} == {"voided"}
    grill = kit.queue(kit.grill)
    assert [t["kind"] for t in grill] == ["new", "void"]
    assert [(x["quantity"]) for x in grill[1]["lines"]] == [1, 2]
    assert [t["kind"] for t in kit.queue(kit.bar)] == ["new", "void"]


def test_waiter_cancels_an_order_with_nothing_sent(kit):
    order = kit.order([line(kit.taco)], hold=True)
    resp = kit.client.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "x"}, headers=kit.h())
    assert resp.status_code == 200
    assert kit.queue(kit.grill) == []


def test_batch_sync_sends_and_holds(kit):
    body = {"orders": [
        {"client_order_id": "k-1", "customer_name": "A", "items": [line(kit.taco), line(kit.margarita)]},
        {"client_order_id": "k-2", "customer_name": "B", "items": [line(kit.taco)], "hold": True},
    ]}
    resp = kit.client.post(f"{ORDERS}/batch", json=body, headers=kit.h())
    assert [r["status"] for r in resp.json["results"]] == ["created", "created"]
    assert len(kit.queue(kit.grill)) == 1 and len(kit.queue(kit.bar)) == 1
    held = kit.client.get(f"{ORDERS}/{resp.json['results'][1]['id']}", headers=kit.h()).json
    assert held["items"][0]["kitchen_status"] == "held"


def test_fire_and_served_bad_input(kit):
    order = kit.order([line(kit.taco, course=2)])
    url = f"{ORDERS}/{order['id']}"
    for path, body, field in ((f"{url}/fire", {"course": 0}, "course"), (f"{url}/fire", {"course": "2"}, "course"),
                              (f"{url}/fire", {"course": 2, "station": 1}, "station"),
                              (f"{url}/served", {"item_ids": []}, "item_ids"),
                              (f"{url}/served", {"item_ids": ["1"]}, "item_ids.0")):
        resp = kit.client.post(path, json=body, headers=kit.h())
        assert resp.status_code == 422 and field in resp.json["errors"], (path, body, resp.json)
    assert kit.client.post(f"{ORDERS}/{order['id']}/items", json={"items": [line(kit.taco, course=10)]},
                           headers=kit.h()).status_code == 422
    assert kit.client.post(f"{ORDERS}/{order['id']}/items", json={"items": [line(kit.taco)], "hold": 1},
                           headers=kit.h()).status_code == 422
    # Someone else's order is 404 to a waiter, as everywhere.
    other = kit.client.post(f"{url}/fire", json={}, headers=kit.h(kit.other_waiter))
    assert other.status_code == 404


def test_fire_on_a_closed_order_is_409(kit):
    order = kit.order([line(kit.taco, course=2)])
    kit.client.post(f"{ORDERS}/{order['id']}/close", json={"payment_method": "cash"}, headers=kit.h())
    resp = kit.client.post(f"{ORDERS}/{order['id']}/fire", json={}, headers=kit.h())
    assert resp.status_code == 409 and resp.json["code"] == "order_not_open"
