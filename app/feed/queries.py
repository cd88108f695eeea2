"""Reading the feed: a page after a cursor, and the current end (`after=now`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, union_all

from app.extensions import db
from app.models import FeedEvent, LocationCounter
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


def page(positions: dict[int, int], locations: list[int], types: list[str], limit: int) -> list[FeedEvent]:
    """Up to `limit` events after `positions`, oldest first.

    Each location is read on its own (location_id, position) index range, at most `limit` rows, and the
    union is cut to `limit` by id. Within a location `id` grows with `position` (a row's id is drawn after
    its position, under the counter row's lock), so what is kept of each location is a prefix of it in
    commit order, and the interleaving of locations follows commit time closely."""
    if not locations:
        return []
    wanted = type_filter(types)
    parts = []
    for loc in locations:
        part = select(FeedEvent.id).where(FeedEvent.location_id == loc, FeedEvent.position > positions.get(loc, 0))
        if wanted is not None:
            part = part.where(wanted)
        parts.append(select(part.order_by(FeedEvent.position).limit(limit).subquery().c.id))
    ids = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    stmt = select(FeedEvent).where(FeedEvent.id.in_(select(ids.c.id))).order_by(FeedEvent.id).limit(limit)
    return list(db.session.scalars(stmt).unique())


def ends(locations: list[int]) -> dict[int, int]:
    """The last committed position of each location (the feed's current end): its counter row."""
    stmt = select(LocationCounter.location_id, LocationCounter.value).where(
        LocationCounter.location_id.in_(locations), LocationCounter.name == "feed", LocationCounter.day == NO_DAY)
    return {loc: pos for loc, pos in db.session.execute(stmt)}


def advance(positions: dict[int, int], rows: list[FeedEvent]) -> dict[int, int]:
    """The positions after reading `rows`."""
    moved = dict(positions)
    for row in rows:
        moved[row.location_id] = max(moved.get(row.location_id, 0), row.position)
    return moved
