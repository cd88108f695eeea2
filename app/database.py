"""Engine-level settings that differ per backend."""

from __future__ import annotations

from flask import Flask, has_request_context, request
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
        # A deferred BEGIN that reads and then writes gets SQLITE_BUSY at once (no busy wait) when
        # another writer went first; BEGIN IMMEDIATE takes the write lock up front, so a concurrent
        # writer waits its turn (busy_timeout) instead. Reading requests keep a plain BEGIN and,
        # under WAL, never wait for writers.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes_expected() else "BEGIN")


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def writes_expected() -> bool:
    """Whether the current unit of work is a request that may write (any method but GET/HEAD/OPTIONS).
    Work outside a request (CLI commands, one at a time) keeps SQLite's deferred BEGIN."""
    return has_request_context() and request.method not in READ_ONLY_METHODS


def dialect_name() -> str:
    """'postgresql' or 'sqlite' for the bound engine."""
    return db.session.get_bind().dialect.name


def insert_for_dialect(table):
    """INSERT construct of the current dialect, so ON CONFLICT is available on both backends."""
    if dialect_name() == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
