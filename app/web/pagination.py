"""Keyset (cursor) pagination shared by every list endpoint.

A page is `{"data": [...], "next_cursor": "..." | null}`. The cursor is an opaque URL-safe string
holding the ordering values of the last row of the page; the next page continues strictly after
them. Because the position is a value, not an offset, rows inserted between fetches never cause
duplicates or gaps. A cursor that cannot be decoded is 400 `invalid_cursor`.

Usage (ORM entities, ordering columns that end with a unique one such as the id):

    rows, next_cursor = paginate(select(User).where(...), (User.created_at, User.id),
                                 limit=args["limit"], cursor=args["cursor"])
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator

from app.errors import InvalidCursor
from app.extensions import db
from app.fields import BAD_TEXT

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


MAX_CURSOR_LENGTH = 512


class PageQuery(Schema):
    """`?limit=&cursor=`; list query schemas inherit from it."""

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": f"Page size, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT})."},
    )
    cursor = fields.String(
        load_default=None,
        metadata={"description": "Opaque `next_cursor` from the previous page.", "maxLength": MAX_CURSOR_LENGTH},
    )


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """The `{"data": [...], "next_cursor": ...}` envelope around `item_schema`, named for OpenAPI."""
    return Schema.from_dict(
        {
            "data": fields.List(fields.Nested(item_schema)),
            "next_cursor": fields.String(
                allow_none=True, metadata={"description": "Pass as `?cursor=` for the next page; null on the last."}
            ),
        },
        name=name,
    )


def encode_cursor(values: Sequence[Any]) -> str:
    """Opaque cursor for a row's ordering values."""
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]  # datetime is a date too
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, columns: Sequence[InstrumentedAttribute]) -> list[Any]:
    """The ordering values in `cursor`, typed like `columns`; InvalidCursor when it is not ours."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:  # ours are far shorter; 400 like any cursor that is not ours
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("wrong shape")
        return [_typed(value, _python_type(column)) for value, column in zip(values, columns, strict=True)]
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None


def _python_type(column: InstrumentedAttribute) -> type:
    sql_type = column.type
    if isinstance(sql_type, TypeDecorator):  # e.g. UTCDateTime: the Python type is the wrapped one's
        sql_type = sql_type.impl_instance
    return sql_type.python_type


def _typed(value: Any, python_type: type) -> Any:
    if python_type is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed.astimezone(UTC)  # OverflowError past year 9999 or before year 1: not a cursor of ours
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError("not an integer")
    if python_type is str and (not isinstance(value, str) or BAD_TEXT.search(value)):
        raise TypeError("not a string a database can hold")
    return value


def paginate(
    stmt: Select,
    columns: Sequence[InstrumentedAttribute],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = True,
) -> tuple[list[Any], str | None]:
    """Run `stmt` ordered by `columns` (all descending or all ascending) and return one page.

    `columns` must end with a unique column (the id) so the order is total.
    """
    if cursor:
        values = decode_cursor(cursor, columns)
        after = tuple_(*(literal(v, type_=c.type) for v, c in zip(values, columns, strict=True)))
        stmt = stmt.where(tuple_(*columns) < after if descending else tuple_(*columns) > after)
    stmt = stmt.order_by(*(c.desc() if descending else c.asc() for c in columns)).limit(limit + 1)
    rows = list(db.session.scalars(stmt).unique())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor([getattr(rows[-1], c.key) for c in columns])
