"""Fixtures, layered: app -> db -> client -> auth headers -> factories.

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too. The schema
comes from the migrations (never create_all), and each test ends by deleting every row.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db, limiter
from app.locations.services import ensure_default_location
from config import TestingConfig, normalize_database_url
from tests.helpers import clear_order_events

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def pytest_report_header(config):
    return f"database backends: {', '.join(BACKENDS)}"


def reset_postgres_schema(url: str) -> None:
    """Start from an empty public schema so the migrations build everything."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    except sa.exc.OperationalError as exc:  # fail loudly: CI must never skip PostgreSQL
        raise pytest.UsageError(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}") from exc
    finally:
        engine.dispose()


def make_config(url: str, **overrides) -> TestingConfig:
    cfg = TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url
    cfg.RATELIMIT_KEY_PREFIX = f"comanda-test-{uuid.uuid4().hex[:8]}"
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return cfg


def database_url(backend: str, tmp_path_factory) -> str:
    if backend == "postgresql":
        url = normalize_database_url(os.environ["TEST_DATABASE_URL"])
        reset_postgres_schema(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    """The application on one backend, schema built by `flask db upgrade`."""
    app = create_app(make_config(database_url(request.param, tmp_path_factory)))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def backend(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0].split("+", 1)[0]


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL-only concurrency test (this is the SQLite run; TEST_DATABASE_URL enables PostgreSQL)")


def delete_all_rows() -> None:
    db.session.rollback()
    with db.engine.begin() as conn:
        clear_order_events(conn)
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _isolate(request):
    """Each test gets an app context and leaves an empty database behind."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        ensure_default_location()  # what the migration makes; the previous test deleted it
        db.session.commit()
        yield
        delete_all_rows()
        db.session.remove()
        limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(app):
    from tests.factories import Factory

    return Factory()


def set_business_clock(app, timezone: str | None = None, starts_at: str | None = None) -> None:
    """The deployment's clock as v1 knew it (BUSINESS_TIMEZONE, BUSINESS_DAY_STARTS_AT) is, since v1.1,
    the default location's: set both (the caller restores the config; the rows go after the test)."""
    from app.models import Location

    if timezone is not None:
        app.config["BUSINESS_TIMEZONE"] = timezone
    if starts_at is not None:
        app.config["BUSINESS_DAY_STARTS_AT"] = starts_at
    location = ensure_default_location()
    location.timezone = app.config["BUSINESS_TIMEZONE"]
    location.day_starts_at = app.config["BUSINESS_DAY_STARTS_AT"]
    db.session.commit()
    assert isinstance(location, Location)


@pytest.fixture
def business_clock(app, monkeypatch):
    """business_clock("America/Mexico_City", "04:00"): the default location's clock for one test."""
    keys = ("BUSINESS_TIMEZONE", "BUSINESS_DAY_STARTS_AT")
    for key in keys:
        monkeypatch.setitem(app.config, key, app.config[key])  # restored after the test

    def configure(timezone: str | None = None, starts_at: str | None = None) -> None:
        set_business_clock(app, timezone, starts_at)

    return configure
