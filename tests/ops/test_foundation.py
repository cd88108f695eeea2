"""Health, docs, request ids and the problem+json envelope."""

from __future__ import annotations

import re

from tests.constants import PROBLEM


def test_health_ok(client):
    resp = client.get("/health")
    assert resp.status_code == 200
    assert resp.json["status"] == "ok" and resp.json["database"] == "ok"
    assert resp.json["version"]


def test_request_id_echoed_and_generated(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/health").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def test_unknown_route_is_problem_json(client):
    resp = client.get("/api/v1/nope", headers={"X-Request-ID": "rid-1"})
    assert resp.status_code == 404
    assert resp.mimetype == PROBLEM
    assert resp.json["code"] == "not_found"
    assert resp.json["request_id"] == "rid-1"
    assert resp.json["type"] == "about:blank" and resp.json["title"] == "Not Found"


def test_wrong_method_is_405_problem(client):
    resp = client.delete("/health")
    assert resp.status_code == 405
    assert resp.mimetype == PROBLEM and resp.json["code"] == "method_not_allowed"


def test_openapi_and_docs_offline(client):
    spec = client.get("/openapi.json")
    assert spec.status_code == 200 and spec.json["openapi"].startswith("3.")
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the docs page references no assets"
    for asset in assets:
        assert asset.startswith("/"), f"{asset} would be fetched from another host"
        assert client.get(asset).status_code == 200, asset
