"""Kitchen shapes: stations, tickets, fire and served bodies, the queue and the report's query."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from app.fields import StrictBoolean, UTCDateTime, bounded_date, id_field, strict_int, trimmed
from app.reports.schemas import MAX_RANGE_DAYS, range_errors

MAX_ROUTES = 200


def _unique(values: list, what: str) -> None:
    keys = [v.casefold() if isinstance(v, str) else v for v in values]
    if len(set(keys)) != len(keys):
        raise ValidationError(f"Each {what} at most once.")


class StationIn(Schema):
    """A new station. A product id or category already routed to another station of the location: 409
    `duplicate_route`."""

    name = trimmed(1, 60, required=True, metadata={"example": "Parrilla"})
    categories = fields.List(trimmed(1, 60), validate=[validate.Length(max=MAX_ROUTES),
                                                       lambda v: _unique(v, "category")],
                             metadata={"description": "Product categories routed here (trimmed, any case).",
                                       "example": ["Tacos", "Carnes"]})
    product_ids = fields.List(id_field(strict=True), validate=[validate.Length(max=MAX_ROUTES),
                                                               lambda v: _unique(v, "product")],
                              metadata={"description": "Products routed here, before any category.",
                                        "example": [5]})
    default = StrictBoolean(metadata={"description": "Receives every line no other station names (at most one "
                                                     "per location: setting it clears the former default)."})
    alert_minutes = strict_int(validate=validate.Range(min=1, max=240), metadata={
        "description": "1-240, default 15: a ticket open longer is `late`.", "example": 12})


class StationPatch(StationIn):
    OPENAPI_EXTRA = {"minProperties": 1}

    name = trimmed(1, 60, metadata={"example": "Parrilla"})
    active = StrictBoolean(metadata={"description": "An inactive station receives nothing (its lines fall "
                                                    "through to the default station, or none)."})

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field.", "_schema")


class StationOut(Schema):
    id = fields.Integer()
    location_id = fields.Integer()
    name = fields.String()
    categories = fields.List(fields.String())
    product_ids = fields.List(fields.Integer())
    default = fields.Boolean(attribute="is_default")
    alert_minutes = fields.Integer()
    active = fields.Boolean()


class StationList(Schema):
    data = fields.List(fields.Nested(StationOut))


class UserRef(Schema):
    id = fields.Integer()
    name = fields.String()


class TicketModifierOut(Schema):
    name = fields.String()


class TicketLineOut(Schema):
    item_id = fields.Integer()
    product_name = fields.String()
    quantity = fields.Integer(metadata={"description": "Units to cook (on a void ticket: the units voided)."})
    modifiers = fields.List(fields.Nested(TicketModifierOut))
    notes = fields.String(allow_none=True)
    seat = fields.Integer(allow_none=True)
    course = fields.Integer()


class TicketOut(Schema):
    id = fields.Integer()
    number = fields.Integer(metadata={"description": "1, 2, 3... per location and business date, without gaps."})
    station_id = fields.Integer()
    location_id = fields.Integer()
    order_id = fields.Integer()
    table = fields.Function(lambda t: t.order.table_label, allow_none=True,
                            metadata={"type": "string", "nullable": True, "description": "The order's table now."})
    waiter = fields.Function(lambda t: {"id": t.order.waiter.id, "name": t.order.waiter.name},
                             metadata={"type": "object", "properties": {"id": {"type": "integer", "format": "int32"},
                                                                        "name": {"type": "string"}},
                                       "description": "The order's waiter now."})
    kind = fields.String(metadata={"enum": ["new", "void"]})
    status = fields.String(metadata={"enum": ["open", "ready"]})
    lines = fields.List(fields.Nested(TicketLineOut))
    created_at = UTCDateTime()
    ready_at = UTCDateTime(allow_none=True)
    late = fields.Boolean(metadata={"description": "Open longer than the station's alert_minutes, or made ready "
                                                   "later than that after creation."})
    version = fields.Integer(metadata={"description": "1, then + 1 per change (ready, recall, moved)."})


class TicketList(Schema):
    data = fields.List(fields.Nested(TicketOut))


class TicketQuery(Schema):
    class Meta:
        unknown = RAISE

    format = fields.String(validate=validate.OneOf(["json", "text"]), metadata={
        "description": "text: a 42-column plain-text rendering for a kitchen printer. Default json."})


class QueueQuery(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(load_default="open", validate=validate.OneOf(["open", "ready"]), metadata={
        "description": "open (default): the tickets to cook; ready: those made ready in the last 10 minutes "
                       "(a recall can still reach them)."})


class FireIn(Schema):
    course = strict_int(validate=validate.Range(min=1, max=9), metadata={
        "description": "Send the held lines of this course; without it, every held line.", "example": 2})


class ServedIn(Schema):
    item_ids = fields.List(id_field(strict=True, big=True), validate=validate.Length(min=1, max=200), metadata={
        "description": "The lines served; without it, every sent or ready line. A line that is not on the order, "
                       "voided or still held: 422 on item_ids.", "example": [7]})


class KitchenReportQuery(Schema):
    class Meta:
        unknown = RAISE

    start_date = bounded_date(metadata={"description": "First business date (inclusive). Default: end_date - 29."})
    end_date = bounded_date(metadata={"description": "Last business date (inclusive). Default: today's."})
    location_id = id_field(metadata={"description": "Only this location (not the caller's: 404)."})
    format = fields.String(validate=validate.OneOf(["json", "csv"]), metadata={
        "description": "csv answers text/csv (also chosen by `Accept: text/csv`). Default json."})

    @post_load
    def _range(self, data: dict, **_kwargs) -> dict:
        errors = range_errors(data.get("start_date"), data.get("end_date"), MAX_RANGE_DAYS)
        if errors:
            raise ValidationError(errors)
        return data | {"max_days": MAX_RANGE_DAYS}


class KitchenRowOut(Schema):
    station_id = fields.Integer()
    station_name = fields.String()
    tickets = fields.Integer(metadata={"description": "`new` tickets created in the range."})
    items = fields.Integer(metadata={"description": "Units on them (voided ones included)."})
    avg_seconds = fields.Integer(allow_none=True, metadata={"description": "Creation to ready, over ready ones."})
    max_seconds = fields.Integer(allow_none=True)
    late = fields.Integer(metadata={"description": "Made ready more than alert_minutes after creation, or still "
                                                  "open longer than that now."})


class KitchenReportOut(Schema):
    start_date = fields.Date()
    end_date = fields.Date()
    location_id = fields.Integer(allow_none=True)
    data = fields.List(fields.Nested(KitchenRowOut))

