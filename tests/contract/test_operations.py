"""Every operation of /openapi.json has a stable, readable operationId and documents the statuses it
can answer, so generated SDKs have named calls and typed errors.

A route added without `@blp.doc(operationId="verbNoun")` fails here: pick a camelCase verb + noun
(createOrder, listOrders, getProductsReport) and never rename a published one.
"""

from __future__ import annotations

import re

import pytest

from app.errors import PROBLEM_MIMETYPE
from tests.constants import LOGIN

METHODS = ("get", "post", "put", "patch", "delete")
OPERATION_ID = re.compile(r"^[a-z][a-zA-Z0-9]+$")

# The published names: renaming one breaks every generated client, so it must fail a test.
PUBLISHED = {
    ("post", "/api/v1/auth/login"): "login",
    ("post", "/api/v1/auth/refresh"): "refreshToken",
    ("post", "/api/v1/auth/logout"): "logout",
    ("get", "/api/v1/auth/me"): "getCurrentUser",
    ("get", "/api/v1/users"): "listUsers",
    ("post", "/api/v1/users"): "createUser",
    ("get", "/api/v1/users/{user_id}"): "getUser",
    ("patch", "/api/v1/users/{user_id}"): "updateUser",
    ("delete", "/api/v1/users/{user_id}"): "deleteUser",
    ("get", "/api/v1/products"): "listProducts",
    ("post", "/api/v1/products"): "createProduct",
    ("get", "/api/v1/products/{product_id}"): "getProduct",
    ("patch", "/api/v1/products/{product_id}"): "updateProduct",
    ("delete", "/api/v1/products/{product_id}"): "deleteProduct",
    ("get", "/api/v1/orders"): "listOrders",
    ("post", "/api/v1/orders"): "createOrder",
    ("post", "/api/v1/orders/batch"): "syncOrderBatch",
    ("get", "/api/v1/orders/{order_id}"): "getOrder",
    ("patch", "/api/v1/orders/{order_id}"): "updateOrder",
    ("post", "/api/v1/orders/{order_id}/items"): "appendOrderItems",
    ("delete", "/api/v1/orders/{order_id}/items/{item_id}"): "voidOrderItem",
    ("post", "/api/v1/orders/{order_id}/close"): "closeOrder",
    ("post", "/api/v1/orders/{order_id}/cancel"): "cancelOrder",
    ("get", "/api/v1/reports/products"): "getProductsReport",
    ("get", "/api/v1/reports/waiters"): "getWaitersReport",
    ("get", "/api/v1/reports/sales"): "getSalesReport",
    ("get", "/health"): "getHealth",
}


@pytest.fixture
def operations(client) -> dict[tuple[str, str], dict]:
    spec = client.get("/openapi.json").json
    return {
        (method, path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_every_operation_has_a_readable_unique_operation_id(operations):
    missing = [f"{method.upper()} {path}" for (method, path), op in operations.items() if not op.get("operationId")]
    assert not missing, f"add @blp.doc(operationId=...) to: {missing}"
    ids = [op["operationId"] for op in operations.values()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert all(OPERATION_ID.match(i) for i in ids), [i for i in ids if not OPERATION_ID.match(i)]


def test_published_operation_ids_never_change(operations):
    current = {key: op.get("operationId") for key, op in operations.items() if key in PUBLISHED}
    assert current == PUBLISHED


def test_no_catch_all_default_response(operations):
    for key, operation in operations.items():
        assert "default" not in operation["responses"], key


def test_every_operation_documents_server_errors_and_validation(operations):
    for key, operation in operations.items():
        assert {"422", "500", "503"} <= set(operation["responses"]), key
        if operation.get("security"):
            assert "401" in operation["responses"], key
        if "{" in key[1]:
            assert "404" in operation["responses"], key


def test_error_answers_are_problem_json(client):
    spec = client.get("/openapi.json").json
    responses = spec["components"]["responses"]
    for (_method, _path), operation in _operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                resolved = responses[response["$ref"].rsplit("/", 1)[1]] if "$ref" in response else response
                assert list(resolved["content"]) == [PROBLEM_MIMETYPE], (_method, _path, status)
    assert "Retry-After" in responses["SERVICE_UNAVAILABLE"]["headers"]


def test_login_documents_its_rate_limit(operations):
    login = operations[("post", LOGIN)]
    assert "Retry-After" in login["responses"]["429"]["headers"]
    unlimited = [key for key, op in operations.items() if "429" not in op["responses"]]
    assert unlimited == [("get", "/health")]  # every /api/ operation is rate limited (tests/auth/test_rate_limits.py)
    assert "Retry-After" in operations[("post", "/api/v1/auth/approvals")]["responses"]["429"]["headers"]


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield (method, path), operation


def test_links_lead_from_created_resources_to_existing_operations(operations):
    ids = {op["operationId"] for op in operations.values()}
    created_order = operations[("post", "/api/v1/orders")]["responses"]["201"]["links"]
    assert {"getOrder", "appendOrderItems", "closeOrder", "cancelOrder", "voidOrderItem"} <= set(created_order)
    assert created_order["voidOrderItem"]["parameters"] == {"order_id": "$response.body#/id",
                                                            "item_id": "$response.body#/items/0/id"}
    for key, operation in operations.items():
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in ids, (key, link)
    assert "x-comanda-links" not in str(operations)
