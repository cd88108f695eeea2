"""Order shapes. Inputs reject unknown and server-owned fields (id, total, status, version, ...)."""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.fields import (
    Money,
    MoneyOut,
    OneOfOut,
    OneOfSchemas,
    Percent,
    RawAs,
    StrictBoolean,
    UTCDateTime,
    id_field,
    optional_text,
    strict_int,
    trimmed,
)
from app.models import EVENT_TYPES, KITCHEN_STATUSES, ORDER_STATUSES, PAYMENT_METHODS
from app.money import CURRENCY_DOC, MAX_PAYMENT, MAX_TENDERED
from app.web.pagination import PageQuery, page_schema

MAX_LINES = 200
MAX_BATCH = 500
MAX_MODIFIERS = 20


class ModifierIn(Schema):
    """A snapshot on the line (not a catalogue entry); its price is added to the line's unit price."""

    name = trimmed(1, 60, required=True, metadata={"example": "Extra guacamole"})
    price = Money(load_default=0, metadata={"example": "25.00", "description": "0 to 999999.99, default 0.00."})


SEAT = strict_int(allow_none=True, validate=validate.Range(min=0, max=99), metadata={
    "example": 2, "description": "The guest's seat, 0-99; 0 or null (the default) means shared."})


class LineIn(Schema):
    """Loads either kind of line: a catalogue line {product_id, quantity} or an ad-hoc line
    {product_name, unit_price, quantity}. Documented as ProductLineIn | AdHocLineIn."""

    product_id = id_field(strict=True, metadata={"example": 5})
    product_name = trimmed(1, 120, metadata={"example": "Agua de horchata"})
    unit_price = Money(metadata={"example": "25.50"})
    quantity = strict_int(required=True, validate=validate.Range(min=1, max=999), metadata={"example": 2})
    notes = optional_text(500, metadata={"example": "no onion"})
    seat = SEAT
    course = strict_int(validate=validate.Range(min=1, max=9), metadata={
        "example": 1, "description": "1-9, default 1. Course 1 is sent to the kitchen at once (unless the body "
                                     "says `hold`); later courses are held until `POST /orders/{id}/fire`."})
    modifiers = fields.List(
        fields.Nested(ModifierIn),
        validate=validate.Length(max=MAX_MODIFIERS),
        metadata={"description": "0-20 modifiers; the line's unit_price is its base price plus theirs.",
                  "example": [{"name": "Extra guacamole", "price": "25.00"}]},
    )

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
    seat = LineIn._declared_fields["seat"]
    course = LineIn._declared_fields["course"]
    modifiers = LineIn._declared_fields["modifiers"]


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
    seat = LineIn._declared_fields["seat"]
    course = LineIn._declared_fields["course"]
    modifiers = LineIn._declared_fields["modifiers"]


LINE_DESCRIPTION = (
    "A catalogue line (`product_id`) or an ad-hoc line (`product_name` + `unit_price`); "
    "the `required` sets tell them apart."
)


HOLD = StrictBoolean(load_default=False, metadata={
    "description": "true: every new line is held (kitchen_status `held`) until fired. Default false: lines of "
                   "course 1 are sent to the kitchen in this request, later courses held."})


def _lines(**kwargs) -> fields.List:
    line = OneOfSchemas(LineIn, variants=(ProductLineIn, AdHocLineIn), metadata={"description": LINE_DESCRIPTION})
    return fields.List(line, validate=validate.Length(min=1, max=MAX_LINES), required=True, **kwargs)


class OrderIn(Schema):
    customer_name = trimmed(1, 120, required=True, metadata={"example": "Ana"})
    table = optional_text(32, metadata={"example": "12", "description": "Free text (v1); with table_id the "
                                                                        "order answers that table's name."})
    table_id = id_field(strict=True, allow_none=True, metadata={
        "example": 7, "description": "An active table of the order's location (else 422 on table_id)."})
    guest_count = strict_int(allow_none=True, validate=validate.Range(min=1, max=99), metadata={
        "example": 3, "description": "1-99; null by default."})
    notes = optional_text(500)
    client_order_id = trimmed(1, 64, allow_none=True, load_default=None, metadata={"example": "tab3-000481"})
    location_id = id_field(strict=True, metadata={
        "example": 1,
        "description": "Where the order is taken. May be left out by a caller who belongs to exactly one active "
                       "location (that one) and by admins (the default location). A location the caller does "
                       "not belong to, or an inactive one, is 422 on location_id."})
    items = _lines()
    hold = HOLD


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
    hold = HOLD


