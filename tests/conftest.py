"""Fixtures, layered: app -> db -> client -> auth headers -> factories.

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too. The schema
comes from the migrations (never create_all), and each test ends by deleting every row.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db, limiter
from app.locations.services import ensure_default_location
from config import TestingConfig, normalize_database_url
from tests.constants import ORDERS
from tests.helpers import serving

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def pytest_report_header(config):
    return f"database backends: {', '.join(BACKENDS)}"


# What is slow by nature (pyproject.toml registers the markers): whole folders, single modules and single
# tests, named here in one place (so the test files themselves stay as they are), by path under tests/.
PATH_MARKS = {
    "deploy/": "deploy",  # real gunicorn, nginx, throwaway clusters
    "deploy/test_ha_": "ha",  # Patroni and etcd
    "ops/test_database_faults.py": "deploy",  # a throwaway PostgreSQL cluster, stopped and frozen
    "dashboard/test_browser.py": "browser",
    "dashboard/test_floor_browser.py": "browser",
    "dashboard/test_drawers_browser.py": "browser",
    "kitchen/test_browser.py": "browser",
    "orders/test_floor_property.py": "slow",
    "orders/test_payment_limits_property.py": "slow",
    "cash/test_drawer_property.py": "slow",
    "feed/test_worker_process.py": "slow",  # real worker processes, killed and restarted
    "contract/test_fuzz.py": "slow",  # schemathesis against a live server
    "contract/test_generated_clients.py": "slow",  # generates, type-checks and runs the clients
    "orders/test_pricing_property.py": "slow",  # long property runs
    "orders/test_money_property.py": "slow",
    "orders/test_check_property.py": "slow",
    "reports/test_exactness.py": "slow",
    "reports/test_months.py::test_months_stay_exact_through_compaction_late_changes_and_rebuilds": "slow",
    "reports/test_maintenance.py::test_compaction_is_exact_next_to_concurrent_writes": "slow",
    "ops/test_migrations.py": "slow",  # every migration down and up again
    "ops/test_locations_migration.py": "slow",
    "ops/test_check_migration.py": "slow",
    "ops/test_demo_seed.py": "slow",  # a month of demo orders (`flask seed`), seeded once for the module
    "ops/test_demo_seed_clock.py": "slow",  # 200 demo orders just after a day start
    "feed/test_webhooks.py::test_a_receiver_hanging_past_10_seconds_is_retried": "slow",  # a real 10 s hang
    "ops/test_seed_bulk.py::test_bulk_orders_read_exactly_like_the_same_orders_made_through_the_api": "slow",
    # Long sweeps and randomized runs (each 3-22 s of test time per backend on the 2-core machine):
    "auth/test_role_matrix.py::test_role_matrix": "slow",  # every route x 4 principals x home/away
    "orders/test_unit_of_work.py::test_a_random_walk_over_every_order_route_keeps_versions_and_rollups": "slow",
    "feed/test_feed_dump.py": "slow",  # hypothesis, 300 examples
    "feed/test_feed_concurrency.py::test_twenty_concurrent_writers_and_a_tailing_reader_see_every_event_once": "slow",
    "orders/test_floor_concurrency.py::test_a_merge_racing_a_payment_on_the_source_never_both": "slow",
    "ops/test_till_migration.py": "slow",  # a migration down and up again over data
}


def pytest_collection_modifyitems(config, items):
    tests_dir = Path(__file__).parent
    for item in items:
        try:
            where = Path(item.path).relative_to(tests_dir).as_posix()
        except ValueError:
            continue
        name = f"{where}::{item.originalname}"
        for prefix, mark in PATH_MARKS.items():
            if where.startswith(prefix) or name == prefix:
                item.add_marker(mark)


def reset_postgres_schema(url: str) -> None:
    """Start from an empty public schema so the migrations build everything.

    The test database also gets `synchronous_commit = off` (every later connection to it, the app's and
    its subprocesses'): a commit no longer waits for its WAL to reach the disk. Only durability across a
    crash of the server changes, which no test here relies on (the fault tests use their own clusters);
    what a commit makes visible, and when, is the same."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
            name = conn.scalar(sa.text("SELECT current_database()"))
            conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))  # noqa: S608
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


