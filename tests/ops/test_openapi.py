"""The OpenAPI document describes the contract's rules, not only field names."""

from __future__ import annotations

import pytest


@pytest.fixture
def schemas(client):
    return client.get("/openapi.json").json["components"]["schemas"]


def test_order_line_is_catalogue_xor_ad_hoc(schemas):
    # A line is oneOf two named schemas (what client generators turn into a typed union).
    for body in ("OrderIn", "ItemsIn"):
        line = schemas[body]["properties"]["items"]["items"]
        assert line["oneOf"] == [{"$ref": "#/components/schemas/ProductLineIn"},
                                 {"$ref": "#/components/schemas/AdHocLineIn"}], body
    kinds = {schemas[name]["description"].split(":")[0]: schemas[name] for name in ("ProductLineIn", "AdHocLineIn")}
    assert kinds["Catalogue line"]["required"] == ["product_id", "quantity"]
    assert set(kinds["Ad-hoc line"]["required"]) == {"product_name", "unit_price", "quantity"}
    for kind in kinds.values():
        assert kind["additionalProperties"] is False
    assert "product_id" not in kinds["Ad-hoc line"]["properties"]
    assert not {"product_name", "unit_price"} & set(kinds["Catalogue line"]["properties"])


@pytest.mark.parametrize("name", ["OrderPatch", "ProductPatch", "UserPatchIn"])
def test_patches_need_a_field(schemas, name):
    assert schemas[name]["minProperties"] == 1


def test_money_is_documented_as_exact_strings(schemas):
    total = schemas["OrderOut"]["properties"]["total"]
    assert total["type"] == "string" and total["pattern"] == r"^-?[0-9]+\.[0-9]{2}$"
    price = schemas["AdHocLineIn"]["properties"]["unit_price"]
    assert {variant["type"] for variant in price["oneOf"]} == {"string", "number"}


def test_problem_members_specific_to_a_code_are_documented(schemas):
    problem = schemas["Problem"]
    assert {"code", "errors", "request_id", "order_id"} <= set(problem["properties"])
    assert problem["additionalProperties"] is True


def test_health_is_documented(client):
    health = client.get("/openapi.json").json["paths"]["/health"]["get"]
    assert {"200", "503"} <= set(health["responses"])
