"""Shapes of transfer, merge, split and shares (API.md v1.2 "Tables, seats, transfer, merge and split checks")."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.fields import MoneyOut, id_field, strict_int
from app.orders.schemas import MAX_LINES, OrderOut


class TransferIn(Schema):
    """At least one of table_id and waiter_id."""

    OPENAPI_EXTRA = {"minProperties": 1}

    table_id = id_field(strict=True, metadata={"example": 7, "description": "An active table of the order's location."})
    waiter_id = id_field(strict=True, metadata={
        "example": 5, "description": "An active member of the order's location (handing over: managers, admins)."})

    @validates_schema
    def _one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("table_id") is None and data.get("waiter_id") is None:
            raise ValidationError("Send table_id, waiter_id or both.", "_schema")


class MergeIn(Schema):
    from_order_id = id_field(strict=True, big=True, required=True, metadata={
        "example": 42, "description": "Another open order of the same location that you may change."})


class SplitItemIn(Schema):
    item_id = id_field(strict=True, big=True, required=True, metadata={"example": 7})
    quantity = strict_int(required=True, validate=validate.Range(min=1, max=999), metadata={"example": 1})


class SplitIn(Schema):
    """`{"by": "items", "items": [...]}` or `{"by": "seat"}`."""

    by = fields.String(required=True, validate=validate.OneOf(["items", "seat"]), metadata={"example": "items"})
    items = fields.List(fields.Nested(SplitItemIn), validate=validate.Length(min=1, max=MAX_LINES), metadata={
        "description": "With by=items (required then): the units that move to one new order."})

    @validates_schema
    def _items(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("by") == "items" and not data.get("items"):
            raise ValidationError("Required with by=items.", "items")
        if data.get("by") == "seat" and "items" in data:
            raise ValidationError("Not used with by=seat.", "items")


class SplitOut(Schema):
    source = fields.Nested(OrderOut)
    orders = fields.List(fields.Nested(OrderOut), metadata={"description": "The new orders, by id."})


class SharesQuery(Schema):
    parts = fields.Integer(required=True, validate=validate.Range(min=2, max=20), metadata={
        "example": 3, "description": "2-20 diners."})


class SharesOut(Schema):
    balance_due = MoneyOut()
    parts = fields.Integer(metadata={"example": 3})
    shares = fields.List(MoneyOut(), metadata={"example": ["33.34", "33.33", "33.33"]})
