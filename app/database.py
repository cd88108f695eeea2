"""Engine-level settings that differ per backend, and the deadline on every PostgreSQL wait."""

from __future__ import annotations

import contextvars
import math
import select
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Flask, current_app, has_app_context, has_request_context, request
from psycopg2 import OperationalError as PsycopgOperationalError
from psycopg2 import extensions
from sqlalchemy import Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import make_transient_to_detached

from app.extensions import db
from app.leader import LEADER_GUARD, install_leader_guard

_unbounded = contextvars.ContextVar("comanda_unbounded_db_waits", default=False)


def register_database_events(app: Flask) -> None:
    """SQLite: foreign keys, WAL, a busy wait and working savepoints. PostgreSQL: connect args
    (config.py), the response deadline below and the leader and replication guards (app/leader.py)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        install_response_deadline()
        install_idle_ping(app, engine)
        guard = install_leader_guard(engine, app.config.get("DATABASE_PATRONI_URLS") or [])
        if guard is not None:
            app.extensions[LEADER_GUARD] = guard
        return
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


def insert_returning(model, stmt, params: dict | list[dict]) -> list:
    """Run a Core `INSERT ... RETURNING <every column of model's table>` (one row or an executemany,
    which SQLAlchemy sends as one multi-row statement on both backends) and return the inserted rows as
    persistent `model` objects, every column loaded and nothing to flush: the write path answers from
    what the database returned without reading it again, and without the ORM's per-request work on
    the statement (a Core statement with bound parameters compiles once)."""
    objects = []
    for row in db.session.execute(stmt, params):
        obj = model(**row._mapping)
        make_transient_to_detached(obj)
        db.session.add(obj)
        objects.append(obj)
    return objects


# -- a silent PostgreSQL ----------------------------------------------------------------------------
# A server that refuses connections fails at once; a server that hangs (SIGSTOP, a stuck disk, a
# frozen VM) keeps its kernel answering TCP, so neither keepalives nor tcp_user_timeout nor the
# server-side statement_timeout ever fire, and libpq would wait forever. psycopg2's wait callback
# (its documented hook for cooperative I/O) lets the client wait with a deadline instead. When the
# deadline passes, psycopg2 closes the connection and the caller gets an OperationalError, which
# SQLAlchemy treats as a disconnect (the pooled connection is dropped); app/http.py then decides
# whether that is a 503 (nothing committed) or a 504 (COMMIT sent, outcome unknown).


class DatabaseTimeout(PsycopgOperationalError):
    """Raised inside psycopg2's wait: the server did not answer in time (psycopg2 closes the connection)."""


def install_response_deadline() -> None:
    """Make every psycopg2 wait in this process go through `wait_with_deadline`."""
    if extensions.get_wait_callback() is not wait_with_deadline:
        extensions.set_wait_callback(wait_with_deadline)


def wait_deadline_seconds(conn: Any) -> float | None:
    """How long this wait may take: None for no bound.

    - connecting: `connect_timeout` from the DSN (what libpq enforces itself without a callback);
    - outside a transaction (BEGIN, the pool's pre-ping `SELECT 1`): DB_CONNECT_TIMEOUT, since a
      healthy server answers those at once;
    - inside a transaction (statements, COMMIT, ROLLBACK): DB_RESPONSE_TIMEOUT_MS, which is longer
      than the server's statement_timeout;
    - outside an app context (scripts, the tests' own connections) or inside `unbounded_waits()`
      (the report maintenance, which also lifts its statement timeout): no bound, as without
      this hook. CLI commands such as `flask db upgrade` run in an app context: bounded like
      requests, and still after the server's statement_timeout.

    The wait callback is process-wide, so a psycopg2 connection in a process that created the app
    cannot use COPY (psycopg2 refuses it in this mode) outside `without_wait_callback()`.
    """
    if conn.status == extensions.STATUS_SETUP:
        raw = extensions.parse_dsn(conn.dsn).get("connect_timeout")
        return float(raw) if raw and float(raw) > 0 else None
    if _unbounded.get() or not has_app_context():
        return None
    config = current_app.config
    if conn.status == extensions.STATUS_READY:
        return float(config["DB_CONNECT_TIMEOUT"])
    return config["DB_RESPONSE_TIMEOUT_MS"] / 1000


# -- a frozen server, told apart from a slow statement ---------------------------------------------
# The response deadline above must outlast the statement timeout that long reports need, so on its own
# it would hold every request for ~17 s while the server is frozen. A frozen server answers nothing,
# not even a new session; a slow statement's server does. So a wait with no answer after
# DB_FREEZE_CHECK_MS asks for a new session on the same host (a liveness probe): any answer within
# DB_PROBE_TIMEOUT_MS (even an error such as "too many clients") means the server is alive and the wait
# goes on; none means frozen, and the wait ends at once. The process then remembers the silence: for
# the next DB_FREEZE_CHECK_MS every wait fails at once, after that one wait at a time is a trial with
# the probe's bound, and the first answer clears it. One backend frozen alone (a stuck lock, a stuck
# disk write) still gets the full response deadline, since the server itself answers probes.


