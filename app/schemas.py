"""Shared marshmallow pieces: UTC timestamps, list envelopes and pagination arguments."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import EXCLUDE, Schema, fields, validate


class UTCDateTime(fields.DateTime):
    """ISO 8601 in UTC with a Z suffix: "2026-11-21T20:15:03Z". Loads naive values as UTC."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs) -> str | None:
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class PageArgs(Schema):
    """?limit= and ?cursor= of every list."""

    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200), metadata={"description": "Page size, 1-200."}
    )
    cursor = fields.String(
        load_default=None, metadata={"description": "Opaque cursor from the previous page's next_cursor."}
    )


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """The list envelope {"data": [...], "next_cursor": ...} for `item_schema`."""
    return Schema.from_dict(
        {
            "data": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(
                allow_none=True,
                required=True,
                metadata={"description": "Pass as ?cursor= for the next page; null at the end."},
            ),
        },
        name=name,
    )
