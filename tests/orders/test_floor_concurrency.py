"""Concurrency on the floor, with real threads over real HTTP on PostgreSQL (issue 23): two splits with
one If-Match, a merge racing a payment on the merged order, and 20 transfers to one table at once."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from app.extensions import db
from app.models import Location, Order, OrderEvent, OrderItem, Table
from tests.constants import API, ORDERS
from tests.helpers import all_at_once, http_json, serving


def place(client, factory, user, lines):
    resp = client.post(ORDERS, json={"customer_name": "Ana", "items": lines}, headers=factory.headers(user))
    assert resp.status_code == 201, resp.json
    return resp.json


def versions_match_events() -> None:
    db.session.expire_all()
    for order in db.session.scalars(select(Order)):
        count = db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == order.id))
        assert order.version == count, order.id


def test_two_splits_with_one_if_match_one_wins(app, postgres_only, client, factory, waiter, menu):
    for _ in range(3):
        order = place(client, factory, waiter, [{"product_id": menu["taco"].id, "quantity": 4, "seat": 1},
                                                {"product_id": menu["mole"].id, "quantity": 2, "seat": 2}])
        taco_id, mole_id = (item["id"] for item in order["items"])
        headers = factory.headers(waiter, **{"If-Match": '"1"'})
        bodies = [{"by": "items", "items": [{"item_id": taco_id, "quantity": 1}]},
                  {"by": "items", "items": [{"item_id": mole_id, "quantity": 1}, {"item_id": taco_id, "quantity": 2}]}]
        with serving(app) as server:
            port = server.port
            url = f"{ORDERS}/{order['id']}/split"
            results = all_at_once([lambda b=b, u=url, h=headers, p=port: http_json(p, "POST", u, b, h) for b in bodies])
        assert sorted(status for status, _ in results) == [201, 412]
        winner = next(body for status, body in results if status == 201)
        db.session.expire_all()
        # nothing half-moved: the units on the source and the one new order add up to what was ordered
        lines = db.session.execute(select(OrderItem.product_id, func.sum(OrderItem.quantity))
                                   .join(Order, Order.id == OrderItem.order_id)
                                   .where((Order.id == order["id"]) | (Order.split_from_id == order["id"]))
                                   .group_by(OrderItem.product_id)).all()
        assert dict(lines) == {menu["taco"].id: 4, menu["mole"].id: 2}
        assert db.session.scalar(select(func.count()).select_from(Order)
                                 .where(Order.split_from_id == order["id"])) == 1
        assert winner["source"]["version"] == 2
    versions_match_events()


def test_a_merge_racing_a_payment_on_the_source_never_both(app, postgres_only, client, factory, waiter, menu):
    outcomes = Counter()
    for _ in range(6):
        target = place(client, factory, waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
        source = place(client, factory, waiter, [{"product_id": menu["mole"].id, "quantity": 1}])
        merge_headers = factory.headers(waiter, **{"If-Match": '"1"'})
        pay_headers = factory.headers(waiter)
        with serving(app) as server:
            port = server.port
            calls = [(f"{ORDERS}/{target['id']}/merge", {"from_order_id": source["id"]}, merge_headers),
                     (f"{ORDERS}/{source['id']}/payments", {"method": "cash", "amount": "10.00"}, pay_headers)]
            merge, pay = all_at_once([lambda c=c, p=port: http_json(p, "POST", *c) for c in calls])
        statuses = (merge[0], pay[0])
        assert statuses in ((200, 409), (409, 201)), (merge, pay)
        if statuses == (200, 409):
            assert pay[1]["code"] == "order_not_open"
        else:
            assert merge[1]["code"] == "split_not_allowed"
        outcomes[statuses] += 1
        db.session.expire_all()
        got = db.session.get(Order, source["id"])
        assert (got.status == "merged") == (statuses[0] == 200)
        assert (got.paid_total_cents == 1000) == (statuses[1] == 201)
    versions_match_events()


def test_twenty_concurrent_transfers_to_one_table(app, postgres_only, client, factory, waiter, manager, menu):
    home = db.session.scalar(select(Location).where(Location.is_default))
    table = Table(location_id=home.id, name="Grande", seats=50, active=True)
    db.session.add(table)
    db.session.commit()
    table_id = table.id
    orders = [place(client, factory, waiter, [{"product_id": menu["taco"].id, "quantity": 1}]) for _ in range(20)]
    headers = factory.headers(waiter, **{"If-Match": '"1"'})
    with serving(app) as server:
        port = server.port
        results = all_at_once([lambda o=o: http_json(port, "POST", f"{ORDERS}/{o['id']}/transfer",
                                                     {"table_id": table_id}, headers) for o in orders])
    assert [status for status, _ in results] == [200] * 20
    got = http_json_get(client, factory, manager, f"{API}/locations/{home.id}/tables")["data"][0]
    assert got["status"] == "occupied"
    assert sorted(o["id"] for o in got["open_orders"]) == sorted(o["id"] for o in orders)
    versions_match_events()


def http_json_get(client, factory, user, path):
    resp = client.get(path, headers=factory.headers(user))
    assert resp.status_code == 200
    return resp.json