@dataclass
class Silence:
    """This process's view of one server (one DSN): since when it is silent (monotonic; None when it
    answers), when it was last found silent, and the lock the one trial at a time holds."""

    since: float | None = None
    last: float = 0.0
    trial: threading.Lock = field(default_factory=threading.Lock)


_silences: dict[str, Silence] = {}
_probing = contextvars.ContextVar("comanda_db_probing", default=False)
_deadline_at: contextvars.ContextVar[float | None] = contextvars.ContextVar("comanda_db_deadline_at", default=None)


def silence_of(conn: Any) -> Silence:
    """The silence record of the server `conn` talks to (created on first use; a dict write is atomic)."""
    record = _silences.get(conn.dsn)
    if record is None:
        record = _silences.setdefault(conn.dsn, Silence())
    return record


def _found_silent(silence: Silence, now: float) -> None:
    silence.since = silence.since or now
    silence.last = now


def server_answers(conn: Any, timeout: float) -> bool:
    """Whether the host `conn` is connected to opens a new session within `timeout` seconds."""
    params = {k: v for k, v in conn.get_dsn_parameters().items() if k != "target_session_attrs"}
    params.update(host=conn.info.host, port=str(conn.info.port), application_name="comanda-probe",
                  connect_timeout=str(max(2, math.ceil(timeout))))
    if conn.info.password:
        params["password"] = conn.info.password
    token = _probing.set(True)
    try:
        import psycopg2

        probe = psycopg2.connect(**params)
    except DatabaseTimeout:
        return False
    except PsycopgOperationalError:
        return True  # the server answered, if only to refuse: it is not frozen
    finally:
        _probing.reset(token)
    probe.close()
    return True


def wait_with_deadline(conn: Any) -> None:
    """psycopg2 wait callback: poll the connection until done, or raise after the deadline or when the
    server is found frozen (see above)."""
    now = time.monotonic()
    limit = wait_deadline_seconds(conn)
    check_every, trial, held = None, False, False
    overall = _deadline_at.get()
    if _probing.get():
        limit = current_app.config["DB_PROBE_TIMEOUT_MS"] / 1000 if has_app_context() else limit
        if overall is not None and limit is not None:
            limit = max(0.0, min(limit, overall - now))
    elif limit is not None and has_app_context():
        config = current_app.config
        check_every = config["DB_FREEZE_CHECK_MS"] / 1000
        # A new session that gets no answer is a failed probe in itself.
        trial = conn.status == extensions.STATUS_SETUP
        silence = silence_of(conn)
        if silence.since is not None:
            # One wait at a time (per process), at most once per DB_FREEZE_CHECK_MS, tries the server
            # again, bounded like a connect; every other wait fails at once. A thawed server is not
            # buried under every worker's retries. /health follows the same rule: while this process
            # found the server silent less than DB_FREEZE_CHECK_MS ago it answers 503 at once, instead
            # of spending its whole bound on a question whose answer is a second old.
            if now - silence.last < check_every or not silence.trial.acquire(blocking=False):
                raise DatabaseTimeout(f"the database has not answered for {now - silence.since:.1f}s")
            held = True
            limit, trial = min(limit, float(config["DB_CONNECT_TIMEOUT"])), True
        if overall is not None:
            limit = max(0.0, min(limit, overall - now))
    deadline = None if limit is None else now + limit
    # A trial (a connect, or the one retry while silent) is a probe itself: nothing to ask besides.
    next_check = None if check_every is None or trial else now + check_every
    try:
        while True:
            state = conn.poll()
            if state == extensions.POLL_OK:
                if check_every is not None:
                    silence_of(conn).since = None
                return
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                # Only a trial tells silence: a long wait whose probes were answered is one slow backend.
                if trial:
                    _found_silent(silence_of(conn), now)
                raise DatabaseTimeout(f"the database did not answer within {limit:g}s")
            if next_check is not None and now >= next_check:
                if not server_answers(conn, current_app.config["DB_PROBE_TIMEOUT_MS"] / 1000):
                    _found_silent(silence_of(conn), time.monotonic())
                    raise DatabaseTimeout("the database stopped answering (a new session got no answer either)")
                now = time.monotonic()
                next_check = now + (check_every or 0)
            remaining = [t - now for t in (deadline, next_check) if t is not None]
            timeout = max(0.0, min(remaining)) if remaining else None
            fileno = conn.fileno()
            if state == extensions.POLL_READ:
                select.select([fileno], [], [], timeout)
            elif state == extensions.POLL_WRITE:
                select.select([], [fileno], [], timeout)
            else:
                raise extensions.OperationalError(f"bad state from poll: {state}")
    finally:
        if held:
            silence_of(conn).trial.release()


