"""Reading the feed: a page after a cursor, and the current end (`after=now`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, false, or_, select

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


def after(positions: dict[int, int], locations: Iterable[int]):
    """Events of `locations` past their positions."""
    clauses = []
    fresh = []
    for loc in locations:
        if positions.get(loc):
            clauses.append(and_(FeedEvent.location_id == loc, FeedEvent.position > positions[loc]))
        else:
            fresh.append(loc)
    if fresh:
        clauses.append(FeedEvent.location_id.in_(fresh))
    return or_(*clauses) if clauses else false()


def page(positions: dict[int, int], locations: list[int], types: list[str], limit: int) -> list[FeedEvent]:
    """Up to `limit` events after `positions`, oldest first. Within a location `id` grows with `position`
    (a row's id is drawn after its position, under the counter row's lock), so ordering by id keeps each
    location's commit order while interleaving the locations."""
    stmt = select(FeedEvent).where(after(positions, locations))
    wanted = type_filter(types)
    if wanted is not None:
        stmt = stmt.where(wanted)
    return list(db.session.scalars(stmt.order_by(FeedEvent.id).limit(limit)).unique())


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
