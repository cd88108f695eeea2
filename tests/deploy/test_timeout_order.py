"""The layers give up in order: the app first, then gunicorn, then nginx.

A request stuck on a silent database must be answered by the app (503, or 504 outcome_unknown
after a COMMIT), which knows what happened, not cut off by gunicorn (a killed worker) or nginx (a
guess). So: DB_CONNECT_TIMEOUT + DB_RESPONSE_TIMEOUT_MS < gunicorn's timeout < nginx's
proxy_read_timeout, with the shipped defaults.
"""

from __future__ import annotations

import os
import re
import runpy
from unittest.mock import patch

from config import ProductionConfig
from tests.deploy.stack import GUNICORN_CONF, NGINX_CONF


def nginx_seconds(directive: str) -> float:
    values = re.findall(rf"^\s*{directive}\s+(\d+)s;", NGINX_CONF.read_text(), flags=re.M)
    assert len(values) == 1, f"{directive} should appear once in deploy/nginx.conf: {values}"
    return float(values[0])


def test_app_answers_before_gunicorn_and_nginx_give_up(monkeypatch):
    for name in ("GUNICORN_TIMEOUT", "DB_CONNECT_TIMEOUT", "DB_STATEMENT_TIMEOUT_MS", "DB_RESPONSE_TIMEOUT_MS"):
        monkeypatch.delenv(name, raising=False)
    cfg = ProductionConfig()
    app_bound = cfg.DB_CONNECT_TIMEOUT + cfg.DB_RESPONSE_TIMEOUT_MS / 1000
    assert cfg.DB_RESPONSE_TIMEOUT_MS > cfg.DB_STATEMENT_TIMEOUT_MS  # the server's own timeout fires first
    # gunicorn.conf.py writes DB_POOL_SIZE and DB_MAX_OVERFLOW (2 and 2, for a sync worker) into the
    # environment: restored afterwards, so they do not leak into every app created later in this process
    # (a fault test's nine threads once queued for a pool of 4).
    with patch.dict(os.environ):
        gunicorn_timeout = runpy.run_path(str(GUNICORN_CONF))["timeout"]
    assert app_bound < gunicorn_timeout < nginx_seconds("proxy_read_timeout"), (app_bound, gunicorn_timeout)
    assert gunicorn_timeout < nginx_seconds("proxy_send_timeout")


def test_postgres_connections_detect_a_dead_peer(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    connect_args = ProductionConfig().SQLALCHEMY_ENGINE_OPTIONS["connect_args"]
    assert connect_args["keepalives"] == 1
    assert connect_args["keepalives_idle"] + connect_args["keepalives_interval"] * connect_args["keepalives_count"] < 30
    assert connect_args["tcp_user_timeout"] == ProductionConfig().DB_RESPONSE_TIMEOUT_MS