@contextmanager
def answer_within(seconds: float) -> Iterator[None]:
    """Every database wait inside (pool ping, reconnect, statements) ends by `seconds` from now (PostgreSQL)."""
    token = _deadline_at.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline_at.reset(token)


@contextmanager
def unbounded_waits() -> Iterator[None]:
    """Long maintenance work: no client-side deadline while inside (PostgreSQL)."""
    token = _unbounded.set(True)
    try:
        yield
    finally:
        _unbounded.reset(token)


@contextmanager
def without_wait_callback() -> Iterator[None]:
    """No psycopg2 wait callback (so no response deadline either) while inside: psycopg2 refuses COPY
    under one. The callback is process-wide, so only for a command that has its process to itself
    (`flask seed --orders`, app/seed/bulk.py)."""
    previous = extensions.get_wait_callback()
    extensions.set_wait_callback(None)
    try:
        yield
    finally:
        extensions.set_wait_callback(previous)


def without_wait_deadline(func: Callable) -> Callable:
    """Decorator form of `unbounded_waits()`."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with unbounded_waits():
            return func(*args, **kwargs)

    return wrapper


# -- the pool's pre-ping, only after idle, behind a safe retry --------------------------------------
# `pool_pre_ping` costs every request a round trip (`SELECT 1`) before its BEGIN. Here the ping is
# sent only when the connection sat in the pool longer than DB_PING_AFTER_IDLE_MS; a busy worker's
# connection, used a moment ago, is trusted. If it died meanwhile (a restarted server, a killed
# backend), the request's first statement on it fails with a disconnect before anything was done:
# the connection was checked out unverified and nothing on it has succeeded, so no BEGIN was ever
# answered and nothing can have been written or committed. SQLAlchemy then drops it and every pooled
# connection older than the failure, and the request is run once more from the view (nothing of the
# first run is kept: its transaction is rolled back), on a new connection. Not retried: a failure
# after any statement succeeded on the connection (then the usual 503, or 504 after COMMIT), a
# client-side deadline (DatabaseTimeout: the fail-fast freeze logic above answers, not a retry),
# an autocommit connection, and a request that already committed something.

_ping_times: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()  # connection -> checked in at
_unverified: weakref.WeakSet[Any] = weakref.WeakSet()  # checked out without a ping, no statement done yet
# On the request (an app context, and so `g`, can outlive one request: tests, CLI):
STALE_RETRY = "comanda.stale_connection_retry"  # the failed request may run again
COMMITTED = "comanda.committed"  # this request committed a transaction


def install_idle_ping(app: Flask, engine: Engine) -> None:
    """Ping at checkout only after DB_PING_AFTER_IDLE_MS idle; re-run a view whose first statement met a
    dead connection (see above)."""
    if app.config.get("DB_PING_AFTER_IDLE_MS", 0) <= 0 or getattr(engine.dialect, "_comanda_idle_ping", False):
        return
    dialect = engine.dialect
    ping = dialect.do_ping

    def do_ping(dbapi_connection: Any) -> bool:
        checked_in = _ping_times.get(dbapi_connection)
        idle = current_app.config["DB_PING_AFTER_IDLE_MS"] / 1000 if has_app_context() else 0
        if checked_in is not None and time.monotonic() - checked_in < idle:
            _unverified.add(dbapi_connection)
            return True
        return ping(dbapi_connection)

    dialect.do_ping = do_ping  # type: ignore[method-assign]
    dialect._comanda_idle_ping = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, _record):
        if dbapi_connection is not None:
            _unverified.discard(dbapi_connection)
            _ping_times[dbapi_connection] = time.monotonic()

    @event.listens_for(engine, "after_cursor_execute")
    def _verified(conn, _cursor, _statement, _parameters, _context, _executemany):
        _unverified.discard(conn.connection.dbapi_connection)

    @event.listens_for(engine, "commit")
    def _committed(_conn):
        if has_request_context():
            request.environ[COMMITTED] = True

    @event.listens_for(engine, "handle_error")
    def _first_statement_failed(context):
        fairy = getattr(context.connection, "_dbapi_connection", None)
        dbapi_connection = getattr(fairy, "dbapi_connection", None)
        if (context.is_disconnect and dbapi_connection in _unverified and has_request_context()
                and not isinstance(context.original_exception, DatabaseTimeout)
                and not getattr(dbapi_connection, "autocommit", True) and not request.environ.get(COMMITTED)):
            request.environ[STALE_RETRY] = True
        if dbapi_connection is not None:
            _unverified.discard(dbapi_connection)

    dispatch = app.dispatch_request

    def dispatch_request() -> Any:
        try:
            return dispatch()
        except DBAPIError as exc:
            if not (exc.connection_invalidated and request.environ.pop(STALE_RETRY, False)):
                raise
        db.session.rollback()
        return dispatch()

    app.dispatch_request = dispatch_request  # type: ignore[method-assign]