class OrderPatch(Schema):
    OPENAPI_EXTRA = {"minProperties": 1}

    customer_name = trimmed(1, 120)
    table = optional_text(32, patch=True)
    notes = optional_text(500, patch=True)

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one of customer_name, table, notes.", "_schema")


def _drawer_session_id() -> fields.Integer:
    return id_field(strict=True, metadata={
        "example": 4, "description": "v1.2: the drawer session that takes this cash (default: your own open session, "
                                     "else the location's only open one). Closed: 409 drawer_session_closed; "
                                     "unknown or another location's: 422."})


class CloseIn(Schema):
    """`{"payment_method", "tip"?}` pays the whole balance with that method, then closes (v1);
    `{}` closes only when nothing is owed."""

    payment_method = fields.String(validate=validate.OneOf(PAYMENT_METHODS), metadata={"example": "card"})
    tip = Money(metadata={"example": "20.00", "description": "Only with payment_method; never revenue, never taxed."})
    drawer_session_id = _drawer_session_id()

    @validates_schema
    def _tip_needs_method(self, data, **kwargs):
        if "tip" in data and "payment_method" not in data:
            raise ValidationError("A tip needs a payment_method.", "tip")


def _positive_money(**kwargs) -> Money:
    return Money(validate=validate.Range(min=1, error="Must be greater than 0."), **kwargs)


class DiscountIn(Schema):
    """Exactly one of `percent` and `amount`; with `item_id` on that line, else on the whole order."""

    item_id = id_field(strict=True, big=True, metadata={"example": 7})
    percent = Percent(metadata={"example": "10"})
    amount = _positive_money(metadata={"example": "15.00"})
    reason = trimmed(1, 200, required=True, metadata={"example": "Birthday"})

    @validates_schema
    def _one_of(self, data, **kwargs):
        _exactly_one_of_percent_amount(data)


def _exactly_one_of_percent_amount(data) -> None:
    if "percent" in data and "amount" in data:
        raise ValidationError("Send percent or amount, not both.", "amount")
    if "percent" not in data and "amount" not in data:
        raise ValidationError("Send percent or amount.", "percent")


class CalculateDiscountIn(Schema):
    item_index = strict_int(validate=validate.Range(min=0, max=MAX_LINES - 1), metadata={
        "description": "Index in the body's items (from 0); without it, the whole order.", "example": 0})
    percent = Percent(metadata={"example": "10"})
    amount = _positive_money()
    reason = trimmed(1, 200)

    @validates_schema
    def _one_of(self, data, **kwargs):
        _exactly_one_of_percent_amount(data)


class CalculateIn(Schema):
    """A create body plus optional discounts; nothing is stored."""

    customer_name = trimmed(1, 120, metadata={"example": "Ana"})
    table = optional_text(32)
    notes = optional_text(500)
    client_order_id = trimmed(1, 64, allow_none=True)
    location_id = OrderIn._declared_fields["location_id"]
    items = _lines()
    discounts = fields.List(fields.Nested(CalculateDiscountIn), load_default=list,
                            validate=validate.Length(max=50))

    @validates_schema
    def _indexes(self, data, **kwargs):
        count = len(data.get("items") or [])
        for index, discount in enumerate(data.get("discounts") or []):
            if discount.get("item_index") is not None and discount["item_index"] >= count:
                raise ValidationError({str(index): {"item_index": ["No such line in items."]}}, "discounts")


class PaymentIn(Schema):
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS), metadata={"example": "cash"})
    amount = _positive_money(required=True, maximum=MAX_PAYMENT, metadata={
        "example": "300.00", "description": "Greater than 0, at most balance_due (422 `exceeds_balance`)."})
    tip = Money(load_default=0, metadata={"example": "30.00", "description": "At least 0; credited to the waiter."})
    tendered = Money(maximum=MAX_TENDERED, metadata={
        "example": "400.00", "description": "Cash only: at least amount + tip, at most 99999999.99."})
    reference = optional_text(120, metadata={"example": "auth 123456"})
    drawer_session_id = _drawer_session_id()

    @validates_schema
    def _tendered(self, data, **kwargs):
        if data.get("tendered") is None:
            return
        if data.get("method") != "cash":
            raise ValidationError("Only cash payments take tendered.", "tendered")
        if data["tendered"] < data.get("amount", 0) + data.get("tip", 0):
            raise ValidationError("Must be at least amount + tip.", "tendered")


