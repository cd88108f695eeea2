"""Schema building blocks shared by every blueprint: UTC timestamps, trimmed strings, the problem body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import INCLUDE, Schema, fields


class UTCDateTime(fields.DateTime):
    """ISO 8601 in UTC with a `Z` suffix and whole seconds: "2026-11-21T20:15:03Z".

    Loading accepts any ISO 8601 timestamp with an offset (or `Z`) and returns an aware UTC
    datetime; a timestamp without an offset is rejected, because its meaning is ambiguous.
    """

    default_error_messages = {"naive": "Include a time zone offset, e.g. 2026-11-21T20:15:03Z."}

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:  # the models store UTC; a naive value here is a bug upstream
            raise ValueError(f"naive datetime in {attr!r}")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            raise self.make_error("naive")
        return parsed.astimezone(UTC)


class TrimmedString(fields.String):
    """A string with surrounding white space removed before `validate=` runs."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class ProblemSchema(Schema):
    """application/problem+json (RFC 9457), as produced by app/errors.py. Documentation only."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(metadata={"example": "Unprocessable Entity"})
    status = fields.Integer(metadata={"example": 422})
    code = fields.String(metadata={"description": "Stable machine-readable error code.", "example": "validation_error"})
    detail = fields.String(metadata={"example": "Request body is invalid."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "Validation messages keyed by dotted field path (validation errors only).",
            "example": {"name": ["Length must be between 1 and 120."]},
        },
    )
    request_id = fields.String(metadata={"description": "Also sent as the X-Request-ID header."})
    order_id = fields.Integer(metadata={"description": "409 `duplicate_client_order_id`: the existing order."})
    balance_due = fields.String(metadata={"description": "409 `balance_due`: what the order still owes."})
    current_version = fields.Integer(metadata={"description": "412 `precondition_failed`: the order's version."})
    database = fields.String(metadata={"description": "503 from /health: `unavailable`."})

    class Meta:
        unknown = INCLUDE  # documents that a problem may carry members specific to its code
