"""Column types shared by the models, and the range of their id columns."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.types import TypeDecorator

MAX_ID = 2**31 - 1  # ids are INTEGER columns; inputs and URL ids beyond it are refused, not overflowed
# Ids that grow with orders (orders, lines, discounts, payments, refunds, events, idempotency keys) and
# the columns that point at them: BIGINT on PostgreSQL (0007_bigint_ids); SQLite's INTEGER is 64-bit already.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")
MAX_BIG_ID = 2**63 - 1  # the range of a BIG_ID


def utcnow() -> datetime:
    """Current UTC time (a callable column default, evaluated per row)."""
    return datetime.now(UTC)


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
