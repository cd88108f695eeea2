"""Drawer shapes: what members send and what they get back (money in, Decimal strings out)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.fields import Money, MoneyOut, UTCDateTime, trimmed
from app.models import MOVEMENT_TYPES, PAYMENT_METHODS
from app.web.pagination import PageQuery, page_schema


def _positive_money(**kwargs) -> Money:
    return Money(validate=validate.Range(min=1, error="Must be greater than 0."), **kwargs)


class DrawerIn(Schema):
    name = trimmed(1, 60, required=True, metadata={"example": "Caja 1"})


class SessionIn(Schema):
    opening_float = Money(required=True, metadata={"example": "1500.00", "description": "Cash in the drawer at "
                                                                                          "the start (0 allowed)."})


class MovementIn(Schema):
    type = fields.String(required=True, validate=validate.OneOf(MOVEMENT_TYPES), metadata={"example": "safe_drop"})
    amount = _positive_money(required=True, metadata={"example": "2000.00"})
    reason = trimmed(1, 200, required=True, metadata={"example": "Safe drop at 21:00"})


class SessionCloseIn(Schema):
    counted_cash = Money(required=True, metadata={"example": "3412.50", "description": "The cash counted blind."})
    reason = trimmed(1, 200, metadata={"example": "Change given twice", "description": "Required when |variance| "
                                                                                        "exceeds the location's "
                                                                                        "variance_tolerance."})


class ZQuery(Schema):
    format = fields.String(validate=validate.OneOf(("json", "csv", "text")), metadata={
        "description": "json (default), csv (`field,value` rows) or text (a 42-column printable slip)."})


class StaffRef(Schema):
    id = fields.Integer()
    name = fields.String()


class MethodRowOut(Schema):
    method = fields.String(metadata={"enum": list(PAYMENT_METHODS)})
    payments = fields.Integer()
    amount = MoneyOut()
    tips = MoneyOut()
    refunds = MoneyOut(metadata={"description": "What refunds gave back, tips included."})


class FiguresOut(Schema):
    cash_sales = MoneyOut(metadata={"description": "Amounts of the cash payments taken into the session."})
    cash_tips = MoneyOut(metadata={"description": "Tips of the cash payments taken into the session."})
    cash_refunds = MoneyOut(metadata={"description": "What cash refunds gave back, tips included."})
    pay_in = MoneyOut()
    pay_out = MoneyOut()
    safe_drop = MoneyOut()
    tip_out = MoneyOut()
    expected_cash = MoneyOut(metadata={"description": "opening_float + cash_sales + cash_tips - cash_refunds + "
                                                      "pay_in - pay_out - safe_drop - tip_out."})
    by_method = fields.List(fields.Nested(MethodRowOut), metadata={
        "description": "Per method, the payments and refunds taken into or recorded on the session; they add up "
                       "to what /reports/payments shows for them."})
    orders = fields.Integer(metadata={"description": "Distinct orders with a payment or refund on the session."})
    first_folio = fields.Integer(allow_none=True)
    last_folio = fields.Integer(allow_none=True)


class SessionOut(Schema):
    id = fields.Integer()
    drawer_id = fields.Integer()
    location_id = fields.Integer()
    status = fields.String(metadata={"enum": ["open", "closed"]})
    opened_by = fields.Nested(StaffRef)
    opened_at = UTCDateTime()
    opening_float = MoneyOut()
    closed_by = fields.Nested(StaffRef, allow_none=True)
    closed_at = UTCDateTime(allow_none=True)
    version = fields.Integer(metadata={"description": "+1 with every payment or refund taken into or recorded on "
                                                      "it, every movement, and the close (If-Match on close)."})
    figures = fields.Nested(FiguresOut, allow_none=True, metadata={
        "description": "null for waiters while the session is open (they count blind); frozen at the close."})
    counted_cash = MoneyOut(allow_none=True)
    variance = MoneyOut(allow_none=True, metadata={"description": "counted_cash - expected_cash; null for waiters "
                                                                  "while open."})
    variance_reason = fields.String(allow_none=True)
    approved_by = fields.Nested(StaffRef, allow_none=True, metadata={
        "description": "The manager whose drawer_variance approval let a waiter close; null otherwise."})
    z_number = fields.Integer(allow_none=True, metadata={"description": "1, 2, 3... per location in closing order."})


class ZOut(SessionOut):
    location_name = fields.String()
    drawer_name = fields.String()


class DrawerOut(Schema):
    id = fields.Integer()
    location_id = fields.Integer()
    name = fields.String()
    active = fields.Boolean()
    open_session = fields.Nested(SessionOut, allow_none=True)


DrawerPage = page_schema(DrawerOut, "DrawerPage")


class SessionListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(("open", "closed")))
    business_date = fields.Date(metadata={"description": "Only sessions opened on this business date."})


SessionPage = page_schema(SessionOut, "DrawerSessionPage")
DrawerListQuery = PageQuery


class MovementOut(Schema):
    id = fields.Integer()
    type = fields.String(metadata={"enum": list(MOVEMENT_TYPES)})
    amount = MoneyOut(attribute="amount_cents")
    reason = fields.String()
    created_by = fields.Nested(StaffRef)
    approved_by = fields.Nested(StaffRef, allow_none=True)
    created_at = UTCDateTime()


class TillRowOut(MethodRowOut):
    net = MoneyOut(metadata={"description": "amount + tips - refunds."})


class DayCloseOut(Schema):
    location_id = fields.Integer()
    business_date = fields.Date()
    closed_by = fields.Nested(StaffRef)
    closed_at = UTCDateTime()
    sessions = fields.List(fields.Integer(), metadata={"description": "z numbers of the sessions opened that date."})
    orders = fields.Integer()
    gross = MoneyOut()
    discounts = MoneyOut()
    refunds = MoneyOut()
    revenue = MoneyOut()
    tax = MoneyOut()
    tips = MoneyOut()
    by_method = fields.List(fields.Nested(TillRowOut), metadata={"description": "As /reports/payments."})
    first_folio = fields.Integer(allow_none=True)
    last_folio = fields.Integer(allow_none=True)