class RefundLineIn(Schema):
    item_id = id_field(strict=True, big=True, required=True, metadata={"example": 7})
    quantity = strict_int(required=True, validate=validate.Range(min=1, max=999), metadata={"example": 1})


class RefundIn(Schema):
    items = fields.List(fields.Nested(RefundLineIn), required=True, validate=validate.Length(min=1, max=MAX_LINES))
    reason = trimmed(1, 200, required=True, metadata={"example": "Cold soup"})
    method = fields.String(validate=validate.OneOf(PAYMENT_METHODS), metadata={
        "description": "Default: the order's payment_method, or other when it is mixed or null."})
    drawer_session_id = _drawer_session_id()


class CancelIn(Schema):
    reason = trimmed(1, 200, required=True)
    drawer_session_id = _drawer_session_id()


class WaiterOut(Schema):
    id = fields.Integer()
    name = fields.String()


class ModifierOut(Schema):
    name = fields.String()
    price = MoneyOut(attribute="price_cents")


class UserRef(Schema):
    id = fields.Integer()
    name = fields.String()


class LineFiguresOut(Schema):
    """A line's money, for a stored order and for a calculation alike."""

    product_id = fields.Integer(allow_none=True)
    product_name = fields.String()
    unit_price = MoneyOut(attribute="unit_price_cents", metadata={"description": "Base price plus modifiers."})
    quantity = fields.Integer()
    line_total = MoneyOut(attribute="line_total_cents")
    notes = fields.String(allow_none=True)
    voided = fields.Boolean()
    modifiers = fields.List(fields.Nested(ModifierOut))
    tax_rate = Percent(allow_zero=True, attribute="tax_rate", dump_only=True,
                       metadata={"description": "Snapshot at creation, as a string (\"16\", \"8.5\")."})
    discount = MoneyOut(attribute="discount_cents",
                        metadata={"description": "Its line discounts plus its shares of order discounts."})
    tax = MoneyOut(attribute="tax_cents")
    net = MoneyOut(attribute="net_cents", metadata={
        "description": "Sales before tax: line_total - discount, less tax where prices include it."})


class LineOut(LineFiguresOut):
    id = fields.Integer()
    seat = fields.Integer(allow_none=True, metadata={"description": "0-99; 0 or null: shared.", "example": 2})
    course = fields.Integer(metadata={"description": "1-9.", "example": 1})
    kitchen_status = fields.String(metadata={
        "enum": list(KITCHEN_STATUSES),
        "description": "`held` (waiting to be fired), `sent` (sent; on a ticket when a station receives it), "
                       "`ready` (the station bumped its ticket), `served`, or `voided`."})


class DiscountFiguresOut(Schema):
    percent = Percent(attribute="percent", allow_none=True, dump_only=True)
    amount = MoneyOut(attribute="amount_cents", allow_none=True)
    applied = MoneyOut(attribute="applied_cents", metadata={
        "description": "What it takes off now. A percentage on a line moved in part by a split takes its share of "
                       "what it took of the whole line (the parts' shares add up to it exactly), not its percent "
                       "of the part."})
    reason = fields.String(allow_none=True)


class DiscountOut(DiscountFiguresOut):
    id = fields.Integer()
    item_id = fields.Integer(allow_none=True)
    created_by = fields.Nested(UserRef)
    created_at = UTCDateTime()


class CalculatedDiscountOut(DiscountFiguresOut):
    item_index = fields.Integer(allow_none=True)


class PaymentOut(Schema):
    id = fields.Integer()
    method = fields.String(metadata={"enum": list(PAYMENT_METHODS)})
    amount = MoneyOut(attribute="amount_cents")
    tip = MoneyOut(attribute="tip_cents")
    tendered = MoneyOut(attribute="tendered_cents", allow_none=True)
    change = MoneyOut(attribute="change_cents", allow_none=True, metadata={"description": "tendered - amount - tip."})
    reference = fields.String(allow_none=True)
    drawer_session_id = fields.Integer(allow_none=True, metadata={
        "description": "The drawer session that took it (cash) or on which it was recorded; null when none."})
    created_by = fields.Nested(UserRef)
    created_at = UTCDateTime()


class RefundLineOut(Schema):
    item_id = fields.Integer()
    quantity = fields.Integer()
    amount = MoneyOut(attribute="amount_cents")
    tax = MoneyOut(attribute="tax_cents")


