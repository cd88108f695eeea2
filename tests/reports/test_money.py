"""The reports' money figures (API.md v1.1): gross, discounts, tax, refunds on their own business date,
tips, net revenue, and the till (`GET /reports/payments`), worked by hand on one check."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.business_time import business_date
from app.extensions import db
from app.models import Location
from app.reports import maintenance
from tests.reports import oracle
from tests.reports.orderkit import Line


@pytest.fixture
def taxed(app):
    """The default location charges 16% tax included in menu prices (as in Mexico)."""
    location = db.session.scalar(select(Location).where(Location.is_default))
    location.tax_rate_thousandths, location.prices_include_tax = 16000, True
    db.session.commit()
    return location


def _today(location) -> datetime:
    return business_date(datetime.now(UTC), location.timezone, location.day_starts_at)


@pytest.fixture
def night(taxed, kit, dishes, waiters, manager):
    """2 tacos (25.00) and a mole (140.00), 10% off the order, paid by card with a 20.00 tip and closed;
    one taco refunded the next business day."""
    kit.staff = manager
    taco, _agua, mole = dishes
    order_id = kit.create(waiters[0], [Line(taco.id, 2), Line(mole.id, 1)])
    kit.discount(order_id, None, percent="10")
    kit.close_with(order_id, "card", tip_cents=2000)
    items = kit.get(order_id)["items"]
    kit.refund(order_id, [(items[0]["id"], 1)], days_later=1)
    return order_id, _today(taxed)


def test_a_check_with_discount_tax_and_tip(night, manager, report):
    _, day = night
    # discount 1900 shared 500 / 1400; tax included: round(4500 x 16/116) = 621, round(12600 x 16/116) = 1738
    body = report(manager, "waiters", start_date=day, end_date=day).json
    (row,) = body["data"]
    assert {k: row[k] for k in ("orders", "items", "gross", "discounts", "tax", "revenue", "tips", "refunds")} == {
        "orders": 1, "items": 3, "gross": "190.00", "discounts": "19.00", "tax": "23.59", "revenue": "147.41",
        "tips": "20.00", "refunds": "0.00"}
    assert row["average_ticket"] == body["totals"]["average_ticket"] == "147.41"
    # the identity: revenue + tax + tips == what the payments collected (171.00 + 20.00 tip)
    assert 14741 + 2359 + 2000 == 17100 + 2000
    till = report(manager, "payments", start_date=day, end_date=day).json
    assert till["data"] == [{"method": "card", "payments": 1, "amount": "171.00", "tips": "20.00", "refunds": "0.00",
                             "net": "191.00"}]


def test_a_refund_counts_on_its_own_day(night, manager, report, dishes):
    _, day = night
    next_day = day + timedelta(days=1)
    # 1 of 2 tacos: round(4500 / 2) = 2250 back, of which round(621 / 2) = 310 tax (half-to-even)
    products = report(manager, "products", start_date=next_day, end_date=next_day).json
    assert products["data"] == [{
        "product_id": dishes[0].id, "product_name": "Taco al pastor", "quantity": 0, "orders": 0, "revenue": "-19.40",
        "gross": "0.00", "discounts": "0.00", "tax": "-3.10", "refunds": "22.50", "quantity_refunded": 1}]
    assert products["totals"]["orders"] == 0
    for name in ("waiters", "sales"):
        totals = report(manager, name, start_date=next_day, end_date=next_day).json["totals"]
        figures = (totals["revenue"], totals["tax"], totals["refunds"], totals["orders"])
        assert figures == ("-19.40", "-3.10", "22.50", 0)
    till = report(manager, "payments", start_date=next_day, end_date=next_day).json
    assert till["data"] == [{"method": "card", "payments": 0, "amount": "0.00", "tips": "0.00", "refunds": "22.50",
                             "net": "-22.50"}]
    both = report(manager, "waiters", start_date=day, end_date=next_day).json["totals"]
    assert (both["revenue"], both["tax"], both["tips"]) == ("128.01", "20.49", "20.00")


def test_cancelling_a_closed_order_counts_nowhere_but_the_till(night, kit, manager, report):
    order_id, day = night
    kit.cancel(order_id)  # refunds the taco and mole left, and the tip
    window = {"start_date": day, "end_date": day + timedelta(days=1)}
    for name in ("products", "waiters", "sales", "locations"):
        totals = report(manager, name, **window).json["totals"]
        assert (totals["revenue"], totals["tax"], totals["orders"]) == ("0.00", "0.00", 0), name
    till = report(manager, "payments", **window).json
    # paid 171.00 + 20.00; refunded 22.50, then 148.50 and the 20.00 tip
    assert till["totals"] == {"payments": 1, "amount": "171.00", "tips": "20.00", "refunds": "191.00", "net": "0.00"}


def test_the_reports_equal_brute_force_and_survive_rebuild(night, manager, report):
    _, day = night
    start, end = day - timedelta(days=1), day + timedelta(days=2)

    def check() -> None:
        facts = oracle.load_lines()
        for name, expected in (("products", oracle.products(facts, start, end)),
                               ("waiters", oracle.waiters(facts, start, end)),
                               ("sales", oracle.sales(facts, start, end)),
                               ("locations", oracle.waiters(facts, start, end, by="location")),
                               ("payments", oracle.payments(facts, start, end))):
            got = report(manager, name, start_date=start, end_date=end).json
            assert {k: got[k] for k in expected} == expected, name

    check()
    db.session.commit()
    maintenance.compact()
    check()
    maintenance.rebuild(start, end)
    db.session.commit()
    check()


def test_payments_report_csv_and_filters(night, manager, report, waiters):
    _, day = night
    resp = report(manager, "payments", format="csv", start_date=day, end_date=day)
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="payments_{day}_{day}.csv"'
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True), newline="")))
    assert rows == [{"method": "card", "payments": "1", "amount": "171.00", "tips": "20.00", "refunds": "0.00",
                     "net": "191.00"}]
    assert report(manager, "payments", start_date=day, end_date=day, waiter_id=waiters[1].id).json["data"] == []
    assert report(manager, "payments", status="closed").status_code == 422  # the till takes no status
    assert report(waiters[0], "payments").status_code == 403
