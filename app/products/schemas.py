"""Product shapes: input, patch, output, list arguments."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.fields import Money, MoneyOut, Percent, StrictBoolean, UTCDateTime, optional_text, trimmed
from app.web.pagination import PageQuery, page_schema


class ProductIn(Schema):
    name = trimmed(1, 120, required=True, metadata={"example": "Taco al pastor"})
    price = Money(required=True, metadata={"example": "25.00", "description": "String or number, 2 decimals max."})
    category = optional_text(60, metadata={"example": "Tacos"})
    active = StrictBoolean(load_default=True)
    tax_rate = Percent(allow_zero=True, allow_none=True, load_default=None, metadata={
        "description": "The product's own tax rate, 0-100 with 3 decimals; null (default): the location's rate.",
        "example": None})


class ProductPatch(Schema):
    OPENAPI_EXTRA = {"minProperties": 1}

    name = trimmed(1, 120)
    price = Money()
    category = optional_text(60, patch=True)
    active = StrictBoolean()
    tax_rate = Percent(allow_zero=True, allow_none=True, metadata={
        "description": "The product's own tax rate, 0-100 with 3 decimals; null (default): the location's rate.",
        "example": None})

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field to change.", "_schema")


class ProductOut(Schema):
    id = fields.Integer()
    name = fields.String()
    price = MoneyOut(attribute="price_cents")
    category = fields.String(allow_none=True)
    tax_rate = Percent(allow_zero=True, allow_none=True, attribute="tax_rate", dump_only=True,
                       metadata={"description": "null: the location's rate."})
    active = fields.Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class ProductListArgs(PageQuery):
    q = fields.String(
        validate=validate.Length(max=120),
        metadata={"description": "Matches part of the name (case- and space-insensitive)."},
    )
    active = fields.Boolean()
    category = fields.String(validate=validate.Length(max=60))


ProductPage = page_schema(ProductOut, "ProductPage")
