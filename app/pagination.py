"""Keyset pagination: stable under concurrent inserts, opaque cursors, one query per page."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_

from app.errors import InvalidCursor
from app.extensions import db
from app.models.types import UTCDateTime


@dataclass(frozen=True)
class Keyset:
    """Two columns that order rows uniquely (the last is the primary key), and the direction."""

    model: Any
    first: str
    second: str = "id"
    descending: bool = True

    def columns(self):
        return getattr(self.model, self.first), getattr(self.model, self.second)


NEWEST_FIRST = "created_at"


def encode_cursor(values: tuple[Any, Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keyset: Keyset) -> tuple[Any, Any]:
    """Inverse of encode_cursor for this keyset; anything else is 400 invalid_cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        first, second = json.loads(raw)
        first_col, _ = keyset.columns()
        if isinstance(first_col.type, UTCDateTime):
            first = datetime.fromisoformat(first)
            if first.tzinfo is None:
                raise ValueError("naive")
        elif not isinstance(first, first_col.type.python_type):
            raise ValueError("type")
        if not isinstance(second, int) or isinstance(second, bool):
            raise ValueError("id")
        return first, second
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, AttributeError):
        raise InvalidCursor() from None


def paginate(stmt: Select, keyset: Keyset, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """Run `stmt` in keyset order from `cursor`; return one page and the next cursor (or None)."""
    first_col, second_col = keyset.columns()
    if cursor:
        first, second = decode_cursor(cursor, keyset)
        if keyset.descending:
            stmt = stmt.where(or_(first_col < first, and_(first_col == first, second_col < second)))
        else:
            stmt = stmt.where(or_(first_col > first, and_(first_col == first, second_col > second)))
    order = (first_col.desc(), second_col.desc()) if keyset.descending else (first_col.asc(), second_col.asc())
    rows = list(db.session.scalars(stmt.order_by(*order).limit(limit + 1)).unique())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor((getattr(last, keyset.first), getattr(last, keyset.second)))
