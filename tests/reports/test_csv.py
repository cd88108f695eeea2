"""CSV answers: negotiation, RFC 4180 shape, filenames, money, streaming."""

from __future__ import annotations

import csv
import io

import pytest

from tests.reports.orderkit import Line


@pytest.fixture
def sold(kit, dishes, waiters, factory):
    odd = factory.make_product('Taco "el güero", con queso\nextra', "31.05")
    sneaky = factory.make_product("=HYPERLINK(\"http://x\")", "1.00")
    kit.create(waiters[0], [Line(dishes[0].id, 2), Line(odd.id, 1), Line(sneaky.id, 1)])
    kit.create(waiters[1], [Line(dishes[2].id, 1)])
    return odd


def parse(resp) -> list[dict]:
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True), newline="")))


@pytest.mark.parametrize("name, header", [
    # v1's columns first, then v1.1's money figures (API.md "The reports' money figures": CSV carries them)
    ("products", ["product_id", "product_name", "quantity", "revenue", "orders", "gross", "discounts", "refunds",
                  "tax", "quantity_refunded"]),
    ("waiters", ["waiter_id", "waiter_name", "orders", "items", "revenue", "average_ticket", "gross", "discounts",
                 "refunds", "tax", "tips"]),
    ("sales", ["period", "orders", "items", "revenue", "gross", "discounts", "refunds", "tax", "tips"]),
])
def test_csv_has_the_json_rows(sold, manager, report, name, header):
    resp = report(manager, name, format="csv", start_date="2026-01-01", end_date="2026-12-31")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv" and resp.mimetype_params.get("charset") == "utf-8"
    prefix = "sales_day" if name == "sales" else name
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{prefix}_2026-01-01_2026-12-31.csv"'
    text = resp.get_data(as_text=True)
    assert text.splitlines()[0] == ",".join(header)
    assert text.endswith("\r\n") and "\r\n" in text  # RFC 4180 line breaks
    rows = parse(resp)
    data = report(manager, name, start_date="2026-01-01", end_date="2026-12-31").json["data"]
    assert len(rows) == len(data)
    for row, item in zip(rows, data, strict=True):
        for key in header:
            expected = str(item[key])
            if key.endswith("_name") and expected.startswith("="):
                expected = "'" + expected
            assert row[key] == expected


def test_names_with_commas_and_quotes_survive(sold, manager, report):
    resp = report(manager, "products", format="csv")
    assert '"Taco ""el güero"", con queso extra"' in resp.get_data(as_text=True)
    rows = parse(resp)
    assert sold.name == 'Taco "el güero", con queso extra'
    assert sold.name in [r["product_name"] for r in rows]
    assert {r["product_name"]: r["revenue"] for r in rows}["Taco al pastor"] == "50.00"


def test_formula_like_names_are_defused(sold, manager, report):
    names = [r["product_name"] for r in parse(report(manager, "products", format="csv"))]
    assert "'=HYPERLINK(\"http://x\")" in names
    assert "=HYPERLINK(\"http://x\")" in [r["product_name"] for r in report(manager, "products").json["data"]]


def test_accept_header_negotiates(sold, manager, report):
    assert report(manager, "sales", headers={"Accept": "text/csv"}).mimetype == "text/csv"
    assert report(manager, "sales", headers={"Accept": "application/json"}).mimetype == "application/json"
    assert report(manager, "sales", headers={"Accept": "*/*"}).mimetype == "application/json"
    assert report(manager, "sales", headers={"Accept": "text/csv;q=0.5, application/json"}).mimetype == (
        "application/json")
    assert report(manager, "sales", headers={"Accept": "text/csv"}, format="json").mimetype == "application/json"
    assert report(manager, "sales", headers={"Accept": "application/json"}, format="csv").mimetype == "text/csv"


def test_csv_is_streamed(sold, manager, report):
    resp = report(manager, "sales", format="csv", granularity="hour", start_date="2026-01-01",
                  end_date="2026-12-31")
    assert resp.is_streamed
    assert len(parse(resp)) == 365 * 24


def test_hourly_csv_name_and_waiter_scope(sold, waiters, report):
    resp = report(waiters[1], "products", format="csv")
    assert [r["product_name"] for r in parse(resp)] == ["Mole poblano"]
    resp = report(waiters[1], "sales", format="csv", granularity="hour", start_date="2026-11-01",
                  end_date="2026-11-30")
    assert 'filename="sales_hour_2026-11-01_2026-11-30.csv"' in resp.headers["Content-Disposition"]
