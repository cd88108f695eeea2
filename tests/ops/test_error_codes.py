"""One catalogue of error codes (app/errors.py ErrorCode), used by the handlers, the OpenAPI and batch results."""

from __future__ import annotations

import re

from app.errors import APIError, ErrorCode
from tests.constants import BATCH

CODE_IN_TEXT = re.compile(r"`([a-z]+(?:_[a-z]+)+|[a-z]+)`")


def all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *all_subclasses(sub)}
    return found


def test_every_api_error_carries_a_catalogued_code(app):
    for error in all_subclasses(APIError) | {APIError}:
        assert isinstance(error.code, ErrorCode), error


def test_the_openapi_documents_only_catalogued_codes(client):
    spec = client.get("/openapi.json").get_json()
    problem = spec["components"]["schemas"]["Problem"]["properties"]["code"]
    assert set(problem["enum"]) == {code.value for code in ErrorCode}
    descriptions = [r["description"] for r in spec["components"]["responses"].values()]
    for path in spec["paths"].values():
        for operation in (o for o in path.values() if isinstance(o, dict)):
            for status, response in operation.get("responses", {}).items():
                if str(status)[0] in "45" and isinstance(response, dict) and "description" in response:
                    descriptions.append(response["description"])
    catalogue = {code.value for code in ErrorCode}
    named = {m for text in descriptions for m in CODE_IN_TEXT.findall(text) if "_" in m or m in catalogue}
    named -= {"client_order_id", "order_id", "current_version", "location_id", "location_ids", "drawer_session_id",
              "pay_out", "void_sent_item", "drawer_variance"}  # body members and approval actions, not codes
    assert named - catalogue == set()
    assert {"validation_error", "order_not_open", "duplicate_email"} <= named


def test_a_rejected_batch_order_uses_a_catalogued_code(client, factory):
    waiter = factory.role_headers("waiter")
    response = client.post(BATCH, json={"orders": [{"client_order_id": "b-1"}]}, headers=waiter)
    assert response.status_code == 200, response.get_json()  # API.md: a batch answers 200 with per-order results
    error = response.get_json()["results"][0]["error"]
    assert error["code"] == ErrorCode.VALIDATION_ERROR
