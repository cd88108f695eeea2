"""Split, merge and transfer move lines between orders: their open tickets follow (lines_moved)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import KitchenTicket, Order, OrderItem, Station
from app.orders import kitchen
from app.orders.kitchen import Move
from tests.kitchen.conftest import line


def load(order_id: int) -> Order:
    return db.session.get(Order, order_id)


def test_a_merge_moves_whole_tickets_to_the_target(kit):
    source = kit.order([line(kit.taco)])
    target = kit.order([line(kit.margarita)], table="7")
    db.session.rollback()
    src, dst = load(source["id"]), load(target["id"])
    before = db.session.scalar(select(Station.queue_version).where(Station.id == kit.grill["id"]))
    item = src.items[0]
    item.order_id = dst.id  # what the floor's merge does
    changed = kitchen.lines_moved([Move(item, src, dst)])
    db.session.commit()
    assert len(changed) == 1
    ticket = kit.queue(kit.grill)[0]
    assert ticket["order_id"] == target["id"] and ticket["table"] == "7"
    assert db.session.get(KitchenTicket, ticket["id"]).version == 2
    assert db.session.scalar(select(Station.queue_version).where(Station.id == kit.grill["id"])) == before + 1


def test_a_split_of_part_of_a_ticket_keeps_it_and_the_new_part_is_on_it_too(kit):
    source = kit.order([line(kit.taco, 3), line(kit.taco, 1)])
    db.session.rollback()
    src = load(source["id"])
    new_order = Order(**{c.name: getattr(src, c.name) for c in Order.__table__.columns if c.name not in ("id",
                                                                                                  "client_order_id")})
    db.session.add(new_order)
    db.session.flush()
    part = OrderItem(order_id=new_order.id, product_id=kit.taco.id, product_name="Taco al pastor",
                     unit_price_cents=2500, quantity=1, modifiers=[], course=1, kitchen_status="held")
    db.session.add(part)
    db.session.flush()
    src.items[0].quantity = 2
    changed = kitchen.lines_moved([Move(part, src, new_order, source_item_id=src.items[0].id)])
    db.session.commit()
    assert changed == []  # the ticket's lines stay on the source
    assert (part.kitchen_status, part.station_id) == ("sent", kit.grill["id"])
    assert kit.queue(kit.grill)[0]["order_id"] == source["id"]


def test_a_transfer_bumps_the_open_tickets(kit):
    order = kit.order([line(kit.taco)])
    tag = kit.client.get(f"/api/v1/kitchen/stations/{kit.grill['id']}/tickets", headers=kit.h()).headers["ETag"]
    db.session.rollback()
    o = load(order["id"])
    o.table_label = "Terraza 3"
    kitchen.order_transferred(o)
    db.session.commit()
    resp = kit.client.get(f"/api/v1/kitchen/stations/{kit.grill['id']}/tickets",
                          headers=kit.h(**{"If-None-Match": tag}))
    assert resp.status_code == 200 and resp.json["data"][0]["table"] == "Terraza 3"
    assert resp.json["data"][0]["version"] == 2
