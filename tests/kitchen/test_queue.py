"""The station queue's ETag and 304 (one indexed read), and the printer's text rendering."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import KitchenTicket
from tests.constants import API, ORDERS
from tests.kitchen.conftest import line
from tests.orders.test_statement_count import statements


def queue_url(station: dict) -> str:
    return f"{API}/kitchen/stations/{station['id']}/tickets"


def test_etag_and_304(kit):
    first = kit.client.get(queue_url(kit.grill), headers=kit.h())
    assert first.status_code == 200 and first.json == {"data": []}
    tag = first.headers["ETag"]
    same = kit.client.get(queue_url(kit.grill), headers=kit.h(**{"If-None-Match": tag}))
    assert same.status_code == 304 and same.get_data() == b"" and same.headers["ETag"] == tag
    kit.order([line(kit.taco)])
    changed = kit.client.get(queue_url(kit.grill), headers=kit.h(**{"If-None-Match": tag}))
    assert changed.status_code == 200 and len(changed.json["data"]) == 1
    assert changed.headers["ETag"] != tag
    # The bar's queue did not change.
    bar = kit.client.get(queue_url(kit.bar), headers=kit.h())
    kit.order([line(kit.taco)])
    unchanged = kit.client.get(queue_url(kit.bar), headers=kit.h(**{"If-None-Match": bar.headers["ETag"]}))
    assert unchanged.status_code == 304
    ready_tag = kit.client.get(queue_url(kit.grill), headers=kit.h()).headers["ETag"]
    ticket_id = changed.json["data"][0]["id"]
    kit.client.post(f"{API}/kitchen/tickets/{ticket_id}/ready", headers=kit.h())
    assert kit.client.get(queue_url(kit.grill), headers=kit.h(**{"If-None-Match": ready_tag})).status_code == 200


def test_the_304_path_is_one_indexed_query(kit):
    headers = kit.h(**{})
    kit.order([line(kit.taco)])
    tag = kit.client.get(queue_url(kit.grill), headers=headers).headers["ETag"]
    with statements() as seen:
        resp = kit.client.get(queue_url(kit.grill), headers={**headers, "If-None-Match": tag})
    assert resp.status_code == 304
    reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    # The token's user (with the revocation check, as on every request) and the station's queue version
    # by its primary key: nothing else.
    assert len(reads) == 2, reads
    assert "FROM users" in reads[0]
    assert "FROM kitchen_stations" in reads[1] and "kitchen_stations.id =" in reads[1]
    assert "JOIN" not in reads[1].upper()


def test_another_locations_station_and_ticket_are_404(kit, factory):
    from app.models import Location

    away = Location(name="Away", timezone="UTC")
    db.session.add(away)
    db.session.commit()
    outsider = factory.make_user("manager")
    outsider.locations = [away]
    db.session.commit()
    kit.order([line(kit.taco)])
    ticket = kit.queue(kit.grill)[0]
    h = kit.h(outsider)
    for resp in (kit.client.get(queue_url(kit.grill), headers=h),
                 kit.client.get(f"{API}/kitchen/tickets/{ticket['id']}", headers=h),
                 kit.client.post(f"{API}/kitchen/tickets/{ticket['id']}/ready", headers=h),
                 kit.client.patch(f"{API}/stations/{kit.grill['id']}", json={"name": "X"}, headers=h),
                 kit.client.get(f"{API}/locations/{kit.location.id}/stations", headers=h)):
        assert resp.status_code == 404 and resp.json["code"] == "not_found"


def test_queue_rejects_unknown_query(kit):
    resp = kit.client.get(queue_url(kit.grill), query_string={"status": "done"}, headers=kit.h())
    assert resp.status_code == 422
    resp = kit.client.get(queue_url(kit.grill), query_string={"colour": "red"}, headers=kit.h())
    assert resp.status_code == 422


def test_text_rendering(kit):
    order = kit.order([line(kit.taco, 2, notes="sin cebolla, con mucha salsa verde por favor y limones extra",
                            modifiers=[{"name": "Extra guacamole", "price": "10.00"}])])
    ticket = kit.queue(kit.grill)[0]
    resp = kit.client.get(f"{API}/kitchen/tickets/{ticket['id']}", query_string={"format": "text"}, headers=kit.h())
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    text = resp.get_data(as_text=True)
    rows = text.splitlines()
    assert all(len(row) <= 42 for row in rows), rows
    assert rows[0].startswith("PARRILLA") and rows[0].endswith(f"#{ticket['number']}")
    assert "Table: 12" in rows[2] and f"Order {order['id']}" in rows[2]
    assert rows[3].startswith("Waiter: Luis")
    assert rows[5].startswith("2x Taco al pastor") and rows[5].endswith("C1")
    assert rows[6] == "    + Extra guacamole"
    assert rows[7].startswith("    ! sin cebolla")
    assert len([r for r in rows if r.startswith("    ")]) >= 3  # the long note wraps, indented
    kit.client.delete(f"{ORDERS}/{order['id']}/items/{order['items'][0]['id']}", headers=kit.h(kit.manager))
    void = kit.queue(kit.grill)[1]
    text = kit.client.get(f"{API}/kitchen/tickets/{void['id']}?format=text", headers=kit.h()).get_data(as_text=True)
    assert text.startswith("VOID PARRILLA")
    assert "-2x Taco al pastor" in text


def test_ticket_json(kit):
    kit.order([line(kit.taco)])
    ticket = kit.queue(kit.grill)[0]
    resp = kit.client.get(f"{API}/kitchen/tickets/{ticket['id']}", headers=kit.h())
    assert resp.status_code == 200
    assert set(resp.json) == {"id", "number", "station_id", "location_id", "order_id", "table", "waiter", "kind",
                              "status", "lines", "created_at", "ready_at", "late", "version"}
    assert resp.json["late"] is False
    db.session.rollback()
    row = db.session.get(KitchenTicket, ticket["id"])
    from datetime import timedelta
    row.created_at = row.created_at - timedelta(minutes=11)  # the grill alerts after 10
    db.session.commit()
    assert kit.client.get(f"{API}/kitchen/tickets/{ticket['id']}", headers=kit.h()).json["late"] is True
    assert db.session.scalar(select(KitchenTicket.version).where(KitchenTicket.id == ticket["id"])) == 1


def test_the_full_answer_does_not_grow_with_tickets(kit):
    def count() -> list[str]:
        headers = kit.h()
        with statements() as seen:
            resp = kit.client.get(queue_url(kit.grill), headers=headers)
        assert resp.status_code == 200
        return [s for s in seen if s.lstrip().upper().startswith("SELECT")]

    kit.order([line(kit.taco)])
    one = count()
    for n in range(9):
        kit.order([line(kit.taco, 2, modifiers=[{"name": "Extra"}])], user=kit.other_waiter if n % 2 else None)
    ten = count()
    assert len(ten) == len(one), ten
    assert len(ten) <= 4, ten  # user; station tag; tickets with station, order and waiter; lines
