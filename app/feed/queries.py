"""Reading the feed: a page after a cursor, and the current end (`after=now`)."""

from __future__ import annotations

from datetime import UTC
from typing import Any, NamedTuple

from sqlalchemy import Select, or_, select, union_all
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import FeedEvent, LocationCounter, User
from app.models.counter import NO_DAY


def type_filter(patterns: list[str]):
    """SQL for `types`: exact names, `prefix.*` or `*` (None: every type)."""
    if not patterns or "*" in patterns:
        return None
    exact = [p for p in patterns if not p.endswith(".*")]
    prefixes = [p[:-1] for p in patterns if p.endswith(".*")]
    clauses: list[Any] = [FeedEvent.type.in_(exact)] if exact else []
    clauses += [FeedEvent.type.startswith(prefix, autoescape=True) for prefix in prefixes]
    return or_(*clauses)


class Row(NamedTuple):
    """An event as answered (`event`), and where it stands in its location's stream."""

    event: dict[str, Any]
    location_id: int
    position: int


ACTOR, APPROVER = aliased(User), aliased(User)
EVENT_COLUMNS = (FeedEvent.id, FeedEvent.type, FeedEvent.location_id, FeedEvent.position, FeedEvent.occurred_at,
                 FeedEvent.subject_type, FeedEvent.subject_id, FeedEvent.subject_version, FeedEvent.actor_id,
                 FeedEvent.approved_by_id, FeedEvent.data)
COLUMNS = (FeedEvent.id, FeedEvent.type, FeedEvent.location_id, FeedEvent.position, FeedEvent.occurred_at,
           FeedEvent.subject_type, FeedEvent.subject_id, FeedEvent.subject_version, FeedEvent.actor_id,
           ACTOR.name, FeedEvent.approved_by_id, APPROVER.name, FeedEvent.data)


def _select(where: Any) -> Select:
    return (select(*COLUMNS).outerjoin(ACTOR, ACTOR.id == FeedEvent.actor_id)
            .outerjoin(APPROVER, APPROVER.id == FeedEvent.approved_by_id).where(where).order_by(FeedEvent.id))


def _row(values: Any) -> Row:
    (id_, type_, loc, position, at, s_type, s_id, s_version, actor_id, actor_name, approver_id, approver_name,
     data) = values
    event = {"id": id_, "type": type_, "location_id": loc,
             "occurred_at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "subject": {"type": s_type, "id": s_id, "version": s_version},
             "actor": None if actor_id is None else {"id": actor_id, "name": actor_name},
             "approved_by": None if approver_id is None else {"id": approver_id, "name": approver_name},
             "data": data}
    return Row(event, loc, position)


def page(positions: dict[int, int], locations: list[int], types: list[str], limit: int) -> list[Row]:
    """Up to `limit` events after `positions`, oldest first, as answered (plain rows: no ORM objects,
    no schema dump, so a page of 500 costs little more than its one query).

    Each location is read on its own (location_id, position) index range, at most `limit` rows, and the
    union is cut to `limit` by id. Within a location `id` grows with `position` (a row's id is drawn after
    its position, under the counter row's lock), so what is kept of each location is a prefix of it in
    commit order, and the interleaving of locations follows commit time closely."""
    if not locations:
        return []
    wanted = type_filter(types)
    parts = []
    for loc in locations:
        part = select(*EVENT_COLUMNS).where(FeedEvent.location_id == loc,
                                            FeedEvent.position > positions.get(loc, 0))
        if wanted is not None:
            part = part.where(wanted)
        parts.append(select(part.order_by(FeedEvent.position).limit(limit).subquery()))  # SQLite: arms in subqueries
    # The rows come whole from each location's index range (no second lookup of the page by id: as
    # `id IN (...)` or a join, PostgreSQL planned that as a scan of the whole table, a cost growing with it).
    events = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    stmt = (select(*(events.c[c.key] for c in EVENT_COLUMNS[:9]), ACTOR.name, events.c.approved_by_id,
                   APPROVER.name, events.c.data)
            .outerjoin(ACTOR, ACTOR.id == events.c.actor_id)
            .outerjoin(APPROVER, APPROVER.id == events.c.approved_by_id)
            .order_by(events.c.id).limit(limit))
    return [_row(values) for values in db.session.execute(stmt)]


def by_ids(ids: list[int]) -> dict[int, dict[str, Any]]:
    """Events as answered, by id (the webhook worker's bodies)."""
    return {row.event["id"]: row.event for row in map(_row, db.session.execute(_select(FeedEvent.id.in_(ids))))}


def ends(locations: list[int]) -> dict[int, int]:
    """The last committed position of each location (the feed's current end): its counter row."""
    stmt = select(LocationCounter.location_id, LocationCounter.value).where(
        LocationCounter.location_id.in_(locations), LocationCounter.name == "feed", LocationCounter.day == NO_DAY)
    return {loc: pos for loc, pos in db.session.execute(stmt)}


def advance(positions: dict[int, int], rows: list[Row]) -> dict[int, int]:
    """The positions after reading `rows`."""
    moved = dict(positions)
    for row in rows:
        moved[row.location_id] = max(moved.get(row.location_id, 0), row.position)
    return moved
