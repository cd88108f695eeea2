"""Orders at locations: which location a body lands in, clocks per location, and who sees what."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Location, Order
from tests.constants import ORDERS
from tests.helpers import assert_problem
from tests.locations.conftest import member


@pytest.fixture
def product(factory):
    return factory.make_product("Taco", "25.00")


def body(product, **extra) -> dict:
    return {"customer_name": "Ana", "items": [{"product_id": product.id, "quantity": 2}], **extra}


def orders_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Order))


def test_v1_bodies_land_in_the_callers_only_location(client, factory, product, main, tokyo):
    waiter = member(factory, "waiter", tokyo)
    order = client.post(ORDERS, json=body(product), headers=factory.headers(waiter)).json
    assert order["location_id"] == tokyo.id
    admin_order = client.post(ORDERS, json=body(product), headers=factory.role_headers("admin")).json
    assert admin_order["location_id"] == main.id  # admins: the default location
    stored = db.session.get(Order, order["id"])
    assert (stored.tax_rate_thousandths, stored.prices_include_tax) == (10000, False)  # Tokyo's, as of now


def test_a_caller_of_several_locations_must_name_one(client, factory, product, main, tokyo):
    waiter = member(factory, "waiter", main, tokyo)
    before = orders_count()
    resp = client.post(ORDERS, json=body(product), headers=factory.headers(waiter))
    assert "location_id" in assert_problem(resp, 422, "validation_error")["errors"]
    assert orders_count() == before
    assert client.post(ORDERS, json=body(product, location_id=tokyo.id),
                       headers=factory.headers(waiter)).json["location_id"] == tokyo.id


def test_one_active_location_is_enough(client, factory, product, main, tokyo):
    tokyo.active = False
    db.session.commit()
    waiter = member(factory, "waiter", main, tokyo)
    assert client.post(ORDERS, json=body(product), headers=factory.headers(waiter)).json["location_id"] == main.id


@pytest.mark.parametrize("case", ["foreign", "inactive", "unknown", "string", "zero"])
def test_a_location_the_caller_may_not_use_is_422_on_location_id(client, factory, product, main, tokyo, case):
    waiter = member(factory, "waiter", main)
    location_id = {"foreign": tokyo.id, "inactive": main.id, "unknown": 999999, "string": str(main.id),
                   "zero": 0}[case]
    if case == "inactive":
        main.active = False
        db.session.commit()
    before = orders_count()
    resp = client.post(ORDERS, json=body(product, location_id=location_id), headers=factory.headers(waiter))
    assert list(assert_problem(resp, 422, "validation_error")["errors"]) == ["location_id"]
    assert orders_count() == before


def test_admins_cannot_order_at_an_inactive_location_either(client, factory, product, tokyo):
    tokyo.active = False
    db.session.commit()
    resp = client.post(ORDERS, json=body(product, location_id=tokyo.id), headers=factory.role_headers("admin"))
    assert "location_id" in assert_problem(resp, 422, "validation_error")["errors"]


def test_batch_rejects_only_the_orders_with_a_bad_location(client, factory, product, main, tokyo):
    waiter = member(factory, "waiter", main, tokyo)
    orders = [{"client_order_id": "b-1", **body(product, location_id=tokyo.id)},
              {"client_order_id": "b-2", **body(product)},
              {"client_order_id": "b-3", **body(product, location_id=999999)},
              {"client_order_id": "b-4", **body(product, location_id=main.id)}]
    results = client.post(f"{ORDERS}/batch", json={"orders": orders}, headers=factory.headers(waiter)).json["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "created"]
    assert list(results[1]["error"]["errors"]) == ["location_id"] == list(results[2]["error"]["errors"])
    located = dict(db.session.execute(select(Order.client_order_id, Order.location_id)).all())
    assert located == {"b-1": tokyo.id, "b-4": main.id}


def test_the_same_instant_lands_on_each_locations_business_date(client, factory, product, main, tokyo, monkeypatch):
    moment = datetime(2026, 11, 21, 18, 30, tzinfo=UTC)  # 18:30 in UTC; 03:30 on the 22nd in Tokyo
    monkeypatch.setattr("app.orders.services.utcnow", lambda: moment)
    admin = factory.make_user("admin")
    here = client.post(ORDERS, json=body(product), headers=factory.headers(admin)).json
    there = client.post(ORDERS, json=body(product, location_id=tokyo.id), headers=factory.headers(admin)).json
    assert here["business_date"] == "2026-11-21"
    assert there["business_date"] == "2026-11-21"  # Tokyo's day starts at 05:00: 03:30 is still the 21st
    auckland = Location(name="Auckland", timezone="Pacific/Auckland", day_starts_at="00:00")  # UTC+13 in November
    db.session.add(auckland)
    db.session.commit()
    ahead = client.post(ORDERS, json=body(product, location_id=auckland.id), headers=factory.headers(admin)).json
    assert ahead["business_date"] == "2026-11-22"  # the same instant, 07:30 on the 22nd there
    assert ahead["created_at"] == here["created_at"]
    tokyo.day_starts_at = "00:00"
    db.session.commit()
    later = client.post(ORDERS, json=body(product, location_id=tokyo.id), headers=factory.headers(admin)).json
    assert later["business_date"] == "2026-11-22"
    assert client.get(f"{ORDERS}/{there['id']}", headers=factory.headers(admin)).json["business_date"] == "2026-11-21"
    stored = db.session.get(Order, later["id"])
    assert stored.local_hour == datetime(2026, 11, 22, 3)


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2026, 3, 8, 6, 59, tzinfo=UTC), "2026-03-07"),  # 01:59 EST: before the day start
    (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "2026-03-08"),  # 03:00 EDT: 02:30 never happened, the day began
    (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), "2026-03-08"),
])
def test_a_day_start_inside_a_dst_gap_works_per_location(client, factory, product, monkeypatch, moment, expected):
    new_york = Location(name="NYC", timezone="America/New_York", day_starts_at="02:30")
    db.session.add(new_york)
    db.session.commit()
    monkeypatch.setattr("app.orders.services.utcnow", lambda: moment)
    order = client.post(ORDERS, json=body(product, location_id=new_york.id), headers=factory.role_headers("admin"))
    assert order.json["business_date"] == expected
    here = client.post(ORDERS, json=body(product), headers=factory.role_headers("admin")).json  # UTC, midnight
    assert here["business_date"] == moment.date().isoformat()


def test_managers_see_and_change_only_their_locations_orders(client, factory, product, main, tokyo):
    tokyo_waiter = member(factory, "waiter", tokyo)
    away = client.post(ORDERS, json=body(product), headers=factory.headers(tokyo_waiter)).json
    home = client.post(ORDERS, json=body(product), headers=factory.role_headers("waiter")).json
    manager = member(factory, "manager", main)
    headers = factory.headers(manager)
    assert client.get(f"{ORDERS}/{home['id']}", headers=headers).status_code == 200
    assert_problem(client.get(f"{ORDERS}/{away['id']}", headers=headers), 404, "not_found")
    assert_problem(client.post(f"{ORDERS}/{away['id']}/close", json={"payment_method": "cash"}, headers=headers),
                   404, "not_found")
    assert_problem(client.post(f"{ORDERS}/{away['id']}/cancel", json={"reason": "x"}, headers=headers),
                   404, "not_found")
    listed = [o["id"] for o in client.get(ORDERS, headers=headers).json["data"]]
    assert listed == [home["id"]]
    assert_problem(client.get(ORDERS, query_string={"location_id": tokyo.id}, headers=headers), 404, "not_found")
    both = member(factory, "manager", main, tokyo)
    filtered = client.get(ORDERS, query_string={"location_id": tokyo.id}, headers=factory.headers(both)).json
    assert [o["id"] for o in filtered["data"]] == [away["id"]]
    everything = client.get(ORDERS, headers=factory.role_headers("admin")).json["data"]
    assert {o["id"] for o in everything} == {home["id"], away["id"]}


def test_waiters_keep_seeing_only_their_own_orders(client, factory, product, main):
    luis, ana = member(factory, "waiter", main), member(factory, "waiter", main)
    mine = client.post(ORDERS, json=body(product), headers=factory.headers(luis)).json
    client.post(ORDERS, json=body(product), headers=factory.headers(ana))
    assert [o["id"] for o in client.get(ORDERS, headers=factory.headers(luis)).json["data"]] == [mine["id"]]
    listed = client.get(ORDERS, query_string={"location_id": main.id}, headers=factory.headers(luis)).json["data"]
    assert [o["id"] for o in listed] == [mine["id"]]