def worker_database(url: str) -> str:
    """Under pytest-xdist (`make test-fast` runs two workers) each worker has its own database on the
    TEST_DATABASE_URL server, `<name>_gw0`, `<name>_gw1`, ..., made on first use; alone, the URL itself."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    # Asked of the server's `postgres` database, so the URL's own database need not exist.
    engine = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))  # noqa: S608 (our own name)
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def database_url(backend: str, tmp_path_factory) -> str:
    if backend == "postgresql":
        url = worker_database(normalize_database_url(os.environ["TEST_DATABASE_URL"]))
        reset_postgres_schema(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _sqlite_without_fsync(dbapi_connection, _record) -> None:
    """The test's SQLite file is thrown away: commits need not reach the disk (visibility is unchanged)."""
    dbapi_connection.execute("PRAGMA synchronous=OFF")


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    """The application on one backend, schema built by `flask db upgrade`."""
    app = create_app(make_config(database_url(request.param, tmp_path_factory)))
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sa.event.listen(db.engine, "connect", _sqlite_without_fsync)
        upgrade()
        CLEANUP[db.engine] = cleanup_statements()
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


# Per engine, what empties every table (cleanup_statements), worked out once after the migrations.
CLEANUP: dict[sa.Engine, list[str]] = {}


def cleanup_statements() -> list[str]:
    """DELETE FROM every table, children first. On PostgreSQL the append-only tables' triggers refuse
    DELETE (order_events, feed_events): one script, one round trip, switches the tables' own triggers off,
    deletes, and switches them on again, all in one transaction, so no other session ever sees them off.
    (TRUNCATE, the other way past them, makes new files for every table and index it touches: it cost
    more than the rest of a test's teardown.)"""
    deletes = [f'DELETE FROM "{table.name}"' for table in reversed(db.metadata.sorted_tables)]  # noqa: S608 (our own table names)
    if db.engine.dialect.name != "postgresql":
        return deletes
    with db.engine.connect() as conn:
        guarded = conn.scalars(sa.text(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND n.nspname = current_schema() ORDER BY 1")).all()
    off = [f'ALTER TABLE "{name}" DISABLE TRIGGER USER' for name in guarded]
    on = [f'ALTER TABLE "{name}" ENABLE TRIGGER USER' for name in guarded]
    return ["; ".join(off + deletes + on)]


def delete_all_rows() -> None:
    db.session.rollback()
    statements = CLEANUP.get(db.engine) or cleanup_statements()
    with db.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


@pytest.fixture(autouse=True)
def _isolate(request):
    """Each test gets an app context and leaves an empty database behind (a test on the shared
    `demo_month` leaves it to that fixture, which empties the database when its module is done)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        ensure_default_location()  # what the migration makes; the previous test deleted it
        db.session.commit()
        yield
        if "demo_month" not in request.fixturenames:
            delete_all_rows()
        db.session.remove()
        limiter.reset()


@pytest.fixture(scope="module")
def demo_month(app):
    """`flask seed` once per module and backend (a month of demo orders takes seconds): the tests that ask
    for it share the seeded database and only read it (or seed again, which changes nothing). Its output."""
    with app.app_context():
        ensure_default_location()
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["seed"])
        assert result.exit_code == 0, result.output
        db.session.remove()
    yield result.output
    with app.app_context():
        delete_all_rows()
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(app):
    from tests.factories import Factory

    return Factory()


@pytest.fixture
def live_server(app):
    """The app over real HTTP for the test (tests.helpers.LiveServer: .url, .port, .faults)."""
    with serving(app) as server:
        yield server


# The people and the menu most tests need. A fixture name means one thing everywhere: `waiter`,
# `other_waiter`, `manager` and `admin` are User rows (headers: factory.headers(user)), `menu` is a dict
# of three products by short name.
@pytest.fixture
def waiter(factory):
    return factory.make_user("waiter", name="Luis")


@pytest.fixture
def other_waiter(factory):
    return factory.make_user("waiter", name="Ana")


@pytest.fixture
def manager(factory):
    return factory.make_user("manager", name="Marta")


@pytest.fixture
def admin(factory):
    return factory.make_user("admin", name="Root")


@pytest.fixture
def menu(factory):
    return {
        "taco": factory.make_product("Taco al pastor", "25.00"),
        "agua": factory.make_product("Agua de horchata", "25.50"),
        "mole": factory.make_product("Mole poblano", "140.00"),
    }


@pytest.fixture
def place(client, factory):
    """POST an order as `user` and return the JSON (asserting 201)."""

    def _place(user, items, **fields):
        body = {"customer_name": "Ana", "items": items, **fields}
        resp = client.post(ORDERS, json=body, headers=factory.headers(user))
        assert resp.status_code == 201, resp.json
        return resp.json

    return _place


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
