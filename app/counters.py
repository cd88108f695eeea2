"""Gapless numbers per location, in commit order (API.md v1.2: folios, z numbers, kitchen ticket
numbers; the change feed's per-location positions).

`take(location_id, "folio")` is one `INSERT ... ON CONFLICT DO UPDATE SET value = value + n RETURNING
value` on the counter row. The row stays locked until the taking transaction ends, so:
- no gaps: a rolled-back transaction gives its numbers back (the row returns to its old value);
- commit order: a second transaction of the same location waits for the first to commit before it
  takes the next number, so the numbers of one location become visible in order, a prefix at a time;
- no stall across locations: each location (and sequence) has its own row.
Take the number as late in the transaction as possible: the row lock is held until commit.
On SQLite writes are serialized anyway (BEGIN IMMEDIATE)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import literal, select

from app.database import insert_for_dialect
from app.extensions import db
from app.models.counter import NO_DAY, LocationCounter


def take(location_id: int, name: str, *, day: date | None = None, count: int = 1) -> int:
    """Take `count` numbers of the sequence `name` of a location (per `day` when given) and return the
    last one (the first is `last - count + 1`)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    table = LocationCounter.__table__
    stmt = insert_for_dialect(table).values(location_id=location_id, name=name, day=day or NO_DAY, value=count)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.location_id, table.c.name, table.c.day],
        set_={"value": table.c.value + literal(count)},
    ).returning(table.c.value)
    return int(db.session.execute(stmt).scalar_one())


def current(location_id: int, name: str, *, day: date | None = None) -> int:
    """The last number taken of a sequence (0 before the first), without taking one."""
    value = db.session.scalar(select(LocationCounter.value).where(
        LocationCounter.location_id == location_id, LocationCounter.name == name,
        LocationCounter.day == (day or NO_DAY)))
    return int(value or 0)
