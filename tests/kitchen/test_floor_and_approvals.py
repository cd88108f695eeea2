"""The kitchen with the floor and the approvals, end to end over the API: a merge, a split and a transfer
move the open tickets of their lines; a waiter voids a sent line with a manager's PIN token."""

from __future__ import annotations

from app.extensions import db
from app.models import OrderEvent
from tests.constants import API, ORDERS
from tests.kitchen.conftest import line

PIN = "4821"


def _version(kit, order_id: int) -> str:
    return f'"{kit.client.get(f"{ORDERS}/{order_id}", headers=kit.h(kit.manager)).json["version"]}"'


def test_a_merge_over_the_api_moves_the_sources_ticket_to_the_target(kit):
    source = kit.order([line(kit.taco)])
    target = kit.order([line(kit.margarita)], table="7")
    merged = kit.client.post(f"{ORDERS}/{target['id']}/merge", json={"from_order_id": source["id"]},
                             headers=kit.h(**{"If-Match": _version(kit, target["id"])}))
    assert merged.status_code == 200, merged.json
    grill = kit.queue(kit.grill)
    assert [(t["order_id"], t["table"]) for t in grill] == [(target["id"], "7")]


def test_a_split_over_the_api_keeps_a_shared_ticket_and_moves_a_whole_one(kit):
    order = kit.order([line(kit.taco, 2, seat=1), line(kit.margarita, seat=2)])
    split = kit.client.post(f"{ORDERS}/{order['id']}/split", json={"by": "seat"},
                            headers=kit.h(**{"If-Match": _version(kit, order["id"])}))
    assert split.status_code == 201, split.json
    new_id = split.json["orders"][0]["id"]
    assert [t["order_id"] for t in kit.queue(kit.bar)] == [new_id]  # the margarita went whole: its ticket too
    assert [t["order_id"] for t in kit.queue(kit.grill)] == [order["id"]]  # the tacos stayed
    assert split.json["orders"][0]["items"][0]["kitchen_status"] == "sent"


def test_a_waiter_voids_a_sent_line_with_a_managers_pin(kit):
    assert kit.client.patch(f"{API}/users/{kit.manager.id}", json={"pin": PIN},
                            headers=kit.h(kit.factory.make_user("admin"))).status_code == 200
    order = kit.order([line(kit.taco, 2)])
    taco = order["items"][0]["id"]
    token = kit.client.post(f"{API}/auth/approvals", json={"approver_id": kit.manager.id, "pin": PIN,
                                                           "action": "void_sent_item", "order_id": order["id"]},
                            headers=kit.h())
    assert token.status_code == 201, token.json
    voided = kit.client.delete(f"{ORDERS}/{order['id']}/items/{taco}",
                               headers=kit.h(**{"X-Approval-Token": token.json["approval_token"]}))
    assert voided.status_code == 200, voided.json
    assert [t["kind"] for t in kit.queue(kit.grill)] == ["new", "void"]
    event = db.session.query(OrderEvent).filter_by(order_id=order["id"]).order_by(OrderEvent.id.desc()).first()
    assert event.type == "item_voided" and event.approved_by_id == kit.manager.id
    again = kit.client.delete(f"{ORDERS}/{order['id']}/items/{taco}",
                              headers=kit.h(**{"X-Approval-Token": token.json["approval_token"]}))
    assert again.status_code == 200  # voiding a voided line changes nothing and needs nothing
