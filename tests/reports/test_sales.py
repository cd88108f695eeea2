"""/reports/sales: no gaps, business-date cutoff, local hours and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.business_time import business_date, local_hour
from app.figures.periods import hour_slots
from tests.helpers import v1_figures
from tests.reports.orderkit import Line


@pytest.fixture
def mexico(business_clock):
    """A restaurant in Mexico City whose business day starts at 04:00."""
    business_clock("America/Mexico_City", "04:00")  # UTC-6, no DST


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_business_clock(app, mexico):
    # 02:30 local on the 22nd is still the business day of the 21st
    moment = utc(2026, 11, 22, 8, 30)
    assert (business_date(moment), local_hour(moment)) == (date(2026, 11, 21), datetime(2026, 11, 22, 2))
    moment = utc(2026, 11, 22, 10, 0)
    assert (business_date(moment), local_hour(moment)) == (date(2026, 11, 22), datetime(2026, 11, 22, 4))
    with pytest.raises(ValueError):
        business_date(datetime(2026, 11, 22, 10))


def test_days_without_sales_are_zero_rows(kit, dishes, waiters, manager, report):
    now = datetime.now(UTC)
    kit.batch(waiters[0], [([Line(dishes[0].id, 2)], now - timedelta(days=2))])
    body = report(manager, "sales").json
    assert len(body["data"]) == 30
    periods = [row["period"] for row in body["data"]]
    assert periods == sorted(periods) and len(set(periods)) == 30
    assert [row["orders"] for row in body["data"]].count(0) == 29
    assert v1_figures(body["data"][0]) == {"period": body["start_date"], "orders": 0, "items": 0, "revenue": "0.00"}


def test_hours_cover_every_business_hour(app, mexico, kit, dishes, waiters, manager, report):
    kit.batch(waiters[0], [
        ([Line(dishes[0].id, 1)], utc(2026, 11, 21, 10, 5)),  # 04:05 local on the 21st
        ([Line(dishes[0].id, 2)], utc(2026, 11, 22, 9, 59)),  # 03:59 local on the 22nd: still the 21st
        ([Line(dishes[0].id, 4)], utc(2026, 11, 22, 10, 0)),  # 04:00 local on the 22nd: the 22nd
    ])
    body = report(manager, "sales", granularity="hour", start_date="2026-11-21", end_date="2026-11-21").json
    periods = [row["period"] for row in body["data"]]
    assert len(periods) == 24
    assert periods[0] == "2026-11-21T04:00" and periods[-1] == "2026-11-22T03:00"
    busy = {row["period"]: row["items"] for row in body["data"] if row["orders"]}
    assert busy == {"2026-11-21T04:00": 1, "2026-11-22T03:00": 2}
    day = report(manager, "sales", start_date="2026-11-21", end_date="2026-11-22").json["data"]
    assert [(row["period"], row["items"]) for row in day] == [("2026-11-21", 3), ("2026-11-22", 4)]
    two_days = report(manager, "sales", granularity="hour", start_date="2026-11-21", end_date="2026-11-22").json
    assert len(two_days["data"]) == 48 and two_days["totals"]["items"] == 7


def test_reports_filter_on_the_stored_business_date(app, mexico, kit, dishes, waiters, manager, report):
    # 05:00 UTC on the 22nd is 23:00 local on the 21st: business date 21st, UTC date 22nd
    kit.batch(waiters[0], [([Line(dishes[0].id, 1)], utc(2026, 11, 22, 5, 0))])
    for user, params in ((manager, {}), (manager, {"waiter_id": waiters[0].id}), (waiters[0], {})):
        on_21 = report(user, "products", start_date="2026-11-21", end_date="2026-11-21", **params).json
        on_22 = report(user, "products", start_date="2026-11-22", end_date="2026-11-22", **params).json
        assert on_21["totals"]["orders"] == 1 and on_22["totals"]["orders"] == 0


def test_waiter_scoped_hours_match_chain_hours(app, mexico, kit, dishes, waiters, manager, report):
    kit.batch(waiters[0], [([Line(dishes[1].id, 1)], utc(2026, 11, 21, h, 30)) for h in (12, 13, 13, 20)])
    params = {"granularity": "hour", "start_date": "2026-11-21", "end_date": "2026-11-21"}
    chain = report(manager, "sales", **params).json
    scoped = report(manager, "sales", waiter_id=waiters[0].id, **params).json
    assert chain == scoped
    assert {r["period"]: r["orders"] for r in chain["data"] if r["orders"]} == {
        "2026-11-21T06:00": 1, "2026-11-21T07:00": 2, "2026-11-21T14:00": 1}


def test_day_start_with_minutes_has_one_more_hour(app, monkeypatch):
    monkeypatch.setitem(app.config, "BUSINESS_DAY_STARTS_AT", "04:30")
    slots = list(hour_slots(date(2026, 11, 21), date(2026, 11, 21)))
    assert len(slots) == 25 and slots[0] == datetime(2026, 11, 21, 4) and slots[-1] == datetime(2026, 11, 22, 4)
    assert len(list(hour_slots(date(2026, 11, 21), date(2026, 11, 22)))) == 49


def test_dst_days_keep_24_wall_clock_hours(app, business_clock, kit, dishes, waiters, manager, report):
    business_clock("America/New_York")
    # 2026-11-01 01:30 happens twice in New York (EDT then EST): one slot holds both
    kit.batch(waiters[0], [([Line(dishes[0].id, 1)], utc(2026, 11, 1, 5, 30)),
                           ([Line(dishes[0].id, 1)], utc(2026, 11, 1, 6, 30))])
    body = report(manager, "sales", granularity="hour", start_date="2026-11-01", end_date="2026-11-01").json
    assert len(body["data"]) == 24
    assert {r["period"]: r["orders"] for r in body["data"] if r["orders"]} == {"2026-11-01T01:00": 2}
    # 2026-03-08 02:00 does not exist in New York: its slot is there, with zeros
    spring = report(manager, "sales", granularity="hour", start_date="2026-03-08", end_date="2026-03-08").json
    assert len(spring["data"]) == 24
    assert v1_figures(spring["data"][2]) == {"period": "2026-03-08T02:00", "orders": 0, "items": 0, "revenue": "0.00"}


def test_hours_recorded_under_another_day_start_still_add_up(app, business_clock, kit, dishes, waiters, manager,
                                                             report):
    # Orders taken while the day started at midnight, reported after switching to 04:00.
    kit.batch(waiters[0], [([Line(dishes[0].id, 1)], utc(2026, 11, 21, 2, 0))])  # business date 21st, 02:00
    business_clock(starts_at="04:00")
    body = report(manager, "sales", granularity="hour", start_date="2026-11-21", end_date="2026-11-21").json
    assert len(body["data"]) == 25 and body["data"][0]["period"] == "2026-11-21T02:00"
    assert body["totals"]["orders"] == sum(r["orders"] for r in body["data"]) == 1
