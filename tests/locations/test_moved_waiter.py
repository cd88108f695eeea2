"""A waiter moved to another location keeps their old orders in the old location's reports: every report
attributes an order by the order's own location, never by where its waiter works now."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.columns import clock_at
from app.extensions import db
from tests.constants import ORDERS, REPORTS, USERS
from tests.locations.conftest import member
from tests.reports.orderkit import Line, ServiceDriver

DAY = {"start_date": "2026-11-21", "end_date": "2026-11-21"}
NAMES = ("products", "waiters", "sales", "locations", "payments")


@pytest.fixture
def moved(client, factory, main, tokyo):
    """Luis sold 2 x 25.00 at Main, closed in cash; then an admin moved him to Tokyo."""
    taco = factory.make_product("Taco", "25.00")
    luis = member(factory, "waiter", main, name="Luis")
    driver = ServiceDriver(factory.make_user("admin"))
    [order_id] = driver.batch(luis, [([Line(taco.id, 2)], datetime(2026, 11, 21, 12, tzinfo=UTC))], main.id)
    with clock_at(datetime(2026, 11, 21, 13, tzinfo=UTC)):  # paid that day: the till's report has it too
        driver.close(order_id)
    admin = factory.make_user("admin")
    resp = client.patch(f"{USERS}/{luis.id}", json={"location_ids": [tokyo.id]}, headers=factory.headers(admin))
    assert resp.status_code == 200 and resp.json["location_ids"] == [tokyo.id], resp.json
    return luis


def test_an_order_he_changes_after_the_move_stays_at_its_location(client, factory, main, tokyo, moved):
    """Luis's own open order from before the move: what he adds after it still counts at Main."""
    taco = factory.make_product("Taco 2", "25.00")
    moved.locations = [main]
    db.session.commit()
    body = {"customer_name": "Ana", "items": [{"product_id": taco.id, "quantity": 1}]}
    made = client.post(ORDERS, json=body, headers=factory.headers(moved)).json
    moved.locations = [tokyo]
    db.session.commit()
    added = client.post(f"{ORDERS}/{made['id']}/items", json={"items": [{"product_id": taco.id, "quantity": 1}]},
                        headers=factory.headers(moved))
    assert added.status_code == 201 and added.json["location_id"] == main.id, added.json
    today = {"start_date": added.json["business_date"], "end_date": added.json["business_date"]}
    old, new = member(factory, "manager", main), member(factory, "manager", tokyo)
    assert revenue(get(client, factory, old, "sales", **today), "sales") == Decimal("50.00")
    assert revenue(get(client, factory, new, "sales", **today), "sales") == 0


def get(client, factory, user, name, **params):
    resp = client.get(f"{REPORTS}/{name}", query_string=DAY | params, headers=factory.headers(user))
    assert resp.status_code == 200, resp.json
    return resp.json


def revenue(body: dict, name: str) -> Decimal:
    """The report's revenue (the till's payments for /reports/payments)."""
    if name == "payments":
        return sum((Decimal(row["amount"]) for row in body["data"]), Decimal(0))
    return Decimal(body["totals"]["revenue"])


def test_the_old_location_keeps_the_moved_waiters_orders(client, factory, main, tokyo, moved):
    old, new = member(factory, "manager", main), member(factory, "manager", tokyo)
    for name in NAMES:
        assert revenue(get(client, factory, old, name), name) == Decimal("50.00"), name
        assert revenue(get(client, factory, new, name), name) == 0, name
    # one waiter's report (the raw-order path) too, and the waiter's row of the waiters report
    for name in ("products", "sales"):
        assert revenue(get(client, factory, old, name, waiter_id=moved.id), name) == Decimal("50.00"), name
        assert revenue(get(client, factory, new, name, waiter_id=moved.id), name) == 0, name
    rows = get(client, factory, old, "waiters")["data"]
    assert [(row["waiter_id"], row["revenue"]) for row in rows] == [(moved.id, "50.00")]


def test_an_admin_sees_them_at_the_old_location(client, factory, main, tokyo, moved):
    admin = factory.make_user("admin")
    for name in NAMES:
        at_main = get(client, factory, admin, name, location_id=main.id)
        assert revenue(at_main, name) == Decimal("50.00"), name
        assert revenue(get(client, factory, admin, name, location_id=tokyo.id), name) == 0, name
    rows = get(client, factory, admin, "locations")["data"]
    assert [(row["location_id"], row["revenue"]) for row in rows] == [(main.id, "50.00")]
