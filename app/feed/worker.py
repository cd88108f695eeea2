"""`flask webhooks work`: fan the feed out to the webhooks and deliver what is due.

Each round:
1. fan-out: for every active webhook (row locked with SKIP LOCKED, so several workers share them), read the
   feed after the webhook's cursor exactly like GET /events does, insert one delivery per matching event
   (unique per webhook and event) and move the cursor, in one transaction;
2. delivery: claim due deliveries with `FOR UPDATE SKIP LOCKED` (PostgreSQL), skipping any whose subject
   has an earlier pending delivery for the same webhook (per-subject order), POST them side by side
   (a batch holds at most one delivery per subject; 8 sender threads), record the outcomes, commit. The
   row locks are held through the POSTs: a second worker never attempts the same delivery, and a worker
   killed mid-delivery releases them with its connection (the delivery stays pending and is made again,
   with the same `webhook-id`).
Between rounds it sleeps on LISTEN comanda_feed / comanda_webhooks (woken by a commit that adds events, a
manual retry or a ping) or until the next retry is due. A lost database (a failover, a restart) does not
end the process: it connects again after 0.5 s, then 1, 2... at most 30 s between attempts (+-20 %), and
goes on where the database says it stands (what it held was released with its connection). SIGTERM (and
SIGINT) finish the round in hand, commit it and exit. SQLite: one worker, no lock is held during a POST
(claim, commit, post, record)."""

from __future__ import annotations

import logging
import random
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import current_app
from sqlalchemy import func, select, text

from app.columns import utcnow
from app.database import insert_for_dialect
from app.extensions import db
from app.feed import delivery, listen, queries
from app.feed.webhooks import WAKE_CHANNEL
from app.models import Location, Webhook, WebhookDelivery

log = logging.getLogger("comanda.webhooks")
FAN_OUT_PAGE = 500
IDLE_SECONDS = 1.0
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0  # seconds between attempts to reach a lost database (doubling)

# The per-subject probe tests `(e.status = 'pending') IS TRUE` (the same as `e.status = 'pending'`, status is
# NOT NULL) so that PostgreSQL cannot answer it from ix_webhook_deliveries_due: without statistics (a fresh
# table, a burst after a quiet spell) its planner took the plain form as a scan of every pending delivery for
# each pending delivery (quadratic: 1.5 s a claim at 2,000 pending). It is a lookup on the subject's index.
CLAIM_SQL = text("""
SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
WHERE d.status = 'pending' AND d.next_attempt_at <= :now AND (w.active OR d.manual)
  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                  WHERE e.webhook_id = d.webhook_id AND e.subject_key = d.subject_key
                    AND e.id < d.id AND (e.status = 'pending') IS TRUE)
ORDER BY d.next_attempt_at, d.id
LIMIT :limit
""")


def matches(patterns: list[str], event_type: str) -> bool:
    """Whether a webhook's `types` take `event_type`: exact, `prefix.*` or `*`."""
    return any(p == "*" or p == event_type or (p.endswith(".*") and event_type.startswith(p[:-1]))
               for p in patterns)


