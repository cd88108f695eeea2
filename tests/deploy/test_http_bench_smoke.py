"""bench/http_bench.py's machinery, quickly: the baseline app under deploy/'s gunicorn and nginx,
driven by wrk with bench/orders.lua for 2 s, and the matching of 201 answers against the
database. No timing is asserted (benchmarks are not tests); PostgreSQL only, since the
baseline speaks psycopg2.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import shutil
import sys

import pytest

from tests.deploy.loopback import REPO, find_nginx, render_nginx_conf

pytestmark = [
    pytest.mark.skipif(find_nginx() is None, reason="nginx binary not found (apt-get install -y nginx)"),
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not found (apt-get install -y wrk)"),
]


def _http_bench():
    spec = importlib.util.spec_from_file_location("http_bench", REPO / "bench" / "http_bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("http_bench", module)
    spec.loader.exec_module(module)
    return module


def test_rendered_nginx_conf_can_be_sized_for_many_clients(tmp_path) -> None:
    conf = render_nginx_conf(tmp_path, 18001, 18002, worker_connections=4096).read_text()
    assert "worker_connections 4096;" in conf
    assert "listen 127.0.0.1:18001 default_server " in conf
    assert "server 127.0.0.1:18002;" in conf
    assert re.search(r"^\s*proxy_bind\s", conf, re.M) is None  # only when asked for
    assert re.search(r"^\s*proxy_bind\s", render_nginx_conf(tmp_path, 1, 2, "127.0.0.2").read_text(), re.M)


def test_order_body_switches_to_the_v11_fields() -> None:
    hb = _http_bench()
    catalogue = hb.Catalogue("w@x", [1, 2, 3], location_id=7)
    v1 = hb.order_body(catalogue, 0, "c-1")
    assert v1["client_order_id"] == "c-1" and len(v1["items"]) == 3
    assert "location_id" not in v1 and all("modifiers" not in line for line in v1["items"])
    v11 = hb.order_body(catalogue, 0, "c-2", ("location_id", "modifiers"))
    assert v11["location_id"] == 7
    assert [len(line.get("modifiers", [])) for line in v11["items"]] == [1, 0, 0]


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_baseline_under_wrk_answers_and_stores_the_same_orders(tmp_path) -> None:
    hb = _http_bench()
    server = os.environ["TEST_DATABASE_URL"]
    name = f"{hb.server_and_name(server)[1]}_smoke_{secrets.token_hex(3)}"
    url = hb.with_database(server, name)
    hb.admin_execute(server, f'CREATE DATABASE "{name}"')
    try:
        hb.flask(hb.app_env(url), "db", "upgrade")
        hb.query(url, """WITH u AS (INSERT INTO users (email, name, role, password_hash, active, token_version,
                                                       created_at, updated_at)
                                    VALUES ('w@smoke.local', 'W', 'waiter', 'x', true, 1, now(), now()) RETURNING id)
                         SELECT id FROM u""")
        products = [
            row[0]
            for row in hb.query(
                url,
                """INSERT INTO products (name, name_key, price_cents, active, created_at, updated_at)
                   SELECT 'P' || n, 'p' || n, 1000 + n, true, now(), now() FROM generate_series(1, 3) AS n
                   RETURNING id""",
            )
        ]
        env = hb.clean_env({"DATABASE_URL": url, "GUNICORN_WORKERS": "2"})
        with hb.stack("baseline", "bench.baseline_app:app", env, None) as stack:
            tag = f"smoke{secrets.token_hex(3)}"
            body = hb.order_body(hb.Catalogue("w@smoke.local", products), 0, tag)
            r = hb.run_wrk(stack, hb.Round("baseline", 8, 2, tag), body, None, 2, tmp_path)
            hb.drain(stack, limit=20)
            hb.reconcile(url, r)
            assert len(stack.worker_rss_mib()) == 2
        assert r.n201 > 0 and r.requests >= r.n201
        assert r.non_2xx == 0 and r.socket_errors == 0, (r.statuses, r.errors)
        assert r.lost == 0  # every 201 names an order that is in the database
        assert 0 <= r.unanswered <= r.connections  # at most the requests in flight when wrk stopped
        assert r.in_db == r.n201 + r.unanswered
        assert r.p50_ms > 0 and r.p99_ms >= r.p50_ms
    finally:
        hb.admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
