"""Column types shared by the models, and the range of their id columns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.types import TypeDecorator

MAX_ID = 2**31 - 1  # ids are INTEGER columns; inputs and URL ids beyond it are refused, not overflowed
# Ids that grow with orders (orders, lines, discounts, payments, refunds, events, idempotency keys) and
# the columns that point at them: BIGINT on PostgreSQL (0007_bigint_ids); SQLite's INTEGER is 64-bit already.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")
MAX_BIG_ID = 2**63 - 1  # the range of a BIG_ID


_FROZEN: ContextVar[datetime | None] = ContextVar("comanda_frozen_now", default=None)


def utcnow() -> datetime:
    """Current UTC time (a callable column default, evaluated per row), or the moment `clock_at` holds."""
    return _FROZEN.get() or datetime.now(UTC)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Run the application's code as if it were `moment` (UTC) in this context: the demo seed makes a
    month of orders through the order services, each change at its own moment and business date."""
    if moment.tzinfo is None:
        raise ValueError("clock_at needs an aware datetime")
    token = _FROZEN.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _FROZEN.reset(token)


class UTCTimestamp(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
