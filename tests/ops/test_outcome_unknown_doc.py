"""504 outcome_unknown is documented where it can happen (writes), with what the client must do."""

from __future__ import annotations

METHODS = {"get", "post", "put", "patch", "delete"}


def test_every_write_documents_504_outcome_unknown_and_reads_do_not(client):
    spec = client.get("/openapi.json").get_json()
    component = spec["components"]["responses"]["GATEWAY_TIMEOUT"]
    assert "outcome_unknown" in component["description"]
    assert "Idempotency-Key" in component["description"] and "client_order_id" in component["description"]
    assert "Retry-After" in component["headers"]
    writes = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            if method == "get":
                assert "504" not in operation["responses"], (method, path)
            else:
                writes += 1
                ref = {"$ref": "#/components/responses/GATEWAY_TIMEOUT"}
                assert operation["responses"]["504"] == ref, (method, path)
    assert writes > 10
    assert "outcome_unknown" in spec["info"]["description"]
