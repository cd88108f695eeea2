"""Order history: one event per change, in the change's transaction, paged oldest first, append-only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app.extensions import db
from app.models import OrderEvent
from tests.constants import ORDERS


def events(client, headers, order_id, **params):
    resp = client.get(f"{ORDERS}/{order_id}/events", headers=headers, query_string=params)
    assert resp.status_code == 200, resp.json
    return resp.json


def test_every_kind_of_change_appends_exactly_one_event(client, factory, place, waiter, manager, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 2},
                           {"product_id": menu["agua"].id, "quantity": 1}])
    mine, boss = factory.headers(waiter), factory.headers(manager)
    oid = order["id"]
    steps = [
        lambda: client.post(f"{ORDERS}/{oid}/items", headers=mine,
                            json={"items": [{"product_id": menu["mole"].id, "quantity": 1}]}),
        lambda: client.delete(f"{ORDERS}/{oid}/items/{order['items'][1]['id']}", headers=mine),
        lambda: client.patch(f"{ORDERS}/{oid}", headers={**mine, "If-Match": '"3"'}, json={"table": "7"}),
        lambda: client.post(f"{ORDERS}/{oid}/discounts", headers=boss, json={"percent": "10", "reason": "Bday"}),
        lambda: client.delete(f"{ORDERS}/{oid}/discounts/{last.json['discounts'][0]['id']}", headers=boss),
        lambda: client.post(f"{ORDERS}/{oid}/payments", headers=mine, json={"method": "card", "amount": "100"}),
        lambda: client.post(f"{ORDERS}/{oid}/close", headers=mine, json={"payment_method": "cash", "tip": "9"}),
        lambda: client.post(f"{ORDERS}/{oid}/refunds", headers=boss,
                            json={"items": [{"item_id": order["items"][0]["id"], "quantity": 1}], "reason": "x"}),
        lambda: client.post(f"{ORDERS}/{oid}/cancel", headers=boss, json={"reason": "Oops"}),
    ]
    last = None
    expected = [201, 200, 200, 201, 200, 201, 200, 201, 200]  # API.md's status for each step, in order
    assert len(expected) == len(steps)
    for step, status in zip(steps, expected, strict=True):
        last = step()
        assert last.status_code == status, last.json
    page = events(client, mine, oid)
    types = [e["type"] for e in page["data"]]
    assert types == ["created", "items_added", "item_voided", "updated", "discount_added", "discount_removed",
                     "payment_added", "closed", "refunded", "cancelled"]
    assert [e["data"]["version"] for e in page["data"]] == list(range(1, 11)) and last.json["version"] == 10
    by_type = {e["type"]: e for e in page["data"]}
    assert by_type["created"]["actor"] == {"id": waiter.id, "name": "Luis"}
    assert by_type["discount_added"]["actor"]["id"] == manager.id
    assert by_type["discount_added"]["data"]["reason"] == "Bday" and by_type["discount_added"]["data"]["percent"]
    assert by_type["item_voided"]["data"]["item_id"] == order["items"][1]["id"]
    assert by_type["closed"]["data"]["payment"]["amount"] == "90.00"
    assert by_type["closed"]["data"]["payment"]["tip"] == "9.00"
    assert by_type["refunded"]["data"]["amount"] == "25.00"
    assert by_type["cancelled"]["data"]["reason"] == "Oops" and by_type["cancelled"]["data"]["refund"]["tip"] == "9.00"
    assert page["next_cursor"] is None and all(e["at"].endswith("Z") for e in page["data"])


def test_events_page_oldest_first_and_only_for_who_may_see_the_order(client, factory, place, waiter,
                                                                       other_waiter, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    headers = factory.headers(waiter)
    for _ in range(4):
        client.post(f"{ORDERS}/{order['id']}/items", headers=headers,
                    json={"items": [{"product_id": menu["taco"].id, "quantity": 1}]})
    first = events(client, headers, order["id"], limit=2)
    second = events(client, headers, order["id"], limit=2, cursor=first["next_cursor"])
    third = events(client, headers, order["id"], limit=2, cursor=second["next_cursor"])
    versions = [e["data"]["version"] for page in (first, second, third) for e in page["data"]]
    assert versions == [1, 2, 3, 4, 5] and third["next_cursor"] is None
    resp = client.get(f"{ORDERS}/{order['id']}/events", headers=factory.headers(other_waiter))
    assert resp.status_code == 404
    bad = client.get(f"{ORDERS}/{order['id']}/events", headers=headers, query_string={"cursor": "!!"})
    assert bad.status_code == 400


def test_a_failed_change_appends_nothing(client, factory, place, waiter, manager, menu):
    order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    headers = factory.headers(manager)
    client.post(f"{ORDERS}/{order['id']}/payments", headers=headers, json={"method": "cash", "amount": "99.00"})
    client.post(f"{ORDERS}/{order['id']}/discounts", headers=headers, json={"percent": "0", "reason": "x"})
    client.post(f"{ORDERS}/{order['id']}/close", headers=headers, json={})
    client.post(f"{ORDERS}/{order['id']}/refunds", headers=headers,
                json={"items": [{"item_id": order["items"][0]["id"], "quantity": 1}], "reason": "x"})
    assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == 1


def test_batch_orders_get_their_created_event(client, factory, waiter, menu):
    body = {"orders": [{"client_order_id": f"ev-{i}", "customer_name": "A",
                        "items": [{"product_id": menu["taco"].id, "quantity": 1,
                                   "modifiers": [{"name": "Queso", "price": "3.00"}]}]} for i in range(3)]}
    results = client.post(f"{ORDERS}/batch", headers=factory.headers(waiter), json=body).json["results"]
    for result in results:
        order = client.get(f"{ORDERS}/{result['id']}", headers=factory.headers(waiter)).json
        assert order["total"] == "28.00" and order["items"][0]["modifiers"] == [{"name": "Queso", "price": "3.00"}]
        [created] = events(client, factory.headers(waiter), result["id"])["data"]
        assert created["type"] == "created" and created["data"]["item_ids"] == [order["items"][0]["id"]]
        assert created["data"]["version"] == 1


def test_postgresql_refuses_update_and_delete_of_events(app, backend, place, waiter, menu):
    if backend != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
    db.session.commit()
    for statement in ("UPDATE order_events SET type = 'closed'", "DELETE FROM order_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert db.session.scalar(select(OrderEvent.type)) == "created"
