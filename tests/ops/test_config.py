"""Configuration: environments, refusal to start without secrets, URL normalization."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, DevelopmentConfig, load_config, normalize_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg2://u:p@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg2://u@h:5432/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_use_psycopg2(url, expected):
    assert normalize_database_url(url) == expected


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL", "COMANDA_ENV", "BUSINESS_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("missing", ["SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_missing_settings(clean_env, missing):
    values = {"SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40, "DATABASE_URL": "postgresql://u@h/db"}
    for name, value in values.items():
        if name != missing:
            clean_env.setenv(name, value)
    with pytest.raises(ConfigError, match=missing):
        load_config("production")


def test_production_refuses_short_jwt_secret(clean_env):
    clean_env.setenv("SECRET_KEY", "s" * 40)
    clean_env.setenv("JWT_SECRET_KEY", "short")
    clean_env.setenv("DATABASE_URL", "postgresql://u@h/db")
    with pytest.raises(ConfigError, match="32 bytes"):
        load_config("production")


def test_production_config_engine_options(clean_env):
    clean_env.setenv("SECRET_KEY", "s" * 40)
    clean_env.setenv("JWT_SECRET_KEY", "j" * 40)
    clean_env.setenv("DATABASE_URL", "postgres://u@h/db")
    cfg = load_config("production")
    assert cfg.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg2://u@h/db"
    options = cfg.SQLALCHEMY_ENGINE_OPTIONS
    assert options["pool_pre_ping"] is True
    assert options["connect_args"]["connect_timeout"] == 3
    assert "statement_timeout=15000" in options["connect_args"]["options"]
    assert cfg.LOG_FORMAT == "json"


def test_bad_business_settings_are_refused(clean_env):
    clean_env.setenv("BUSINESS_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError, match="BUSINESS_TIMEZONE"):
        load_config("testing")
    with pytest.raises(ConfigError, match="COMANDA_ENV"):
        load_config("staging")


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posix/America/Mexico_City", "right/UTC"])
def test_host_zone_aliases_are_not_business_time_zones(clean_env, zone):
    clean_env.setenv("BUSINESS_TIMEZONE", zone)
    with pytest.raises(ConfigError, match="BUSINESS_TIMEZONE"):
        load_config("testing")


def test_development_needs_no_configuration(clean_env, tmp_path):
    cfg = DevelopmentConfig()
    assert cfg.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///") and "instance" in cfg.SQLALCHEMY_DATABASE_URI
    assert cfg.SECRET_KEY and len(cfg.JWT_SECRET_KEY) >= 32
    assert DevelopmentConfig().JWT_SECRET_KEY == cfg.JWT_SECRET_KEY  # generated once, kept in instance/


def test_production_app_exits_with_one_line_reason(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "COMANDA_ENV": "production", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "production needs SECRET_KEY, JWT_SECRET_KEY, DATABASE_URL" in result.stderr
