"""One delivery attempt (Standard Webhooks): the body, the signed headers, the POST to an address
checked again at delivery time, and what the answer does to the delivery."""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text, update
from standardwebhooks import Webhook as Signer

from app.columns import utcnow
from app.extensions import db
from app.feed import urls
from app.models import Webhook, WebhookDelivery

TIMEOUT_SECONDS = 10.0
USER_AGENT = "Comanda-Webhooks/1"


@dataclass
class Outcome:
    status_code: int | None
    error: str | None


def message_id(delivery: WebhookDelivery) -> str:
    """`webhook-id`: stable across retries (the receiver dedupes on it)."""
    return f"evt_{delivery.event_id}" if delivery.event_id is not None else f"ping_{delivery.id}"


def body(delivery: WebhookDelivery, event: dict[str, Any] | None) -> str:
    """The feed Event as JSON, exactly as GET /events answers it (a ping's stored body for pings)."""
    payload = delivery.payload if delivery.event_id is None else event
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def signing_secrets(webhook: Webhook, now: datetime) -> list[str]:
    """The current secret, and during a rotation's 24 hours the previous one too."""
    keys = [webhook.secret]
    if webhook.previous_secret and webhook.previous_secret_until and webhook.previous_secret_until > now:
        keys.append(webhook.previous_secret)
    return keys


