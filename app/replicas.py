"""Where report reads go: a replica (REPORTS_DATABASE_URL) when it is up and fresh, else the primary.

`report_session()` is the one place that chooses; app/figures/queries.py reads through it. The
first report read of a request decides, and the rest of the request reads the same source:

- REPORTS_DATABASE_URL unset (or SQLite): the app's own session, as before.
- Otherwise a session on the replica engine, after one query that asks the replica how fresh it is.
  A replica that cannot be reached, or whose data is older than REPORTS_MAX_LAG_SECONDS, is skipped
  for the primary; an unreachable one is not tried again for REPLICA_RETRY_SECONDS (per worker), so
  a dead replica costs one connect timeout, not one per report. A replica failing in the middle of
  a report makes the report run again on the primary: a replica never fails a report.

Writes never use this: every write goes through `db.session`, bound to DATABASE_URL (whose
target_session_attrs=read-write finds the primary).

Every report answer says how fresh it is: `X-Data-As-Of` (UTC ISO 8601; everything committed on
the primary before that instant is included) and `X-Data-Source` (`primary` or `replica`).
A replica that is streaming and has replayed all it received reports its own clock; one that is
behind reports the commit time of the last transaction it replayed. `X-Data-Source` is what the
node is at the moment of the read (`pg_is_in_recovery()` in the same query): a standby that was
promoted since the pool connected to it answers `primary`. A node that is not in recovery but does
not hold Patroni's leader lock (an old primary whose Patroni died, DATABASE_PATRONI_URLS set) is
never read: its figures stop at its demotion.

**Reads through a failover** (`read_replica_instead`): when a report request (GET, HEAD, OPTIONS on
the reports blueprint) cannot reach the primary at all, the token check (app/auth/tokens.py) moves
the whole request to the reports replica, if that one is at most REPORTS_MAX_LAG_SECONDS behind: the user,
the revocation list, the locations and the report all come from there, and the answer says
`X-Data-Source: replica`. The staleness bound is exact: the replica has every transaction the
primary committed more than REPORTS_MAX_LAG_SECONDS before the read (measured on the replica's
clock, as above), so a token revoked (logout, deactivation, password change) longer ago than that
is refused on this path too. Writes are never moved: without the primary they stay 503.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from apispec import BasePlugin
from flask import Flask, current_app, g, make_response, request
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.extensions import READ_ENGINE, db
from app.leader import LEADER_GUARD

log = logging.getLogger("comanda.replicas")

REPLICA_RETRY_SECONDS = 15
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXTENSION = "comanda_reports_replica"

FRESHNESS_SQL = text("""
SELECT now(), pg_is_in_recovery(),
       CASE
         WHEN NOT pg_is_in_recovery() THEN now()
         WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
              AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN now()
         ELSE pg_last_xact_replay_timestamp()
       END
