"""Schema only through migrations: upgrade, downgrade to base, upgrade again; models agree."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from config import normalize_database_url
from tests.conftest import make_config


@pytest.fixture
def fresh_database(backend, tmp_path):
    """An empty database of the current backend, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'mig.db'}"
        return
    server = sa.create_engine(normalize_database_url(os.environ["TEST_DATABASE_URL"]), isolation_level="AUTOCOMMIT")
    name = f"comanda_mig_{uuid.uuid4().hex[:8]}"
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade_and_models_match(fresh_database):
    app = create_app(make_config(fresh_database))
    with app.app_context():
        upgrade()
        expected = {table.name for table in db.metadata.sorted_tables}
        assert tables(db.engine) == expected
        downgrade(revision="base")
        assert tables(db.engine) == set()
        upgrade()
        assert tables(db.engine) == expected
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        db.engine.dispose()
