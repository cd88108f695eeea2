"""Without REPORTS_DATABASE_URL every report reads DATABASE_URL and says it is current."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.replicas import EXTENSION


@pytest.mark.parametrize("name", ["products", "waiters", "sales"])
def test_reports_carry_their_freshness(app, report, manager, name):
    assert EXTENSION not in app.extensions  # no replica configured: one database for everything
    before = datetime.now(UTC)
    resp = report(manager, name)
    assert resp.status_code == 200
    assert resp.headers["X-Data-Source"] == "primary"
    stamp = resp.headers["X-Data-As-Of"]
    assert stamp.endswith("Z")
    as_of = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= as_of <= datetime.now(UTC)


def test_csv_reports_carry_it_too(report, manager):
    resp = report(manager, "sales", format="csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["X-Data-Source"] == "primary" and resp.headers["X-Data-As-Of"]


def test_failed_reports_do_not(report, manager):
    resp = report(manager, "sales", start_date="2026-02-30")
    assert resp.status_code == 422
    assert "X-Data-As-Of" not in resp.headers


def test_openapi_documents_the_freshness_headers(client):
    spec = client.get("/openapi.json").get_json()
    for path in ("/api/v1/reports/products", "/api/v1/reports/waiters", "/api/v1/reports/sales"):
        headers = spec["paths"][path]["get"]["responses"]["200"]["headers"]
        assert set(headers) == {"X-Data-As-Of", "X-Data-Source", "RateLimit", "RateLimit-Policy"}
