"""Tables (API.md v1.2 "Tables"): create, list, change, derived status, and orders at tables with
guests and seats (create, append, batch sync)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Location, Order, Table
from tests.constants import API, BATCH, ORDERS
from tests.helpers import assert_problem

LOCATIONS = f"{API}/locations"
TABLES = f"{API}/tables"


@pytest.fixture
def home(app) -> Location:
    return db.session.scalar(select(Location).where(Location.is_default))


@pytest.fixture
def away(app) -> Location:
    location = Location(name="Away", timezone="UTC", day_starts_at="00:00")
    db.session.add(location)
    db.session.commit()
    return location


def make_table(client, factory, manager, location, **body):
    resp = client.post(f"{LOCATIONS}/{location.id}/tables", json={"name": "T1", **body},
                       headers=factory.headers(manager))
    assert resp.status_code == 201, resp.json
    return resp.json


def test_create_answers_a_free_table_with_defaults(client, factory, manager, home):
    table = make_table(client, factory, manager, home, name="  Terraza 1 ")
    assert table == {"id": table["id"], "location_id": home.id, "name": "Terraza 1", "seats": 4, "area": None,
                     "active": True, "status": "free", "open_orders": []}


def test_names_are_unique_per_location_after_trimming_any_case(client, factory, manager, home, away):
    make_table(client, factory, manager, home, name="Barra")
    resp = client.post(f"{LOCATIONS}/{home.id}/tables", json={"name": " BARRA "}, headers=factory.headers(manager))
    assert_problem(resp, 409, "duplicate_table")
    admin = factory.make_user("admin")
    assert make_table(client, factory, admin, away, name="barra")["name"] == "barra"  # another location
    other = make_table(client, factory, manager, home, name="Patio")
    resp = client.patch(f"{TABLES}/{other['id']}", json={"name": "barra"}, headers=factory.headers(manager))
    assert_problem(resp, 409, "duplicate_table")
    assert db.session.scalar(select(func.count()).select_from(Table)) == 3


@pytest.mark.parametrize("body,field", [
    ({"name": ""}, "name"), ({"name": "   "}, "name"), ({"name": "x" * 21}, "name"), ({"name": 5}, "name"),
    ({"name": "T\x009"}, "name"), ({"name": "T", "seats": 0}, "seats"), ({"name": "T", "seats": 51}, "seats"),
    ({"name": "T", "seats": "4"}, "seats"), ({"name": "T", "seats": 4.5}, "seats"),
    ({"name": "T", "seats": 10**30}, "seats"), ({"name": "T", "area": "a" * 41}, "area"),
    ({"name": "T", "status": "occupied"}, "status"), ({"name": "T", "open_orders": []}, "open_orders"),
    ({"name": "T", "id": 3}, "id"),
])
def test_bad_table_bodies(client, factory, manager, home, body, field):
    resp = client.post(f"{LOCATIONS}/{home.id}/tables", json=body, headers=factory.headers(manager))
    assert field in assert_problem(resp, 422, "validation_error")["errors"]
    assert db.session.scalar(select(func.count()).select_from(Table)) == 0


@pytest.mark.parametrize("body,field", [({}, "_schema"), ({"active": "no"}, "active"), ({"seats": 99}, "seats"),
                                        ({"location_id": 2}, "location_id")])
def test_bad_table_patches(client, factory, manager, home, body, field):
    table = make_table(client, factory, manager, home)
    resp = client.patch(f"{TABLES}/{table['id']}", json=body, headers=factory.headers(manager))
    assert field in assert_problem(resp, 422, "validation_error")["errors"]


def test_list_by_area_null_first_then_name(client, factory, manager, waiter, home):
    for name, area in (("B2", "Terraza"), ("A1", None), ("b1", "terraza"), ("Z", "Barra"), ("C", None)):
        make_table(client, factory, manager, home, name=name, area=area)
    got = client.get(f"{LOCATIONS}/{home.id}/tables", headers=factory.headers(waiter)).json["data"]
    assert [(t["area"], t["name"]) for t in got] == [(None, "A1"), (None, "C"), ("Barra", "Z"),
                                                     ("terraza", "b1"), ("Terraza", "B2")]


def test_foreign_locations_and_tables_are_404(client, factory, manager, waiter, home, away):
    admin = factory.make_user("admin")
    table = make_table(client, factory, admin, away)
    assert_problem(client.get(f"{LOCATIONS}/{away.id}/tables", headers=factory.headers(manager)), 404, "not_found")
    assert_problem(client.patch(f"{TABLES}/{table['id']}", json={"seats": 2}, headers=factory.headers(manager)),
                   404, "not_found")
    assert_problem(client.patch(f"{TABLES}/999999", json={"seats": 2}, headers=factory.headers(admin)), 404,
                   "not_found")
    assert_problem(client.post(f"{LOCATIONS}/{home.id}/tables", json={"name": "W"}, headers=factory.headers(waiter)),
                   403, "forbidden")


def place(client, factory, user, menu, **fields):
    body = {"customer_name": "Ana", "items": [{"product_id": menu["taco"].id, "quantity": 2, "seat": 1}], **fields}
    resp = client.post(ORDERS, json=body, headers=factory.headers(user))
    assert resp.status_code == 201, resp.json
    return resp.json


def test_status_is_derived_from_open_orders(client, factory, manager, waiter, menu, home):
    table = make_table(client, factory, manager, home, name="T7")
    first = place(client, factory, waiter, menu, table_id=table["id"], guest_count=3, table="ignored")
    assert (first["table_id"], first["table"], first["guest_count"]) == (table["id"], "T7", 3)
    assert first["items"][0]["seat"] == 1
    second = place(client, factory, manager, menu, table_id=table["id"])
    got = client.get(f"{LOCATIONS}/{home.id}/tables", headers=factory.headers(waiter)).json["data"][0]
    assert got["status"] == "occupied"
    assert got["open_orders"] == [
        {"id": first["id"], "waiter": {"id": waiter.id, "name": "Luis"}, "guest_count": 3, "total": "50.00",
         "created_at": first["created_at"]},
        {"id": second["id"], "waiter": {"id": manager.id, "name": "Marta"}, "guest_count": None, "total": "50.00",
         "created_at": second["created_at"]},
    ]
    client.post(f"{ORDERS}/{first['id']}/close", json={"payment_method": "cash"}, headers=factory.headers(waiter))
    client.post(f"{ORDERS}/{second['id']}/cancel", json={"reason": "gone"}, headers=factory.headers(manager))
    got = client.get(f"{LOCATIONS}/{home.id}/tables", headers=factory.headers(waiter)).json["data"][0]
    assert got["status"] == "free" and got["open_orders"] == []


def test_renaming_a_table_renames_what_its_orders_answer(client, factory, manager, waiter, menu, home):
    table = make_table(client, factory, manager, home, name="T7")
    order = place(client, factory, waiter, menu, table_id=table["id"])
    client.patch(f"{TABLES}/{table['id']}", json={"name": "Ventana"}, headers=factory.headers(manager))
    assert client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter)).json["table"] == "Ventana"


def test_order_table_rules(client, factory, manager, waiter, menu, home, away):
    admin = factory.make_user("admin")
    foreign = make_table(client, factory, admin, away, name="F")
    closed = make_table(client, factory, manager, home, name="Closed")
    client.patch(f"{TABLES}/{closed['id']}", json={"active": False}, headers=factory.headers(manager))
    for table_id in (foreign["id"], closed["id"], 999999):
        resp = client.post(ORDERS, json={"customer_name": "A", "table_id": table_id,
                                         "items": [{"product_id": menu["taco"].id, "quantity": 1}]},
                           headers=factory.headers(waiter))
        assert "table_id" in assert_problem(resp, 422, "validation_error")["errors"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


@pytest.mark.parametrize("fields,field", [
    ({"guest_count": 0}, "guest_count"), ({"guest_count": 100}, "guest_count"), ({"guest_count": "3"}, "guest_count"),
    ({"table_id": "1"}, "table_id"), ({"table_id": 2**40}, "table_id"), ({"table_id": True}, "table_id"),
])
def test_bad_order_floor_fields(client, factory, waiter, menu, fields, field):
    resp = client.post(ORDERS, json={"customer_name": "A", "items": [{"product_id": menu["taco"].id, "quantity": 1}],
                                     **fields}, headers=factory.headers(waiter))
    assert field in assert_problem(resp, 422, "validation_error")["errors"]


@pytest.mark.parametrize("seat", [-1, 100, "1", 1.5, 10**20])
def test_bad_seats(client, factory, waiter, menu, seat):
    resp = client.post(ORDERS, json={"customer_name": "A", "items": [{"product_id": menu["taco"].id, "quantity": 1,
                                                                       "seat": seat}]}, headers=factory.headers(waiter))
    assert "items.0.seat" in assert_problem(resp, 422, "validation_error")["errors"]


def test_seats_on_append_and_null_by_default(client, factory, waiter, menu):
    order = place(client, factory, waiter, menu)
    resp = client.post(f"{ORDERS}/{order['id']}/items", json={"items": [
        {"product_id": menu["agua"].id, "quantity": 1, "seat": 0}, {"product_id": menu["agua"].id, "quantity": 1}]},
        headers=factory.headers(waiter))
    assert [item["seat"] for item in resp.json["items"]] == [1, 0, None]


def test_batch_sync_takes_tables_and_seats(client, factory, manager, waiter, menu, home):
    table = make_table(client, factory, manager, home, name="T9")
    line = {"product_id": menu["taco"].id, "quantity": 1, "seat": 2}
    resp = client.post(BATCH, json={"orders": [
        {"client_order_id": "b-1", "customer_name": "A", "items": [line], "table_id": table["id"], "guest_count": 2},
        {"client_order_id": "b-2", "customer_name": "B", "items": [line], "table_id": 999999},
    ]}, headers=factory.headers(waiter))
    first, second = resp.json["results"]
    assert first["status"] == "created"
    assert second["status"] == "rejected" and "table_id" in second["error"]["errors"]
    got = client.get(f"{ORDERS}/{first['id']}", headers=factory.headers(waiter)).json
    assert (got["table_id"], got["table"], got["guest_count"], got["items"][0]["seat"]) == (table["id"], "T9", 2, 2)