""")


@dataclass
class ReportSource:
    name: str  # "primary" or "replica"
    as_of: datetime
    session: Session | None = None  # None: the app's own db.session

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


@dataclass
class Replica:
    engine: Engine
    max_lag_seconds: int
    down_until: float = 0.0
    blueprint: str = "reports"  # whose read-only requests move here while the primary is unreachable


def register_report_reads(app: Flask, blueprint: str = "reports") -> None:
    """Build the replica engine (when configured) and stamp every report answer with its freshness.

    Call after the blueprints are registered: it wraps the blueprint's view functions.
    """
    url = app.config.get("REPORTS_DATABASE_URL")
    if url:
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["pool_pre_ping"] = True
        app.extensions[EXTENSION] = Replica(create_engine(url, **options), app.config["REPORTS_MAX_LAG_SECONDS"],
                                            blueprint=blueprint)  # fmt: skip
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(f"{blueprint}."):
            app.view_functions[endpoint] = _report_view(view)
    app.teardown_request(_close_source)


def report_session():
    """The session report reads go through for this request (chosen on first use)."""
    source = g.get("report_source")
    if source is None:
        source = g.report_source = _choose_source()
    return source.session or db.session


def _primary() -> ReportSource:
    return ReportSource("primary", datetime.now(UTC))


def _choose_source() -> ReportSource:
    replica: Replica | None = current_app.extensions.get(EXTENSION)
    if replica is None or time.monotonic() < replica.down_until:
        return _primary()
    return _replica_source(replica) or _primary()


def _replica_source(replica: Replica) -> ReportSource | None:
    """A session on the report replica if it is reachable, fresh enough and not a fenced old primary."""
    session = Session(bind=replica.engine)
    try:
        now, in_recovery, as_of = session.execute(FRESHNESS_SQL).one()
        if not in_recovery and not _holds_leader_lock(session):
            session.close()
            log.warning("reports replica is a primary without the Patroni leader lock: not reading it")
            replica.down_until = time.monotonic() + REPLICA_RETRY_SECONDS
            return None
    except DBAPIError as exc:
        session.close()
        _mark_down(replica, exc)
        return None
    lag = None if as_of is None else (now - as_of).total_seconds()
    if lag is None or lag > replica.max_lag_seconds:
        session.close()
        log.info("reports replica lags %s s (bound %s s): reading the primary", lag, replica.max_lag_seconds)
        return None
    return ReportSource("replica" if in_recovery else "primary", as_of.astimezone(UTC), session)


def _holds_leader_lock(session: Session) -> bool:
    """Without DATABASE_PATRONI_URLS every primary counts; with it, only the one Patroni says leads."""
    guard = current_app.extensions.get(LEADER_GUARD)
    if guard is None:
        return True
    info = session.connection().connection.dbapi_connection.info  # type: ignore[union-attr]
    return guard.still_leader(info.host, str(info.port))


def read_replica_instead() -> bool:
    """Serve the rest of this read-only request from the report replica (the primary is unreachable).

    True when the replica is reachable and within REPORTS_MAX_LAG_SECONDS: db.session now reads it
    (app/extensions.py: Session) and the report answers say so. False leaves everything as it was.
    """
    replica: Replica | None = current_app.extensions.get(EXTENSION)
    if replica is None or request.method not in READ_ONLY_METHODS or time.monotonic() < replica.down_until:
        return False
    if request.blueprint != replica.blueprint:
        return False  # only reports say how fresh they are (X-Data-As-Of); other reads stay 503
    source = _replica_source(replica)
    if source is None:
        return False
    source.close()  # db.session itself reads the replica from now on; the as-of stands for it
    db.session.rollback()
    g.report_source = ReportSource(source.name, source.as_of)
    setattr(g, READ_ENGINE, replica.engine)
    log.warning("primary unreachable: read-only request served by the reports replica (as of %s)",
                source.as_of.isoformat())  # fmt: skip
    return True


def _mark_down(replica: Replica, exc: Exception) -> None:
    replica.down_until = time.monotonic() + REPLICA_RETRY_SECONDS
    log.warning("reports replica unavailable (%s): reading the primary for %s s",
                type(getattr(exc, "orig", None) or exc).__name__, REPLICA_RETRY_SECONDS)  # fmt: skip


def _report_view(view):
    @functools.wraps(view)
    def report_view(*args, **kwargs):
        try:
            rv = view(*args, **kwargs)
        except DBAPIError as exc:
            source = g.get("report_source")
            if source is None or source.session is None:
                raise  # the primary failed: the usual 503
            source.close()
            _mark_down(current_app.extensions[EXTENSION], exc)
            g.report_source = _primary()
            rv = view(*args, **kwargs)
        response = make_response(rv)
        source = g.get("report_source") or _primary()  # nothing read: as fresh as now
        if response.status_code == 200:
            response.headers["X-Data-As-Of"] = source.as_of.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            response.headers["X-Data-Source"] = source.name
        return response

    return report_view


def _close_source(_exc=None) -> None:
    g.pop(READ_ENGINE, None)
    source = g.pop("report_source", None)
    if source is not None:
        source.close()


FRESHNESS_HEADERS = {
    "X-Data-As-Of": {
        "description": "How fresh the figures are (UTC ISO 8601): every order committed before this instant "
        "is counted. Reports may be read from a replica (REPORTS_DATABASE_URL) that lags the primary by at "
        "most REPORTS_MAX_LAG_SECONDS (default 30); otherwise they are read from the primary.",
        "schema": {"type": "string", "format": "date-time"},
    },
    "X-Data-Source": {
        "description": "`primary` or `replica`: what the database server the figures were read from was at the "
        "moment of the read (a standby promoted since answers `primary`). While the primary is unreachable, "
        "reports (their token check included) are served by the replica if it is at most "
        "REPORTS_MAX_LAG_SECONDS behind: `replica`.",
        "schema": {"type": "string", "enum": ["primary", "replica"]},
    },
}


class FreshnessHeadersPlugin(BasePlugin):
    """apispec plugin: document X-Data-As-Of and X-Data-Source on the 200 answer of every report."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs) -> None:
        if not (path or "").startswith("/api/v1/reports/"):
            return
        for operation in (operations or {}).values():
            responses = operation.get("responses", {})
            ok = responses.get(200, responses.get("200"))
            if isinstance(ok, dict):
                ok.setdefault("headers", {}).update(FRESHNESS_HEADERS)