class RefundOut(Schema):
    id = fields.Integer()
    items = fields.List(fields.Nested(RefundLineOut))
    amount = MoneyOut(attribute="amount_cents", metadata={"description": "Tax included, tip not."})
    tax = MoneyOut(attribute="tax_cents")
    tip = MoneyOut(attribute="tip_cents", metadata={"description": "Only a cancel returns tips."})
    method = fields.String(metadata={"enum": list(PAYMENT_METHODS)})
    reason = fields.String()
    business_date = fields.Date(metadata={"description": "The business date on which the refund was made."})
    drawer_session_id = fields.Integer(allow_none=True, metadata={
        "description": "The drawer session that gave it back (cash) or on which it was recorded; null when none."})
    created_by = fields.Nested(UserRef)
    created_at = UTCDateTime()


class EventOut(Schema):
    id = fields.Integer()
    type = fields.String(metadata={"enum": list(EVENT_TYPES)})
    actor = fields.Nested(UserRef)
    approved_by = fields.Nested(UserRef, allow_none=True, metadata={
        "description": "The manager whose approval token (X-Approval-Token) allowed the change; null when none "
                       "was needed or a manager acted directly."})
    at = UTCDateTime()
    data = fields.Dict(metadata={"description": "What changed (item ids, amounts, reasons) and `version`, the "
                                                "order's version after the change.",
                                 "example": {"payment_id": 3, "method": "card", "amount": "150.00", "tip": "15.00",
                                             "tendered": None, "change": None, "balance_due": "80.50",
                                             "version": 4}})


# -- each event type's `data`, documented per type (oneOf with `type` as discriminator) ----------------
# Documentation of what app/orders writes into an event's data; the answer is the stored object as is.
# Every data has `version`; members an older event may lack are not `required`. A new event type is one
# entry in EVENT_DATA (a type without one is documented with the open EventData).


class EventData(Schema):
    OPENAPI_EXTRA = {"required": ["version"], "additionalProperties": True}
    version = fields.Integer(metadata={"description": "The order's version after the change."})


class LinesEventData(EventData):
    item_ids = fields.List(fields.Integer())
    total = MoneyOut()
    split_from = fields.Integer(allow_none=True, metadata={"description": "created by a split: the source order."})


class ItemVoidedEventData(EventData):
    item_id = fields.Integer()
    total = MoneyOut()


class UpdatedEventData(EventData):
    changes = fields.Dict(metadata={"description": "The fields sent and their new values."})


class DiscountEventData(EventData):
    discount_id = fields.Integer()
    item_id = fields.Integer(allow_none=True)
    percent = fields.String(allow_none=True)
    amount = MoneyOut(allow_none=True)
    applied = MoneyOut()
    reason = fields.String()
    total = MoneyOut()


class PaymentData(Schema):
    payment_id = fields.Integer()
    method = fields.String(metadata={"enum": list(PAYMENT_METHODS)})
    amount = MoneyOut()
    tip = MoneyOut()
    tendered = MoneyOut(allow_none=True)
    change = MoneyOut(allow_none=True)


class PaymentAddedEventData(EventData, PaymentData):
    balance_due = MoneyOut()


class ClosedEventData(EventData):
    payment = fields.Nested(PaymentData, allow_none=True, metadata={"description": "The payment close made."})


class RefundData(Schema):
    refund_id = fields.Integer()
    items = fields.List(fields.Dict())
    amount = MoneyOut()
    tax = MoneyOut()
    tip = MoneyOut()
    method = fields.String(metadata={"enum": list(PAYMENT_METHODS)})
    reason = fields.String()


class CancelledEventData(EventData):
    reason = fields.String(allow_none=True)
    refund = fields.Nested(RefundData, allow_none=True, metadata={"description": "Cancelling a paid order refunds it."})


class RefundedEventData(EventData, RefundData):
    pass


EVENT_DATA: dict[str, type[Schema]] = {
    "created": LinesEventData, "items_added": LinesEventData, "item_voided": ItemVoidedEventData,
    "updated": UpdatedEventData, "discount_added": DiscountEventData, "discount_removed": DiscountEventData,
    "payment_added": PaymentAddedEventData, "closed": ClosedEventData, "cancelled": CancelledEventData,
    "refunded": RefundedEventData,
}


