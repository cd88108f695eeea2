"""The change feed's writer (API.md v1.2 "Change feed"): one feed event per change, in the
transaction of the change.

Order changes reach the feed through their history event (app/orders/unit.py -> history.record, which
calls `publish()`); everything else that the feed carries (kitchen tickets, drawer sessions and
movements, business days) calls `publish()` at the point of the change, inside the request's transaction:

    publish(location_id=..., type="kitchen_ticket.created", subject=("kitchen_ticket", ticket.id, ticket.version),
            actor=user, data={...})

`publish()` only stages the event on the session. The rows are written when the transaction commits
(the session's `before_commit`): the staged events of each location take their positions with ONE
`counters.take(location_id, "feed", count=n)` and go in with one INSERT. Taking the position at the very
end keeps the counter row's lock (which orders the location's commits) for the shortest time, and after
every other lock the transaction takes, so it can never be part of a deadlock. A rolled-back transaction
stages nothing and takes no number. See docs/feed.md."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from app.columns import utcnow
from app.counters import take
from app.extensions import db
from app.models import FeedEvent, User
from app.models.counter import NO_DAY
from app.multi_insert import column_arrays, unnest_sql

STAGED = "comanda.feed_staged"
MARKS = "comanda.feed_savepoints"
SUBJECT_TYPES = ("order", "kitchen_ticket", "drawer_session", "business_day")


def publish(*, location_id: int, type: str, subject: tuple[str, int, int], actor: User | None,  # noqa: A002
            data: dict[str, Any], approved_by: User | None = None, occurred_at: datetime | None = None) -> None:
    """Append one feed event for a change made in the current transaction (written at its commit)."""
    subject_type, subject_id, version = subject
    if subject_type not in SUBJECT_TYPES or "." not in type:
        raise ValueError(f"bad feed event {type!r} on {subject_type!r}")
    db.session.info.setdefault(STAGED, []).append({
        "location_id": location_id, "type": type, "subject_type": subject_type, "subject_id": subject_id,
        "subject_version": version, "actor_id": actor.id if actor else None,
        "approved_by_id": approved_by.id if approved_by else None,
        "occurred_at": occurred_at or utcnow(), "data": data,
    })


def publish_rows(rows: list[dict[str, Any]]) -> None:
    """Stage feed rows already shaped like `publish()` makes them (the bulk path of a batch of orders)."""
    db.session.info.setdefault(STAGED, []).extend(rows)


def write_staged(session: Session) -> None:
    """Give the staged events their positions (one take per location, in location order so two
    transactions never wait on each other's counters crosswise) and insert them."""
    staged = session.info.pop(STAGED, None)
    if not staged:
        return
    by_location: dict[int, list[dict[str, Any]]] = {}
    for row in staged:
        by_location.setdefault(row["location_id"], []).append(row)
    if session.get_bind().dialect.name == "postgresql":
        for location_id in sorted(by_location):
            _take_and_insert(session, location_id, by_location[location_id])
        return
    rows = []
    for location_id in sorted(by_location):
        events = by_location[location_id]
        last = take(location_id, "feed", count=len(events))
        rows += [{**row, "position": last - len(events) + n} for n, row in enumerate(events, 1)]
    session.execute(insert(FeedEvent.__table__), rows)


def _take_and_insert(session: Session, location_id: int, events: list[dict[str, Any]]) -> None:
    """PostgreSQL: the location's positions and its events in ONE statement (one round trip): the
    counter's `INSERT ... ON CONFLICT DO UPDATE ... RETURNING value` (what `counters.take` sends) feeds
    the events' `INSERT ... SELECT` from one array per column, numbered in staging order."""
    cols = tuple(events[0])
    params: dict[str, Any] = dict(column_arrays(FeedEvent.__table__, "e", cols, events))
    params.update(location_id=location_id, count=len(events), no_day=NO_DAY)
    session.connection().exec_driver_sql(_feed_statement(cols), params)


@cache
def _feed_statement(cols: tuple[str, ...]) -> str:
    """WITH taken AS (the counter upsert) INSERT INTO feed_events (cols, position) SELECT ... (built once)."""
    counter = (
        "INSERT INTO location_counters (location_id, name, day, value) "
        "VALUES (%(location_id)s, 'feed', %(no_day)s, %(count)s) "
        "ON CONFLICT (location_id, name, day) DO UPDATE SET value = location_counters.value + EXCLUDED.value "
        "RETURNING value"
    )
    names = ", ".join(cols)
    # Identifiers come from our own table metadata; every value is a bound parameter.
    return (f"WITH taken AS ({counter}) INSERT INTO feed_events ({names}, position) "  # noqa: S608
            f"SELECT {', '.join(f'e.{c}' for c in cols)}, taken.value - %(count)s + e.n "
            f"FROM taken, {unnest_sql(FeedEvent.__table__, 'e', cols)} WITH ORDINALITY AS e({names}, n)")


def _mark_savepoint(session: Session, transaction: Any) -> None:
    if transaction.nested:
        session.info.setdefault(MARKS, {})[id(transaction)] = len(session.info.get(STAGED, ()))


def _forget_staged(session: Session, previous: Any) -> None:
    """A rolled-back savepoint forgets what was staged inside it; a rolled-back transaction, everything."""
    if previous.nested:
        mark = session.info.get(MARKS, {}).pop(id(previous), None)
        if mark is not None and STAGED in session.info:
            del session.info[STAGED][mark:]
    elif previous.parent is None:
        session.info.pop(STAGED, None)
        session.info.pop(MARKS, None)


def register_outbox() -> None:
    """Write staged feed events at each commit; forget them at a rollback."""
    if not event.contains(Session, "before_commit", write_staged):
        event.listen(Session, "before_commit", write_staged)
        event.listen(Session, "after_transaction_create", _mark_savepoint)
        event.listen(Session, "after_soft_rollback", _forget_staged)
