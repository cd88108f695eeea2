"""Writes reach only the node that holds Patroni's leader lock; a commit is never acknowledged unreplicated.

Two guards on the PostgreSQL engine of DATABASE_URL:

1. **The leader check (fencing)**, when DATABASE_PATRONI_URLS names each node's Patroni REST API
   (same order as the hosts of DATABASE_URL). libpq's `target_session_attrs=read-write` alone keeps
   using a primary whose Patroni died: its PostgreSQL still accepts writes, although the leader key
   has expired and another node was promoted. So, as HAProxy's `httpchk GET /primary` does in the
   classic Patroni setup, the app asks Patroni:
   - a new connection goes to the node whose Patroni answers 200 on `GET /primary` (it holds the
     leader lock: Patroni renewed it less than `ttl` ago); no such node is a 503, at once;
   - a pooled connection is used only while its node's Patroni confirmed the lock at most
     LEADER_CHECK_SECONDS ago (one HTTP request per worker per second at most); otherwise it is
     asked again, and a node that no longer confirms is dropped from the pool (the request gets
     a connection to the new leader, or a 503).
   A node whose Patroni is dead, paused out of the lock, or cut off from etcd therefore stops
   getting transactions within LEADER_CHECK_SECONDS, long before the leader key expires (ttl) and
   another node is promoted.

2. **The replication guard**, always on PostgreSQL. A COMMIT waits for the synchronous standby;
   statement_timeout does not end that wait (PostgreSQL lifts it before committing), the client's
   response deadline does (app/database.py: the connection is closed, 504 `outcome_unknown`). But
   when the wait is cancelled (`pg_cancel_backend`, a tool killing "stuck" queries), PostgreSQL
   reports the COMMIT as done, with only a WARNING ("canceling wait for synchronous replication
   ... already committed locally, but might not have been replicated"). That is exactly the
   commit a demoted primary would acknowledge and lose. The connection class below turns it into
   an OperationalError and closes the connection: the request answers 504 `outcome_unknown`
   (app/web/transaction.py) and the client retries with its Idempotency-Key. The warning is
   matched in English: the servers run with `lc_messages = C` (deploy/ha/patroni.yml).
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import psycopg2
from psycopg2 import extensions
from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

log = logging.getLogger("comanda.leader")

LEADER_GUARD = "comanda_leader_guard"  # app.extensions key
LEADER_CHECK_SECONDS = 1.0
PATRONI_TIMEOUT_SECONDS = 1.0
NOT_REPLICATED = "canceling wait for synchronous replication"


class CommitNotReplicated(psycopg2.OperationalError):
    """COMMIT returned after its wait for the synchronous standby was cancelled: not acknowledged."""


class ReplicationCheckedConnection(extensions.connection):
    """psycopg2 connection whose commit() refuses a success PostgreSQL gave without the standby."""

    def commit(self) -> None:
        del self.notices[:]
        super().commit()
        if any(NOT_REPLICATED in notice for notice in self.notices):
            self.close()  # SQLAlchemy sees a closed connection: a disconnect, dropped from the pool
            raise CommitNotReplicated(
                "the commit was not confirmed by the synchronous standby (wait cancelled): outcome unknown"
            )


@dataclass(frozen=True)
class PatroniNode:
    host: str
    port: str
    api: str  # Patroni REST base URL, e.g. http://db1:8008


@dataclass
class LeaderGuard:
    nodes: list[PatroniNode]
    check_seconds: float = LEADER_CHECK_SECONDS
    confirmed: dict[tuple[str, str], float] = field(default_factory=dict)  # (host, port) -> monotonic
    last_leader: PatroniNode | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def holds_lock(self, node: PatroniNode) -> bool:
        """Patroni's own answer: 200 on /primary only while it runs the primary under the leader lock."""
        try:
            with urllib.request.urlopen(f"{node.api}/primary", timeout=PATRONI_TIMEOUT_SECONDS) as resp:  # noqa: S310 - configured URL
                ok = resp.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            ok = False
        with self._lock:
            if ok:
                self.confirmed[(node.host, node.port)] = time.monotonic()
                self.last_leader = node
            else:
                self.confirmed.pop((node.host, node.port), None)
        return ok

    def find_leader(self) -> PatroniNode | None:
        """The node holding the leader lock now (the last known leader is asked first)."""
        ordered = sorted(self.nodes, key=lambda n: n != self.last_leader)
        return next((node for node in ordered if self.holds_lock(node)), None)

    def still_leader(self, host: str, port: str) -> bool:
        with self._lock:
            at = self.confirmed.get((host, port))
        if at is not None and time.monotonic() - at < self.check_seconds:
            return True
        node = next((n for n in self.nodes if (n.host, n.port) == (host, port)), None)
        return node is not None and self.holds_lock(node)


def engine_hosts(engine: Engine) -> list[tuple[str, str]]:
    """The (host, port) pairs of a psycopg2 engine's URL, in libpq's order."""
    _args, params = engine.dialect.create_connect_args(engine.url)
    hosts = str(params.get("host") or "").split(",")
    ports = str(params.get("port") or "5432").split(",")
    if len(ports) == 1:
        ports = ports * len(hosts)
    return list(zip(hosts, ports, strict=False))


def install_leader_guard(engine: Engine, patroni_urls: list[str]) -> LeaderGuard | None:
    """Both guards on `engine` (PostgreSQL); the leader check only when `patroni_urls` is set."""

    @event.listens_for(engine, "do_connect")
    def _replication_checked(_dialect, _record, _cargs, cparams):
        cparams.setdefault("connection_factory", ReplicationCheckedConnection)

    if not patroni_urls:
        return None
    hosts = engine_hosts(engine)
    if len(hosts) != len(patroni_urls):
        from config import ConfigError

        raise ConfigError(
            f"DATABASE_PATRONI_URLS names {len(patroni_urls)} Patroni APIs for {len(hosts)} hosts of DATABASE_URL: "
            "give one per host, in the same order"
        )
    guard = LeaderGuard([PatroniNode(h, p, url.rstrip("/")) for (h, p), url in zip(hosts, patroni_urls, strict=True)])

    @event.listens_for(engine, "do_connect")
    def _connect_to_leader(_dialect, record, _cargs, cparams):
        leader = guard.find_leader()
        if leader is None:
            raise psycopg2.OperationalError("no PostgreSQL node holds the Patroni leader lock")
        cparams["host"], cparams["port"] = leader.host, leader.port
        record.info["comanda_node"] = (leader.host, leader.port)

    @event.listens_for(engine, "checkout")
    def _still_leader(_dbapi_connection, record, _proxy):
        node = record.info.get("comanda_node")
        if node is not None and not guard.still_leader(*node):
            log.warning("database node %s:%s no longer holds the Patroni leader lock: dropping its connection", *node)
            raise DisconnectionError(f"{node[0]}:{node[1]} no longer holds the Patroni leader lock")

    return guard