def headers(webhook: Webhook, msg_id: str, payload: str, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers, signed by the `standardwebhooks` package with every live secret."""
    stamp = datetime.fromtimestamp(int(now.timestamp()), UTC)
    signature = " ".join(Signer(key).sign(msg_id, stamp, payload) for key in signing_secrets(webhook, now))
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(stamp.timestamp())), "webhook-signature": signature,
            "Content-Type": "application/json", "User-Agent": USER_AGENT}


def _connect(address: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection as http.client makes one (TCP_NODELAY: no Nagle delay between headers and body)."""
    sock = socket.create_connection((address, port), timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, never to a second resolution of the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = _connect(self.address, self.port, self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = _connect(self.address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class Connections:
    """Idle keep-alive connections, per checked destination (scheme, host, port, address), shared by the
    worker's sender threads. A connection is only reused for a delivery whose URL was checked again (and
    resolved again) at that delivery and gave the same address, so pooling never skips the check at delivery
    time; a new address (DNS changed) gets a new connection. Connections idle for more than IDLE_SECONDS are
    closed rather than reused (receivers close idle keep-alive connections)."""

    IDLE_SECONDS = 20.0
    PER_DESTINATION = 16

    def __init__(self) -> None:
        self._idle: dict[tuple, list[tuple[float, http.client.HTTPConnection]]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple) -> http.client.HTTPConnection | None:
        """An idle connection to `key` (the most recently used), or None."""
        now, stale = time.monotonic(), []
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                since, conn = idle.pop()
                if now - since <= self.IDLE_SECONDS:
                    break
                stale.append(conn)
            else:
                conn = None
        for old in stale:
            old.close()
        return conn

    def give(self, key: tuple, conn: http.client.HTTPConnection) -> None:
        """Keep `conn` (its last answer read whole, not closing) for the next delivery to `key`."""
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.PER_DESTINATION:
                idle.append((time.monotonic(), conn))
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            every = [conn for idle in self._idle.values() for _, conn in idle]
            self._idle.clear()
        for conn in every:
            conn.close()


def post(url: str, payload: str, request_headers: dict[str, str], *, private_ok: bool,
         timeout: float = TIMEOUT_SECONDS, pool: Connections | None = None) -> Outcome:
    """POST once; the receiver's status, or the reason there was none (refused address, timeout...).
    The URL is checked (and its host resolved) here, at every delivery; with a `pool`, an idle connection to
    the checked address is reused (keep-alive), and one the receiver closed meanwhile is replaced once."""
    parts = urlsplit(url)
    try:
        scheme, host, port = urls.parse(url, production=False, private_ok=True)
        address = urls.resolve(host, port, private_ok=private_ok)[0]
    except urls.UnsafeURL as exc:
        return Outcome(None, f"refused: {exc}")
    key = (scheme, host, port, address)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    conn = pool.take(key) if pool is not None else None
    reused = conn is not None
    if conn is None:
        conn = _new_connection(scheme, host, port, address, timeout)
    keep = False
    try:
        try:
            resp = _exchange(conn, path, payload, request_headers)
        except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
            if not reused:
                raise
            # The receiver closed the idle connection before reading this request (no answer came):
            # make it once on a new connection (deliveries are at least once, deduped on webhook-id).
            conn.close()
            conn = _new_connection(scheme, host, port, address, timeout)
            resp = _exchange(conn, path, payload, request_headers)
        if time.monotonic() - started > timeout:
            return Outcome(None, f"no answer within {timeout:g} s")
        keep = pool is not None and resp.isclosed() and not resp.will_close
        return Outcome(resp.status, None if 200 <= resp.status < 300 else f"HTTP {resp.status}")
    except TimeoutError:
        return Outcome(None, f"no answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, f"{exc.__class__.__name__}: {exc}"[:500])
    finally:
        if keep and pool is not None:
            pool.give(key, conn)
        else:
            conn.close()


def _new_connection(scheme: str, host: str, port: int, address: str, timeout: float) -> http.client.HTTPConnection:
    cls = PinnedHTTPSConnection if scheme == "https" else PinnedHTTPConnection
    return cls(host, port, address, timeout)


def _exchange(conn: http.client.HTTPConnection, path: str, payload: str,
              request_headers: dict[str, str]) -> http.client.HTTPResponse:
    """Send the POST and read the answer (at most 64 KiB of its body: a longer one is not read whole, so
    its connection is not kept)."""
    conn.request("POST", path, body=payload.encode(), headers=request_headers)
    resp = conn.getresponse()
    resp.read(65536)
    return resp


def prepare(delivery: WebhookDelivery, webhook: Webhook,
            event: dict[str, Any] | None) -> tuple[str, str, dict[str, str]]:
    """(url, body, signed headers) of one attempt of `delivery` (of `event`, as queries.by_ids gives it)."""
    payload = body(delivery, event)
    return webhook.url, payload, headers(webhook, message_id(delivery), payload, utcnow())


def attempt(delivery: WebhookDelivery, webhook: Webhook, event: dict[str, Any] | None, *,
            private_ok: bool) -> Outcome:
    """Make one attempt of `delivery` (no database write)."""
    return post(*prepare(delivery, webhook, event), private_ok=private_ok)


def record(delivery: WebhookDelivery, webhook: Webhook, outcome: Outcome,
           schedule: tuple[float, ...]) -> dict[str, Any]:
    """What an attempt's outcome does, as the delivery's new column values (written for a whole batch by
    `write_outcomes`): delivered; 410 disables the webhook (its other pending deliveries fail at once);
    otherwise the next attempt per the schedule (+-10 %), or failed after 1 + len(schedule) attempts or a
    manual retry's one attempt."""
    now = utcnow()
    attempts = delivery.attempts + 1
    row: dict[str, Any] = {"id": delivery.id, "attempts": attempts, "last_status_code": outcome.status_code,
           "last_error": outcome.error, "manual": False, "next_attempt_at": None, "delivered_at": None,
           "status": "failed"}
    if outcome.status_code is not None and 200 <= outcome.status_code < 300:
        row.update(status="delivered", delivered_at=now)
    elif outcome.status_code == 410:
        webhook.active = False
        db.session.execute(update(WebhookDelivery).where(
            WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.status == "pending",
            WebhookDelivery.id != delivery.id).values(status="failed", next_attempt_at=None,
                                                      last_error="webhook disabled by a 410 answer"))
    elif not delivery.manual and attempts < 1 + len(schedule):
        delay = schedule[attempts - 1] * random.uniform(0.9, 1.1)  # noqa: S311  (jitter, not a secret)
        row.update(status="pending", next_attempt_at=now + timedelta(seconds=delay))
    return row


BULK_UPDATE = text("""
UPDATE webhook_deliveries AS d
SET status = u.status, attempts = u.attempts, last_status_code = u.code, last_error = u.error,
    next_attempt_at = u.next_at, delivered_at = u.delivered_at, manual = false
FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS varchar[]), CAST(:attempts AS integer[]),
            CAST(:codes AS integer[]), CAST(:errors AS varchar[]), CAST(:next_at AS timestamptz[]),
            CAST(:delivered_at AS timestamptz[])) AS u(id, status, attempts, code, error, next_at, delivered_at)
WHERE d.id = u.id
""")


def write_outcomes(rows: list[dict[str, Any]], *, postgres: bool) -> None:
    """The batch's outcomes in one statement on PostgreSQL (arrays through unnest), row by row on SQLite."""
    if not rows:
        return
    if postgres:
        db.session.execute(BULK_UPDATE, {
            "ids": [r["id"] for r in rows], "statuses": [r["status"] for r in rows],
            "attempts": [r["attempts"] for r in rows], "codes": [r["last_status_code"] for r in rows],
            "errors": [r["last_error"] for r in rows], "next_at": [r["next_attempt_at"] for r in rows],
            "delivered_at": [r["delivered_at"] for r in rows]})
        return
    table = WebhookDelivery.__table__
    for r in rows:
        db.session.execute(update(table).where(table.c.id == r["id"]).values(
            {k: v for k, v in r.items() if k != "id"}))
