"""The OpenAPI document describes the chain: locations, location_ids, location_id, report answers."""

from __future__ import annotations

import pytest


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").json


def test_locations_are_documented_with_examples_and_roles(spec):
    paths = spec["paths"]
    create = paths["/api/v1/locations"]["post"]
    assert create["x-roles"] == ["admin"] and {"201", "409", "422"} <= set(create["responses"])
    example = create["requestBody"]["content"]["application/json"]["example"]
    assert example["timezone"] == "America/Mexico_City" and example["tax_rate"] == "16"
    assert paths["/api/v1/locations/{location_id}"]["patch"]["x-roles"] == ["admin"]
    assert {"200", "404"} <= set(paths["/api/v1/locations/{location_id}"]["get"]["responses"])
    assert paths["/api/v1/reports/locations"]["get"]["x-roles"] == ["manager", "admin"]


def test_location_shapes(spec):
    schemas = spec["components"]["schemas"]
    out = schemas["LocationOut"]["properties"]
    assert set(out) == {"id", "name", "timezone", "day_starts_at", "tax_rate", "prices_include_tax", "active",
                        "default", "created_at", "updated_at", "variance_tolerance"}
    assert out["tax_rate"]["type"] == "string" and out["tax_rate"]["example"] == "16"
    rate = schemas["LocationIn"]["properties"]["tax_rate"]
    assert {variant["type"] for variant in rate["oneOf"]} == {"string", "number"}
    assert schemas["LocationIn"]["properties"]["day_starts_at"]["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9]$"
    assert set(schemas["LocationIn"]["required"]) == {"name", "timezone"}
    assert schemas["LocationPatch"]["minProperties"] == 1 and "active" in schemas["LocationPatch"]["properties"]
    assert schemas["UserOut"]["properties"]["location_ids"]["type"] == "array"
    assert "location_ids" in schemas["UserIn"]["properties"] and "location_ids" in schemas["UserPatchIn"]["properties"]
    assert "location_id" in schemas["OrderIn"]["properties"] and "location_id" in schemas["OrderOut"]["properties"]
    report = schemas["ProductsReportOut"]["properties"]
    assert report["location_id"]["nullable"] is True and report["timezone"]["nullable"] is True
    params = {p["name"] for p in spec["paths"]["/api/v1/reports/sales"]["get"]["parameters"]}
    assert "location_id" in params
    params = {p["name"] for p in spec["paths"]["/api/v1/orders"]["get"]["parameters"]}
    assert "location_id" in params
