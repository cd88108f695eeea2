"""Table shapes (API.md v1.2 "Tables")."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.fields import MoneyOut, StrictBoolean, UTCDateTime, optional_text, strict_int, trimmed

SEATS = validate.Range(min=1, max=50)


class TableIn(Schema):
    """POST /locations/{id}/tables."""

    name = trimmed(1, 20, required=True, metadata={
        "example": "T4", "description": "1-20 characters after trimming; unique per location, any case."})
    seats = strict_int(load_default=4, validate=SEATS, metadata={"example": 4, "description": "1-50, default 4."})
    area = optional_text(40, metadata={"example": "Terraza", "description": "Optional, up to 40 characters."})


class TablePatch(Schema):
    """PATCH /tables/{id}: any of the fields."""

    OPENAPI_EXTRA = {"minProperties": 1}

    name = trimmed(1, 20)
    seats = strict_int(validate=SEATS)
    area = optional_text(40, patch=True)
    active = StrictBoolean(metadata={"description": "false: the table takes no new orders (422 on table_id)."})

    @validates_schema
    def _not_empty(self, data: dict, **_kwargs: Any) -> None:
        if not data:
            raise ValidationError("Send at least one of name, seats, area, active.", "_schema")


class TableWaiterOut(Schema):
    id = fields.Integer()
    name = fields.String()


class OpenOrderOut(Schema):
    id = fields.Integer(metadata={"example": 41})
    waiter = fields.Nested(TableWaiterOut)
    guest_count = fields.Integer(allow_none=True, metadata={"example": 3})
    total = MoneyOut(attribute="total_cents")
    created_at = UTCDateTime()


class TableOut(Schema):
    id = fields.Integer(metadata={"example": 7})
    location_id = fields.Integer(metadata={"example": 1})
    name = fields.String(metadata={"example": "T4"})
    seats = fields.Integer(metadata={"example": 4})
    area = fields.String(allow_none=True, metadata={"example": "Terraza"})
    active = fields.Boolean()
    status = fields.String(metadata={"enum": ["free", "occupied"], "description": (
        "Derived, never set: occupied exactly while an open order sits on the table.")})
    open_orders = fields.List(fields.Nested(OpenOrderOut), metadata={
        "description": "The open orders at the table, oldest first."})


class TableListOut(Schema):
    data = fields.List(fields.Nested(TableOut))
