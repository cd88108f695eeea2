"""Reports over a chain: `?location_id=`, what each caller covers, `location_id`/`timezone`, /reports/locations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.extensions import db
from tests.helpers import assert_problem, v1_figures, v1_totals
from tests.locations.conftest import member
from tests.reports.orderkit import Line, ServiceDriver

DAY = {"start_date": "2026-11-21", "end_date": "2026-11-21"}


@pytest.fixture
def chain(factory, main, tokyo):
    """Main (UTC, midnight) sells 1 x 25.00 and 2 x 10.00; Tokyo (05:00 start) 3 x 25.00; same business day."""
    taco, agua = factory.make_product("Taco", "25.00"), factory.make_product("Agua", "10.00")
    luis, kenji = member(factory, "waiter", main, name="Luis"), member(factory, "waiter", tokyo, name="Kenji")
    driver = ServiceDriver(factory.make_user("admin"))
    driver.batch(luis, [([Line(taco.id, 1), Line(agua.id, 2)], datetime(2026, 11, 21, 12, tzinfo=UTC))], main.id)
    driver.batch(kenji, [([Line(taco.id, 3)], datetime(2026, 11, 21, 3, tzinfo=UTC))], tokyo.id)  # 12:00 JST
    return {"main": main, "tokyo": tokyo, "luis": luis, "kenji": kenji}


def get(client, factory, user, name, **params):
    return client.get(f"/api/v1/reports/{name}", query_string={**DAY, **params}, headers=factory.headers(user))


def test_a_single_location_chain_answers_like_v1(client, factory, main):
    body = get(client, factory, factory.make_user("admin"), "sales").json
    assert (body["location_id"], body["timezone"]) == (main.id, "UTC")
    waiter = get(client, factory, factory.make_user("waiter"), "products").json
    assert (waiter["location_id"], waiter["timezone"]) == (main.id, "UTC")


def test_admins_see_the_chain_or_one_location(client, factory, chain):
    admin = factory.make_user("admin")
    whole = get(client, factory, admin, "waiters").json
    assert (whole["location_id"], whole["timezone"]) == (None, None)
    assert v1_totals(whole["totals"]) == {"orders": 2, "items": 6, "revenue": "120.00"}
    tokyo = get(client, factory, admin, "waiters", location_id=chain["tokyo"].id).json
    assert (tokyo["location_id"], tokyo["timezone"]) == (chain["tokyo"].id, "Asia/Tokyo")
    assert v1_totals(tokyo["totals"]) == {"orders": 1, "items": 3, "revenue": "75.00"}
    assert [row["waiter_name"] for row in tokyo["data"]] == ["Kenji"]
    products = get(client, factory, admin, "products", location_id=chain["main"].id).json
    assert v1_totals(products["totals"]) == {"quantity": 3, "revenue": "45.00", "orders": 1}


def test_managers_reports_cover_their_locations_only(client, factory, chain):
    manager = member(factory, "manager", chain["main"])
    body = get(client, factory, manager, "products").json
    assert (body["location_id"], body["timezone"]) == (chain["main"].id, "UTC")
    assert v1_totals(body["totals"]) == {"quantity": 3, "revenue": "45.00", "orders": 1}
    for name in ("products", "waiters", "sales", "locations"):
        assert_problem(get(client, factory, manager, name, location_id=chain["tokyo"].id), 404, "not_found")
        assert_problem(get(client, factory, manager, name, location_id=999999), 404, "not_found")
    # a waiter of another location asked for by id: nothing of theirs is in the manager's scope
    assert get(client, factory, manager, "waiters", waiter_id=chain["kenji"].id).json["data"] == []


def test_waiters_reports_are_their_own(client, factory, chain):
    body = get(client, factory, chain["kenji"], "sales").json
    assert v1_totals(body["totals"]) == {"orders": 1, "items": 3, "revenue": "75.00"}
    assert_problem(get(client, factory, chain["kenji"], "sales", location_id=chain["main"].id), 404, "not_found")
    assert_problem(get(client, factory, chain["kenji"], "locations"), 403, "forbidden")


def test_locations_report(client, factory, chain):
    body = get(client, factory, factory.make_user("admin"), "locations").json
    assert v1_figures(body["data"]) == [
        {"location_id": chain["tokyo"].id, "location_name": "Tokyo", "orders": 1, "items": 3, "revenue": "75.00",
         "average_ticket": "75.00"},
        {"location_id": chain["main"].id, "location_name": "Main", "orders": 1, "items": 3, "revenue": "45.00",
         "average_ticket": "45.00"},
    ]
    assert v1_totals(body["totals"]) == {"orders": 2, "items": 6, "revenue": "120.00"}
    waiters = get(client, factory, factory.make_user("admin"), "waiters").json
    assert waiters["totals"] == body["totals"]  # the same figures, cut another way
    csv = client.get("/api/v1/reports/locations", query_string={**DAY, "format": "csv"},
                     headers=factory.role_headers("admin"))
    assert csv.mimetype == "text/csv"
    assert csv.headers["Content-Disposition"] == 'attachment; filename="locations_2026-11-21_2026-11-21.csv"'
    assert csv.get_data(as_text=True).splitlines()[0] == (
        "location_id,location_name,orders,items,revenue,average_ticket,gross,discounts,refunds,tax,tips")


def test_hourly_sales_over_two_zones_show_every_local_hour_of_each(client, factory, chain):
    body = get(client, factory, factory.make_user("admin"), "sales", granularity="hour").json
    periods = [row["period"] for row in body["data"]]
    # Main's day: 00:00-23:00 on the 21st; Tokyo's: 05:00 on the 21st to 04:00 on the 22nd
    assert periods[0] == "2026-11-21T00:00" and periods[-1] == "2026-11-22T04:00" and len(periods) == 29
    hours = {row["period"]: row["orders"] for row in body["data"] if row["orders"]}
    assert hours == {"2026-11-21T12:00": 2}  # noon in both places: each on its own wall clock
    tokyo = get(client, factory, factory.make_user("admin"), "sales", granularity="hour",
                location_id=chain["tokyo"].id).json
    assert len(tokyo["data"]) == 24 and tokyo["data"][0]["period"] == "2026-11-21T05:00"


def test_default_range_ends_on_the_latest_business_date_of_the_locations(client, factory, chain):
    body = client.get("/api/v1/reports/sales", headers=factory.role_headers("admin")).json
    assert len(body["data"]) == 30
    db.session.rollback()


def test_rebuild_and_compact_keep_every_locations_figures(app, client, factory, chain):
    from sqlalchemy import delete

    from app.models import ProductDaily, SalesHourly, WaiterDaily

    admin = factory.make_user("admin")
    views = [{"location_id": chain["main"].id}, {"location_id": chain["tokyo"].id}, {}]

    def answers():
        return [{k: get(client, factory, admin, name, **view).json[k] for k in ("totals", "data")}
                for name in ("products", "waiters", "sales", "locations") for view in views]

    before = answers()
    runner = app.test_cli_runner()
    for model in (ProductDaily, WaiterDaily, SalesHourly):  # lose the rows; rebuild puts them back per location
        db.session.execute(delete(model))
    db.session.commit()
    assert answers() != before
    result = runner.invoke(args=["reports", "rebuild", "--start", "2026-11-01", "--end", "2026-11-30"])
    assert result.exit_code == 0, result.output
    assert answers() == before
    assert {row.location_id for row in db.session.scalars(db.select(WaiterDaily))} == {chain["main"].id,
                                                                                        chain["tokyo"].id}
    db.session.commit()
    assert runner.invoke(args=["reports", "compact"]).exit_code == 0
    assert answers() == before
    whole_month = client.get("/api/v1/reports/locations", query_string={"start_date": "2026-11-01",
                                                                        "end_date": "2026-11-30"},
                             headers=factory.headers(admin)).json  # read from the monthly folds
    assert whole_month["data"] == before[-1]["data"] and whole_month["totals"] == before[-1]["totals"]
