"""The one problem+json envelope: 500 without internals, 503 when the database is down, logs."""

from __future__ import annotations

import json

from app import create_app
from tests.conftest import make_config
from tests.constants import PROBLEM, PRODUCTS

UNREACHABLE = "postgresql+psycopg2://postgres@127.0.0.1:1/nowhere"


def test_unhandled_exception_is_500_without_internals(tmp_path):
    app = create_app(make_config(f"sqlite:///{tmp_path / 'x.db'}"))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    resp = app.test_client().get("/boom", headers={"X-Request-ID": "boom-1"})
    assert resp.status_code == 500
    assert resp.mimetype == PROBLEM
    assert resp.json["code"] == "internal_error" and resp.json["request_id"] == "boom-1"
    assert "hunter2" not in resp.get_data(as_text=True) and "Traceback" not in resp.get_data(as_text=True)


def test_database_unreachable_is_503_with_retry_after():
    app = create_app(make_config(UNREACHABLE))
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 503
    assert health.mimetype == PROBLEM
    assert health.json["database"] == "unavailable" and health.json["code"] == "service_unavailable"
    assert int(health.headers["Retry-After"]) > 0
    with app.app_context():
        from flask_jwt_extended import create_access_token

        token = create_access_token(identity="1", additional_claims={"tv": 1})
    api = client.get(PRODUCTS, headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 503 and api.json["code"] == "service_unavailable"
    assert "127.0.0.1" not in api.get_data(as_text=True)


def test_json_request_log_line(tmp_path, capsys):
    cfg = make_config(f"sqlite:///{tmp_path / 'x.db'}", LOG_FORMAT="json")
    app = create_app(cfg)
    app.test_client().get("/nope", headers={"X-Request-ID": "log-1"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    entry = next(line for line in lines if line.get("request_id") == "log-1")
    assert entry["method"] == "GET" and entry["path"] == "/nope" and entry["status"] == 404
    assert entry["duration_ms"] >= 0 and entry["remote_addr"] == "127.0.0.1"
