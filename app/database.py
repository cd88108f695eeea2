"""Engine-level settings that differ per backend."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


def register_database_events(app: Flask) -> None:
    """SQLite: foreign keys, WAL, a busy wait and working savepoints. PostgreSQL is set by connect args."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        # pysqlite's own BEGIN handling breaks SAVEPOINT; SQLAlchemy's documented recipe
        # turns it off and emits BEGIN itself (see the "begin" listener below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        conn.exec_driver_sql("BEGIN")


def dialect_name() -> str:
    """'postgresql' or 'sqlite' for the bound engine."""
    return db.session.get_bind().dialect.name


def insert_for_dialect(table):
    """INSERT construct of the current dialect, so ON CONFLICT is available on both backends."""
    if dialect_name() == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