class Worker:
    """The delivery loop; `run()` until SIGTERM, or `run_once()` for one round."""

    def __init__(self, batch: int = 20, senders: int = 8) -> None:
        self.batch = batch
        self.pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="webhook-post")
        self.connections = delivery.Connections()  # keep-alive, per checked receiver address
        self.stopping = False
        self.postgres = db.engine.dialect.name == "postgresql"

    def stop(self, *_: Any) -> None:
        self.stopping = True

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info("webhook worker started")
        delay = BACKOFF_FIRST
        while not self.stopping:
            try:
                with listen.listening((listen.CHANNEL, WAKE_CHANNEL)) as wait:
                    delay = BACKOFF_FIRST  # connected (again)
                    self.serve(wait)
            except Exception:  # the database is gone (a failover, a restart): connect again, backing off
                log.exception("webhook worker lost the database; connecting again in %.1f s", delay)
                db.session.remove()
                self.pause(delay * random.uniform(0.8, 1.2))  # noqa: S311  (jitter between workers)
                delay = min(delay * 2, BACKOFF_MAX)
        self.close()
        db.session.remove()
        log.info("webhook worker stopped")

    def serve(self, wait: Callable[[float], bool]) -> None:
        """Rounds until SIGTERM; between idle rounds, sleep on the notifications. A round that fails is
        rolled back and the loop goes on; a lost database ends it (raises) and run() connects again."""
        while not self.stopping:
            try:
                busy = self.run_once()
            except Exception:  # a deadlock victim, a dropped connection: roll back and go on
                log.exception("webhook round failed")
                db.session.rollback()
                busy = False
                self.pause(IDLE_SECONDS)
            if not busy and not self.stopping:
                wait(self.idle_seconds())

    def pause(self, seconds: float) -> None:
        """Sleep `seconds`, or less when SIGTERM comes."""
        deadline = time.monotonic() + seconds
        while not self.stopping and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))

    def close(self) -> None:
        """Stop the sender threads and close the kept connections."""
        self.pool.shutdown()
        self.connections.close()

    def run_once(self) -> bool:
        """One round: fan out, then deliver one batch. True when there was work."""
        fanned = self.fan_out()
        delivered = self.deliver_due()
        return bool(fanned or delivered)

    def idle_seconds(self) -> float:
        next_due = db.session.scalar(select(func.min(WebhookDelivery.next_attempt_at))
                                     .where(WebhookDelivery.status == "pending"))
        db.session.rollback()
        if next_due is None:
            return IDLE_SECONDS
        return max(0.0, min(IDLE_SECONDS, (next_due - utcnow()).total_seconds()))

    # -- fan-out --------------------------------------------------------------------------------------
    def fan_out(self) -> int:
        """Deliveries for the events committed since each webhook's cursor; returns how many were made."""
        made = 0
        stmt = select(Webhook).where(Webhook.active).order_by(Webhook.id)
        if self.postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        hooks = list(db.session.scalars(stmt))
        every = list(db.session.scalars(select(Location.id))) if any(not h.location_ids for h in hooks) else []
        for hook in hooks:
            positions = {int(k): v for k, v in (hook.cursor or {}).items()}
            locations = hook.location_ids or every
            while True:
                rows = queries.page(positions, locations, [], FAN_OUT_PAGE)
                if not rows:
                    break
                wanted = [{"webhook_id": hook.id, "event_id": r.event["id"], "event_type": r.event["type"],
                           "subject_key": "{type}:{id}".format(**r.event["subject"]), "status": "pending",
                           "manual": False, "attempts": 0, "next_attempt_at": utcnow(), "created_at": utcnow()}
                          for r in rows if matches(hook.types, r.event["type"])]
                if wanted:
                    table = WebhookDelivery.__table__
                    insert = insert_for_dialect(table).on_conflict_do_nothing(
                        index_elements=[table.c.webhook_id, table.c.event_id])
                    db.session.execute(insert, wanted)
                    made += len(wanted)
                positions = queries.advance(positions, rows)
                if len(rows) < FAN_OUT_PAGE:
                    break
            hook.cursor = {str(k): v for k, v in positions.items()}
        db.session.commit()
        return made

    # -- delivery -------------------------------------------------------------------------------------
    def claim(self) -> list[WebhookDelivery]:
        sql = CLAIM_SQL.text + (" FOR UPDATE OF d SKIP LOCKED" if self.postgres else "")
        ids = list(db.session.scalars(text(sql), {"now": utcnow(), "limit": self.batch}))
        if not ids:
            return []
        return list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                                       .order_by(WebhookDelivery.id)))

    def deliver_due(self) -> int:
        """Attempt a batch of due deliveries; returns how many were attempted."""
        claimed = self.claim()
        private_ok = bool(current_app.config["WEBHOOK_ALLOW_PRIVATE_URLS"])
        schedule = tuple(current_app.config["WEBHOOK_RETRY_SCHEDULE"])
        events = queries.by_ids([item.event_id for item in claimed if item.event_id is not None])
        hooks = {item.webhook_id: db.session.get(Webhook, item.webhook_id) for item in claimed}
        jobs = [(item, hook, delivery.prepare(item, hook, events.get(item.event_id or 0)))
                for item in claimed if (hook := hooks[item.webhook_id]) is not None]
        if not self.postgres:  # nothing held during the POSTs on SQLite
            db.session.commit()
        # The POSTs of a batch go out side by side (at most one per subject, see CLAIM_SQL); the sender
        # threads get plain values and never touch the session.
        outcomes = list(self.pool.map(lambda job: delivery.post(*job[2], private_ok=private_ok,
                                                                     pool=self.connections), jobs))
        rows = [delivery.record(item, hook, outcome, schedule)
                for (item, hook, _), outcome in zip(jobs, outcomes, strict=True)]
        disabled = {hook.id for _, hook, _ in jobs if not hook.active}  # a 410 in this batch
        for (item, _, _), row in zip(jobs, rows, strict=True):
            if item.webhook_id in disabled and row["status"] == "pending":
                row.update(status="failed", next_attempt_at=None)
        db.session.flush()  # the 410s' webhook changes first
        delivery.write_outcomes(rows, postgres=self.postgres)
        db.session.commit()
        return len(claimed)