def _event_variant(type_: str) -> type[Schema]:
    """The event of one type: EventOut with `type` fixed and `data` typed (documentation only)."""
    name = "".join(part.capitalize() for part in type_.split("_")) + "EventOut"
    return Schema.from_dict({
        **{key: field for key, field in EventOut._declared_fields.items() if key not in ("type", "data")},
        "type": fields.String(metadata={"enum": [type_]}),
        "data": fields.Nested(EVENT_DATA.get(type_, EventData)),
    }, name=name)


EVENT_VARIANTS = {type_: _event_variant(type_) for type_ in EVENT_TYPES}


class CheckFiguresOut(Schema):
    """The money fields shared by an order and a calculation."""

    item_count = fields.Integer(metadata={"description": "Sum of quantities of non-voided lines."})
    subtotal = MoneyOut(attribute="subtotal_cents", metadata={"description": "Sum of non-voided line totals."})
    discount_total = MoneyOut(attribute="discount_total_cents")
    tax_total = MoneyOut(attribute="tax_total_cents")
    total = MoneyOut(attribute="total_cents", metadata={
        "description": "What the guest owes: subtotal - discount_total, plus tax_total where prices exclude tax "
                       "(the v1 total when there are no discounts and no tax)."})
    tip_total = MoneyOut(attribute="tip_total_cents")
    paid_total = MoneyOut(attribute="paid_total_cents")
    refund_total = MoneyOut(attribute="refund_total_cents", metadata={"description": "Refunds' amounts, tips not."})
    balance_due = MoneyOut(attribute="balance_due_cents", metadata={"description": "total - paid_total, never < 0."})
    currency = fields.Function(lambda _order: current_app.config["CURRENCY"], metadata=CURRENCY_DOC)


class CalculationOut(CheckFiguresOut):
    items = fields.List(fields.Nested(LineFiguresOut))
    discounts = fields.List(fields.Nested(CalculatedDiscountOut))


class OrderOut(CheckFiguresOut):
    id = fields.Integer()
    client_order_id = fields.String(allow_none=True)
    customer_name = fields.String()
    table = fields.String(attribute="table_name", allow_none=True, metadata={
        "description": "The v1 free text; when the order sits at a table (table_id), that table's name."})
    table_id = fields.Integer(allow_none=True, metadata={"example": 7})
    guest_count = fields.Integer(allow_none=True, metadata={"example": 3})
    split_from = fields.Integer(attribute="split_from_id", allow_none=True, metadata={
        "description": "The order this one was split from (POST /orders/{id}/split), else null."})
    merged_into = fields.Integer(attribute="merged_into_id", allow_none=True, metadata={
        "description": "With status `merged`: the order its lines moved into, else null."})
    notes = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(ORDER_STATUSES), "description": (
        "`merged`: its lines moved into `merged_into`; it has no lines that count and appears in no report.")})
    waiter = fields.Nested(WaiterOut)
    location_id = fields.Integer(metadata={"description": "The location the order was taken at.", "example": 1})
    items = fields.List(fields.Nested(LineOut))
    discounts = fields.List(fields.Nested(DiscountOut), attribute="active_discounts", metadata={
        "description": "The discounts in force, oldest first (a removed one stays in the order's history)."})
    payments = fields.List(fields.Nested(PaymentOut))
    refunds = fields.List(fields.Nested(RefundOut))
    payment_method = fields.String(allow_none=True, metadata={
        "enum": [*PAYMENT_METHODS, "mixed", None],
        "description": "The method of its payments, `mixed` when they differ; with none, the one given to close."})
    business_date = fields.Date(metadata={"description": "created_at's business date on the location's clock."})
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    closed_at = UTCDateTime(allow_none=True)
    cancelled_at = UTCDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    version = fields.Integer()
    folio = fields.Integer(allow_none=True, metadata={
        "description": "v1.2: given by the close, 1, 2, 3... per location in closing order, never reused; null "
                       "before.", "example": 128})


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
    error = fields.Dict(metadata={"description": "Problem-style {code, detail, errors} when rejected (v1.2: "
                                                "code `business_day_closed` for a closed business date)."})


class BatchOut(Schema):
    results = fields.List(fields.Nested(BatchResultOut))


OrderPage = page_schema(OrderOut, "OrderPage")

EventPage = Schema.from_dict({
    "data": fields.List(OneOfOut(EventOut, variants=EVENT_VARIANTS, discriminator="type")),
    "next_cursor": OrderPage._declared_fields["next_cursor"],
}, name="OrderEventPage")
