"""The OpenAPI document describes every drawer operation, its roles, fields and error codes."""

from __future__ import annotations

import json

OPERATIONS = {
    ("/api/v1/locations/{location_id}/drawers", "get"): "listDrawers",
    ("/api/v1/locations/{location_id}/drawers", "post"): "createDrawer",
    ("/api/v1/locations/{location_id}/drawer-sessions", "get"): "listDrawerSessions",
    ("/api/v1/drawers/{drawer_id}/sessions", "post"): "openDrawerSession",
    ("/api/v1/drawer-sessions/{session_id}", "get"): "getDrawerSession",
    ("/api/v1/drawer-sessions/{session_id}/x", "get"): "getDrawerSessionX",
    ("/api/v1/drawer-sessions/{session_id}/movements", "post"): "addDrawerMovement",
    ("/api/v1/drawer-sessions/{session_id}/close", "post"): "closeDrawerSession",
    ("/api/v1/drawer-sessions/{session_id}/z", "get"): "getDrawerSessionZ",
    ("/api/v1/locations/{location_id}/days/{business_date}/close", "post"): "closeBusinessDay",
    ("/api/v1/locations/{location_id}/days/{business_date}", "get"): "getBusinessDay",
}


def spec(client) -> dict:
    return json.loads(client.get("/openapi.json").get_data(as_text=True))


def test_every_drawer_operation_is_documented(client):
    doc = spec(client)
    for (path, method), operation_id in OPERATIONS.items():
        operation = doc["paths"][path][method]
        assert operation["operationId"] == operation_id
        assert operation["summary"], operation_id
    close = doc["paths"]["/api/v1/drawer-sessions/{session_id}/close"]["post"]
    assert {"200", "403", "409", "412", "428"} <= set(close["responses"])
    assert any(p["name"] == "If-Match" and p["required"] for p in close["parameters"])
    assert doc["paths"]["/api/v1/drawer-sessions/{session_id}/x"]["get"]["x-roles"] == ["manager", "admin"]
    day = doc["paths"]["/api/v1/locations/{location_id}/days/{business_date}/close"]["post"]
    assert "business_day_closed" in json.dumps(day["responses"]["409"]) and "orders_open" in json.dumps(day)


def test_new_fields_and_codes(client):
    doc = spec(client)
    schemas = doc["components"]["schemas"]
    assert "drawer_session_id" in schemas["PaymentIn"]["properties"]
    assert "drawer_session_id" in schemas["PaymentOut"]["properties"]
    assert "drawer_session_id" in schemas["RefundOut"]["properties"]
    assert "folio" in schemas["OrderOut"]["properties"]
    assert "variance_tolerance" in schemas["LocationOut"]["properties"]
    session = schemas["SessionOut"]["properties"]
    assert set(session) == {"id", "drawer_id", "location_id", "status", "opened_by", "opened_at", "opening_float",
                            "closed_by", "closed_at", "version", "figures", "counted_cash", "variance",
                            "variance_reason", "approved_by", "z_number"}
    assert set(schemas["FiguresOut"]["properties"]) == {
        "cash_sales", "cash_tips", "cash_refunds", "pay_in", "pay_out", "safe_drop", "tip_out", "expected_cash",
        "by_method", "orders", "first_folio", "last_folio"}
    text = json.dumps(doc)
    for code in ("drawer_session_open", "drawer_session_closed", "no_open_drawer_session", "orders_open",
                 "business_day_closed", "approval_required"):
        assert code in text, code
