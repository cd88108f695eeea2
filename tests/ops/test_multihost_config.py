"""Multi-host DATABASE_URL (libpq host lists, target_session_attrs) and REPORTS_DATABASE_URL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import ConfigError, load_config, normalize_database_url

ROOT = Path(__file__).resolve().parents[2]


def libpq_args(url: str) -> dict:
    engine = sa.create_engine(url)
    try:
        return engine.dialect.create_connect_args(engine.url)[1]
    finally:
        engine.dispose()


def test_multi_host_url_reaches_libpq_as_host_and_port_lists():
    url = normalize_database_url("postgresql://u:pw@10.0.0.1:5432,db2:5433/comanda?target_session_attrs=read-write")
    args = libpq_args(url)
    assert args["host"] == "10.0.0.1,db2"
    assert args["port"] == "5432,5433"
    assert args["target_session_attrs"] == "read-write"
    assert (args["dbname"], args["user"], args["password"]) == ("comanda", "u", "pw")


def test_single_host_url_is_unchanged():
    assert normalize_database_url("postgresql://u@h:5432/db?sslmode=require") == (
        "postgresql+psycopg2://u@h:5432/db?sslmode=require"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u@h1:5432,,h2/db?target_session_attrs=read-write", "malformed host"),
        ("postgresql://u@h1:54x2,h2/db?target_session_attrs=read-write", "malformed host"),
        ("postgresql://u@h1:99999,h2/db?target_session_attrs=read-write", "malformed host"),
        ("postgresql://u@h1,h2/db?target_session_attrs=master", "target_session_attrs must be one of"),
        ("postgresql://u@h/db?target_session_attrs=readwrite", "target_session_attrs must be one of"),
        # Several hosts without read-write would let writes land on a replica.
        ("postgresql://u@h1,h2/db", "target_session_attrs=read-write"),
        ("postgresql://u@h1,h2/db?target_session_attrs=any", "target_session_attrs=read-write"),
    ],
)
def test_bad_multi_host_urls_are_refused(url, message):
    with pytest.raises(ConfigError, match=message):
        normalize_database_url(url)


def test_reports_url_is_checked_and_may_target_a_standby(monkeypatch):
    monkeypatch.setenv("REPORTS_DATABASE_URL", "postgresql://u@r1:5432,r2:5432/db?target_session_attrs=prefer-standby")
    cfg = load_config("testing")
    assert libpq_args(cfg.REPORTS_DATABASE_URL)["target_session_attrs"] == "prefer-standby"
    assert cfg.REPORTS_MAX_LAG_SECONDS == 30
    monkeypatch.setenv("REPORTS_DATABASE_URL", "postgresql://u@r1/db?target_session_attrs=replica")
    with pytest.raises(ConfigError, match="REPORTS_DATABASE_URL"):
        load_config("testing")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@h1:5432,h2:5433/db?target_session_attrs=leader",
        "postgresql://u@h1:5432,:5433/db?target_session_attrs=read-write",
    ],
)
def test_startup_stops_with_one_clear_line(tmp_path, url):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "COMANDA_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "JWT_SECRET_KEY": "j" * 40,
        "DATABASE_URL": url,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("config.ConfigError: DATABASE_URL"), result.stderr
