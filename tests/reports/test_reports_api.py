"""The three reports over HTTP: shapes, definitions, scoping, sorting, defaults and validation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.business_time import today
from app.extensions import db
from app.models import OrderItem
from tests.constants import PROBLEM
from tests.helpers import v1_figures, v1_totals
from tests.reports import oracle
from tests.reports.orderkit import Line


@pytest.fixture
def sales(kit, dishes, waiters):
    """Luis: 2 open orders and a closed one; Ana: a closed order, a cancelled one, one fully voided."""
    taco, agua, mole = dishes
    luis, ana, _pedro = waiters
    a = kit.create(luis, [Line(taco.id, 3), Line(agua.id, 2)])
    kit.create(luis, [Line(taco.id, 1), Line(taco.id, 1, unit_price_cents=2000)])  # ad-hoc price line
    c = kit.create(luis, [Line(mole.id, 1)])
    kit.close(c)
    d = kit.create(ana, [Line(mole.id, 2), Line(agua.id, 1)])
    kit.append(d, [Line(taco.id, 4)])
    kit.close(d)
    e = kit.create(ana, [Line(mole.id, 10)])
    kit.cancel(e)
    f = kit.create(ana, [Line(agua.id, 1)])
    kit.void(f, db.session.scalar(select(OrderItem.id).where(OrderItem.order_id == f)))
    return {"a": a, "c": c, "d": d, "e": e, "f": f}


def _today() -> date:
    return today()


def test_reports_need_a_token(client):
    for name in ("products", "waiters", "sales"):
        resp = client.get(f"/api/v1/reports/{name}")
        assert resp.status_code == 401 and resp.mimetype == PROBLEM
        assert resp.json["code"] == "unauthorized"


@pytest.mark.parametrize("role", ["waiter", "manager", "admin"])
def test_every_role_may_ask(factory, report, role):
    user = factory.make_user(role)
    for name in ("products", "waiters", "sales"):
        assert report(user, name).status_code == 200


def test_products_report(sales, manager, report):
    body = report(manager, "products").json
    assert body["timezone"] == "UTC" and body["currency"] == "MXN"
    assert body["end_date"] == _today().isoformat()
    assert body["start_date"] == (_today() - timedelta(days=29)).isoformat()
    assert [(r["product_name"], r["quantity"], r["revenue"], r["orders"]) for r in body["data"]] == [
        ("Taco al pastor", 9, "220.00", 3),  # 3x25 + 1x25 + 1x20 + 4x25; not the cancelled order
        ("Mole poblano", 3, "420.00", 2),  # ties on quantity: more revenue first
        ("Agua de horchata", 3, "76.50", 2),  # the voided line of order f does not count
    ]
    # f has no counted line left: 4 orders count (a, b, c, d), not 5 and not the cancelled e
    assert v1_totals(body["totals"]) == {"quantity": 15, "revenue": "716.50", "orders": 4}


def test_the_three_reports_agree(sales, manager, report, waiters):
    for params in ({}, {"status": "closed"}, {"status": "open"}, {"waiter_id": waiters[0].id}):
        products = report(manager, "products", **params).json
        waiter_rows = report(manager, "waiters", **params).json
        day = report(manager, "sales", **params).json
        hour = report(manager, "sales", granularity="hour", **params).json
        orders = products["totals"]["orders"]
        assert orders == waiter_rows["totals"]["orders"] == day["totals"]["orders"] == hour["totals"]["orders"]
        assert orders == sum(r["orders"] for r in waiter_rows["data"]) == sum(r["orders"] for r in day["data"])
        revenue = products["totals"]["revenue"]
        assert revenue == waiter_rows["totals"]["revenue"] == day["totals"]["revenue"] == hour["totals"]["revenue"]
        assert products["totals"]["quantity"] == waiter_rows["totals"]["items"] == day["totals"]["items"]
        assert products["totals"]["quantity"] == sum(r["quantity"] for r in products["data"])


def test_status_filter(sales, manager, report):
    closed = report(manager, "waiters", status="closed").json
    assert [(r["waiter_name"], r["orders"], r["revenue"]) for r in closed["data"]] == [
        ("Ana", 1, "405.50"), ("Luis", 1, "140.00")]
    opened = report(manager, "waiters", status="open").json
    assert [(r["waiter_name"], r["orders"], r["items"], r["revenue"]) for r in opened["data"]] == [
        ("Luis", 2, 7, "171.00")]


def test_waiters_report_and_average_ticket(sales, manager, report):
    body = report(manager, "waiters").json
    assert v1_figures(body["data"]) == [
        {"waiter_id": body["data"][0]["waiter_id"], "waiter_name": "Ana", "orders": 1, "items": 7,
         "revenue": "405.50", "average_ticket": "405.50"},
        {"waiter_id": body["data"][1]["waiter_id"], "waiter_name": "Luis", "orders": 3, "items": 8,
         "revenue": "311.00", "average_ticket": "103.67"},  # 311.00 / 3 = 103.666... -> 103.67
    ]
    assert v1_totals(body["totals"]) == {"orders": 4, "items": 15, "revenue": "716.50"}


def test_average_ticket_rounds_half_to_even(kit, dishes, waiters, manager, report):
    """v1.1 (API.md "Money rules"): average_ticket rounds half-to-even (v1 rounded half up: 10.01)."""
    for price in (1000, 1001):  # 20.01 / 2 = 10.005 -> 10.00
        kit.create(waiters[0], [Line(dishes[0].id, 1, unit_price_cents=price)])
    kit.create(waiters[1], [Line(dishes[0].id, 1, unit_price_cents=1003), Line(dishes[0].id, 1, unit_price_cents=1000)])
    kit.create(waiters[1], [Line(dishes[0].id, 1, unit_price_cents=1000)])  # 30.03 / 2 = 15.015 -> 15.02
    body = report(manager, "waiters").json
    assert {r["waiter_name"]: r["average_ticket"] for r in body["data"]} == {"Luis": "10.00", "Ana": "15.02"}
    assert body["totals"]["average_ticket"] == "12.51"  # 50.04 / 4 = 12.51


def test_waiter_sees_only_their_own_orders(sales, waiters, report):
    luis, ana, pedro = waiters
    mine = report(luis, "products").json
    assert v1_totals(mine["totals"]) == {"quantity": 8, "revenue": "311.00", "orders": 3}
    assert report(luis, "products", waiter_id=luis.id).json == mine
    assert [r["waiter_name"] for r in report(luis, "waiters").json["data"]] == ["Luis"]
    assert report(luis, "sales").json["totals"]["orders"] == 3
    # someone else's id: an empty report, never their figures
    for name in ("products", "waiters", "sales"):
        other = report(luis, name, waiter_id=ana.id).json
        assert other["totals"]["orders"] == 0 and other["totals"]["revenue"] == "0.00"
    assert report(luis, "products", waiter_id=ana.id).json["data"] == []
    assert report(pedro, "waiters").json["data"] == []


def test_manager_filters_by_waiter(sales, manager, waiters, report):
    luis, ana, _ = waiters
    assert report(manager, "products", waiter_id=luis.id).json == report(luis, "products").json
    only_ana = report(manager, "waiters", waiter_id=ana.id).json["data"]
    assert [r["waiter_name"] for r in only_ana] == ["Ana"]
    assert report(manager, "products", waiter_id=999999).json["data"] == []


def test_products_sorting_and_limit(sales, manager, report):
    def names(**params):
        return [r["product_name"] for r in report(manager, "products", **params).json["data"]]

    assert names(sort="revenue") == ["Mole poblano", "Taco al pastor", "Agua de horchata"]
    assert names(sort="revenue", order="asc") == ["Agua de horchata", "Taco al pastor", "Mole poblano"]
    assert names(sort="name") == ["Agua de horchata", "Mole poblano", "Taco al pastor"]
    assert names(sort="name", order="desc") == ["Taco al pastor", "Mole poblano", "Agua de horchata"]
    # quantity ties (Agua 3, Mole 3) are broken by revenue desc
    assert names(order="asc") == ["Mole poblano", "Agua de horchata", "Taco al pastor"]
    limited = report(manager, "products", limit=1).json
    assert [r["product_name"] for r in limited["data"]] == ["Taco al pastor"]
    assert limited["totals"] == report(manager, "products").json["totals"]  # totals ignore the limit


def test_product_name_is_the_current_catalogue_name(sales, dishes, manager, report):
    dishes[0].name = "Taco de trompo"
    db.session.commit()
    dishes[1].active = False  # archived products stay in reports
    db.session.commit()
    names = [r["product_name"] for r in report(manager, "products").json["data"]]
    assert names == ["Taco de trompo", "Mole poblano", "Agua de horchata"]


def test_lines_appended_later_count_on_the_order_date(kit, dishes, waiters, manager, report):
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    (oid,) = kit.batch(waiters[0], [([Line(dishes[0].id, 1)], two_days_ago)])
    kit.append(oid, [Line(dishes[1].id, 2)])
    day = (_today() - timedelta(days=2)).isoformat()
    rows = {r["period"]: r for r in report(manager, "sales").json["data"]}
    assert rows[day]["items"] == 3 and rows[day]["orders"] == 1
    assert rows[_today().isoformat()]["items"] == 0


def test_range_is_inclusive(kit, dishes, waiters, manager, report):
    now = datetime.now(UTC)
    kit.batch(waiters[0], [([Line(dishes[0].id, 1)], now - timedelta(days=d)) for d in range(5)])
    start, end = _today() - timedelta(days=3), _today() - timedelta(days=1)
    assert report(manager, "products", start_date=start, end_date=end).json["totals"]["quantity"] == 3
    assert report(manager, "sales", start_date=end, end_date=end).json["totals"]["orders"] == 1


def test_default_range_with_one_bound(manager, report):
    body = report(manager, "sales", end_date="2026-03-31").json
    assert (body["start_date"], body["end_date"]) == ("2026-03-02", "2026-03-31")
    assert len(body["data"]) == 30
    body = report(manager, "sales", start_date=(_today() - timedelta(days=3)).isoformat()).json
    assert body["end_date"] == _today().isoformat() and len(body["data"]) == 4


def test_matches_brute_force(sales, manager, waiters, report):
    lines = oracle.load_lines()
    start, end = _today() - timedelta(days=29), _today()
    for status in (None, "closed"):
        for waiter_id in (None, waiters[1].id):
            params = {"status": status, "waiter_id": waiter_id}
            got = report(manager, "products", **params).json
            assert {k: got[k] for k in ("start_date", "end_date", "totals", "data")} == oracle.products(
                lines, start, end, waiter_id, status)


@pytest.mark.parametrize("name, params, field", [
    ("products", {"start_date": "2026-11-02", "end_date": "2026-11-01"}, "start_date"),
    ("sales", {"start_date": "2026-02-30"}, "start_date"),
    ("waiters", {"end_date": "yesterday"}, "end_date"),
    ("products", {"start_date": "2020-01-01", "end_date": "2026-01-01"}, "end_date"),
    ("sales", {"granularity": "hour", "start_date": "2025-01-01", "end_date": "2026-06-01"}, "end_date"),
    ("sales", {"granularity": "week"}, "granularity"),
    ("products", {"sort": "price"}, "sort"),
    ("products", {"sort": "quantity; DROP TABLE orders"}, "sort"),
    ("products", {"order": "random"}, "order"),
    ("products", {"limit": "0"}, "limit"),
    ("products", {"limit": "1001"}, "limit"),
    ("products", {"limit": "ten"}, "limit"),
    ("waiters", {"status": "cancelled"}, "status"),
    ("waiters", {"waiter_id": "abc"}, "waiter_id"),
    ("waiters", {"waiter_id": "0"}, "waiter_id"),
    ("sales", {"format": "xml"}, "format"),
    ("sales", {"colour": "blue"}, "colour"),
])
def test_invalid_parameters_are_422(manager, report, name, params, field):
    resp = report(manager, name, **params)
    assert resp.status_code == 422, resp.json
    assert resp.mimetype == PROBLEM
    assert resp.json["code"] == "validation_error"
    assert field in resp.json["errors"], resp.json


def test_validation_errors_stay_problem_json_for_csv_clients(manager, report):
    resp = report(manager, "products", headers={"Accept": "text/csv"}, start_date="2026-13-01")
    assert resp.status_code == 422 and resp.mimetype == PROBLEM


def test_openapi_documents_the_reports(client):
    spec = client.get("/openapi.json").json
    products = spec["paths"]["/api/v1/reports/products"]["get"]
    params = {p["name"] for p in products["parameters"]}
    assert {"start_date", "end_date", "waiter_id", "status", "format", "sort", "order", "limit"} <= params
    assert "text/csv" in products["responses"]["200"]["content"]
    assert "granularity" in {p["name"] for p in spec["paths"]["/api/v1/reports/sales"]["get"]["parameters"]}
