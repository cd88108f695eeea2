"""Unknown query parameters are 422 on every endpoint, in one place (app/web/query.py)."""

from __future__ import annotations

import pytest

from tests.constants import PROBLEM, PRODUCTS

# Each endpoint with one parameter it declares.
LISTS_AND_REPORTS = [
    "/api/v1/users?limit=5",
    "/api/v1/products?limit=5",
    "/api/v1/orders?limit=5",
    "/api/v1/reports/products?limit=5",
    "/api/v1/reports/waiters?start_date=2026-11-01",
    "/api/v1/reports/sales?start_date=2026-11-01",
]


@pytest.mark.parametrize("path", LISTS_AND_REPORTS)
def test_an_unknown_parameter_is_422_naming_it(client, factory, path):
    admin = factory.role_headers("admin")
    response = client.get(f"{path}&colour=red&zz=1", headers=admin)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert response.mimetype == PROBLEM
    assert body["code"] == "validation_error"
    assert body["errors"] == {"colour": ["Unknown field."], "zz": ["Unknown field."]}


@pytest.mark.parametrize("path", LISTS_AND_REPORTS)
def test_declared_parameters_still_pass(client, factory, path):
    admin = factory.role_headers("admin")
    assert client.get(path, headers=admin).status_code == 200


def test_an_endpoint_without_query_parameters_refuses_any(client, factory):
    admin = factory.role_headers("admin")
    product = factory.make_product()
    assert client.get(f"/api/v1/products/{product.id}", headers=admin).status_code == 200
    response = client.get(f"/api/v1/products/{product.id}?expand=all", headers=admin)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"expand": ["Unknown field."]}
    assert client.get("/health?verbose=1").status_code == 422


def test_nothing_is_written_when_a_post_has_an_unknown_parameter(client, factory):
    admin = factory.role_headers("admin")
    before = client.get(PRODUCTS, headers=admin).get_json()["data"]
    response = client.post("/api/v1/products?dry_run=1", json={"name": "Tea", "price": "2.00"}, headers=admin)
    assert response.status_code == 422
    assert client.get(PRODUCTS, headers=admin).get_json()["data"] == before


def test_the_docs_are_not_policed(client):
    assert client.get("/openapi.json?x=1").status_code == 200
