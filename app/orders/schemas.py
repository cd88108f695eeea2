"""Order shapes. Inputs reject unknown and server-owned fields (id, total, status, version, ...)."""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.fields import Money, MoneyOut, OneOfSchemas, RawAs, UTCDateTime, id_field, optional_text, strict_int, trimmed
from app.models import ORDER_STATUSES, PAYMENT_METHODS
from app.web.pagination import PageQuery, page_schema

MAX_LINES = 200
MAX_BATCH = 500


class LineIn(Schema):
    """Loads either kind of line: a catalogue line {product_id, quantity} or an ad-hoc line
    {product_name, unit_price, quantity}. Documented as ProductLineIn | AdHocLineIn."""

    product_id = id_field(strict=True, metadata={"example": 5})
    product_name = trimmed(1, 120, metadata={"example": "Agua de horchata"})
    unit_price = Money(metadata={"example": "25.50"})
    quantity = strict_int(required=True, validate=validate.Range(min=1, max=999), metadata={"example": 2})
    notes = optional_text(500, metadata={"example": "no onion"})

    @validates_schema
    def _one_kind(self, data, **kwargs):
        if "product_id" in data:
            extra = [name for name in ("product_name", "unit_price") if name in data]
            if extra:
                raise ValidationError("Not allowed together with product_id.", extra[0])
        elif "product_name" not in data or "unit_price" not in data:
            missing = "unit_price" if "product_name" in data else "product_id"
            raise ValidationError("Send product_id, or product_name with unit_price.", missing)


class ProductLineIn(Schema):
    """Documentation of a catalogue line (loaded by LineIn)."""

    OPENAPI_EXTRA = {  # no `title`: generators would name the class after it instead of the component
        "description": "Catalogue line: a line of a catalogue product: the price comes from the catalogue. "
        "Has `product_id`; never `product_name` or `unit_price`.",
    }

    product_id = id_field(strict=True, required=True, metadata={"example": 5})
    quantity = LineIn._declared_fields["quantity"]
    notes = LineIn._declared_fields["notes"]


class AdHocLineIn(Schema):
    """Documentation of an ad-hoc line (loaded by LineIn)."""

    OPENAPI_EXTRA = {
        "description": "Ad-hoc line: a line by name and price: the product is found by name (ignoring case and "
        "spacing) or created, and the line keeps the price sent. Has `product_name` and `unit_price`; never "
        "`product_id`.",
    }

    product_name = trimmed(1, 120, required=True, metadata={"example": "Agua de horchata"})
    unit_price = Money(required=True, metadata={"example": "25.50"})
    quantity = LineIn._declared_fields["quantity"]
    notes = LineIn._declared_fields["notes"]


LINE_DESCRIPTION = (
    "A catalogue line (`product_id`) or an ad-hoc line (`product_name` + `unit_price`); "
    "the `required` sets tell them apart."
)


def _lines(**kwargs) -> fields.List:
    line = OneOfSchemas(LineIn, variants=(ProductLineIn, AdHocLineIn), metadata={"description": LINE_DESCRIPTION})
    return fields.List(line, validate=validate.Length(min=1, max=MAX_LINES), required=True, **kwargs)


class OrderIn(Schema):
    customer_name = trimmed(1, 120, required=True, metadata={"example": "Ana"})
    table = optional_text(32, metadata={"example": "12"})
    notes = optional_text(500)
    client_order_id = trimmed(1, 64, allow_none=True, load_default=None, metadata={"example": "tab3-000481"})
    location_id = id_field(strict=True, metadata={
        "example": 1,
        "description": "Where the order is taken. May be left out by a caller who belongs to exactly one active "
                       "location (that one) and by admins (the default location). A location the caller does "
                       "not belong to, or an inactive one, is 422 on location_id."})
    items = _lines()


class BatchOrderIn(OrderIn):
    client_order_id = trimmed(1, 64, required=True)
    created_at = UTCDateTime(
        load_default=None,
        metadata={"description": "When the order was taken offline: at most 5 minutes ahead, 7 days back."},
    )


class BatchIn(Schema):
    orders = fields.List(
        RawAs(BatchOrderIn),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH),
        metadata={
            "description": "1-500 orders shaped like a create body, client_order_id required, optional created_at."
        },
    )


class ItemsIn(Schema):
    items = _lines()


class OrderPatch(Schema):
    OPENAPI_EXTRA = {"minProperties": 1}

    customer_name = trimmed(1, 120)
    table = optional_text(32, patch=True)
    notes = optional_text(500, patch=True)

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one of customer_name, table, notes.", "_schema")


class CloseIn(Schema):
    payment_method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))


class CancelIn(Schema):
    reason = trimmed(1, 200, required=True)


class WaiterOut(Schema):
    id = fields.Integer()
    name = fields.String()


class LineOut(Schema):
    id = fields.Integer()
    product_id = fields.Integer()
    product_name = fields.String()
    unit_price = MoneyOut(attribute="unit_price_cents")
    quantity = fields.Integer()
    line_total = MoneyOut(attribute="line_total_cents")
    notes = fields.String(allow_none=True)
    voided = fields.Boolean()


class OrderOut(Schema):
    id = fields.Integer()
    client_order_id = fields.String(allow_none=True)
    customer_name = fields.String()
    table = fields.String(attribute="table_label", allow_none=True)
    notes = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(ORDER_STATUSES)})
    waiter = fields.Nested(WaiterOut)
    location_id = fields.Integer(metadata={"description": "The location the order was taken at.", "example": 1})
    items = fields.List(fields.Nested(LineOut))
    item_count = fields.Integer(metadata={"description": "Sum of quantities of non-voided lines."})
    total = MoneyOut(attribute="total_cents", metadata={"description": "Sum of non-voided line totals."})
    currency = fields.Function(lambda _order: current_app.config["CURRENCY"])
    # Not an `enum`: OpenAPI 3.0 spells a nullable enum with null among its values, which
    # openapi-python-client turns into a union of three one-value classes. CloseIn's is an enum.
    payment_method = fields.String(
        allow_none=True,
        metadata={"description": f"One of {', '.join(PAYMENT_METHODS)}, set when the order is closed; else null."},
    )
    business_date = fields.Date(metadata={"description": "created_at's business date on the location's clock."})
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    closed_at = UTCDateTime(allow_none=True)
    cancelled_at = UTCDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    version = fields.Integer()


class OrderListArgs(PageQuery):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    location_id = id_field(metadata={"description": "Only this location's orders (one you may not see: 404)."})
    waiter_id = id_field()
    start_date = fields.Date(metadata={"description": "Inclusive, on business_date."})
    end_date = fields.Date(metadata={"description": "Inclusive, on business_date."})
    client_order_id = fields.String(validate=validate.Length(max=64))

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("start_date") and data.get("end_date") and data["start_date"] > data["end_date"]:
            raise ValidationError("Must not be after end_date.", "start_date")


class BatchResultOut(Schema):
    OPENAPI_OPTIONAL = ("id", "error")  # id: created or duplicate; error: rejected

    client_order_id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["created", "duplicate", "rejected"]})
    id = fields.Integer(
        metadata={
            "description": "The order's id: created, or duplicate when the caller may see that order "
            "(absent for another waiter's)."
        }
    )
    error = fields.Dict(metadata={"description": "Problem-style {code, detail, errors} when rejected."})


class BatchOut(Schema):
    results = fields.List(fields.Nested(BatchResultOut))


OrderPage = page_schema(OrderOut, "OrderPage")
