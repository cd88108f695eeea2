"""Query parameters and response shapes of the reports."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from functools import cache

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from app.fields import MoneyOut, bounded_date, id_field
from app.money import CURRENCY_DOC, cents_to_str

MAX_RANGE_DAYS = 3 * 366  # any report
MAX_HOURLY_RANGE_DAYS = 366  # /sales?granularity=hour: at most 8,784 periods
DEFAULT_RANGE_DAYS = 30


@cache
def row_plan(schema_class: type[Schema]) -> tuple[tuple[str, str, bool], ...]:
    """(output name, row key, is money) for each field of a row schema, in declaration order."""
    return tuple((name, field.attribute or name, isinstance(field, MoneyOut))
                 for name, field in schema_class().fields.items())


def present(schema_class: type[Schema], rows: Iterable[dict]) -> Iterator[dict]:
    """Rows dumped as `schema_class` would, without marshmallow's per-field machinery (about 4x
    faster: it matters for a year of hourly rows)."""
    plan = row_plan(schema_class)
    for row in rows:
        yield {name: cents_to_str(row[key]) if money else row[key] for name, key, money in plan}


class Rows(fields.List):
    """A list of report rows: documented as a list of the nested schema, dumped with `present`."""

    def __init__(self, row_schema: type[Schema], **kwargs) -> None:
        super().__init__(fields.Nested(row_schema), **kwargs)
        self.row_schema = row_schema

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else list(present(self.row_schema, value))


def range_errors(start: date | None, end: date | None, limit: int) -> dict[str, list[str]]:
    """What is wrong with a report range (both ends known), keyed by parameter; empty when it is fine."""
    if start is None or end is None:
        return {}
    if start > end:
        return {"start_date": ["Must not be after end_date."]}
    if (end - start).days + 1 > limit:
        return {"end_date": [f"The range may span at most {limit} days here."]}
    return {}


class ReportQuery(Schema):
    """Parameters every report takes. Unknown parameters are rejected (422)."""

    class Meta:
        unknown = RAISE

    start_date = bounded_date(metadata={"description": "First business date (YYYY-MM-DD), inclusive. "
                                                       "Default: end_date minus 29 days. The range spans at "
                                                       f"most {MAX_RANGE_DAYS} days (3 x 366; hourly: "
                                                       f"{MAX_HOURLY_RANGE_DAYS})."})
    end_date = bounded_date(metadata={"description": "Last business date (YYYY-MM-DD), inclusive. "
                                                     "Default: today's business date."})
    waiter_id = id_field(metadata={
        "description": "Only this waiter's orders. A waiter always gets only their own orders: "
                       "another waiter's id gives an empty report."})
    status = fields.String(validate=validate.OneOf(["open", "closed"]), metadata={
        "description": "Only closed (or only open) orders. Default: open and closed."})
    location_id = id_field(metadata={
        "description": "Only this location (one the caller does not belong to: 404). Default: every location "
                       "the caller may see."})
    format = fields.String(validate=validate.OneOf(["json", "csv"]), metadata={
        "description": "csv answers text/csv (also chosen by `Accept: text/csv`). Default json."})

    def max_days(self, _data: dict) -> int:
        return MAX_RANGE_DAYS

    @post_load
    def check_range(self, data: dict, **_kwargs) -> dict:
        """Check a range given in full: start <= end and at most max_days days. A missing end is today's
        business date of the report's locations, filled in by the service (app/reports/services.py)."""
        errors = range_errors(data.get("start_date"), data.get("end_date"), self.max_days(data))
        if errors:
            raise ValidationError(errors)
        return data | {"max_days": self.max_days(data)}


class ProductsQuery(ReportQuery):
    sort = fields.String(load_default="quantity", validate=validate.OneOf(["quantity", "revenue", "gross", "name"]),
                         metadata={"description": "Sort key; ties: quantity desc, revenue desc, name asc, id."})
    order = fields.String(validate=validate.OneOf(["desc", "asc"]), metadata={
        "description": "Default desc for quantity, revenue and gross, asc for name."})
    limit = fields.Integer(strict=False, validate=validate.Range(min=1, max=1000), metadata={
        "description": "At most this many rows (default: every product sold). `totals` always cover "
                       "every product of the range, whatever the limit."})


class SalesQuery(ReportQuery):
    granularity = fields.String(load_default="day", validate=validate.OneOf(["day", "hour"]), metadata={
        "description": f"day, or hour (ranges of at most {MAX_HOURLY_RANGE_DAYS} days)."})

    def max_days(self, data: dict) -> int:
        return MAX_HOURLY_RANGE_DAYS if data.get("granularity") == "hour" else MAX_RANGE_DAYS


class ReportOut(Schema):
    start_date = fields.Date()
    end_date = fields.Date()
    location_id = fields.Integer(allow_none=True, metadata={
        "description": "The location the report covers; null when it covers several (the caller's whole "
                       "scope when it has several locations and no location_id was given).", "example": 1})
    timezone = fields.String(allow_none=True, metadata={
        "description": "The location's IANA time zone; null over several locations.", "example": "America/Mexico_City"})
    currency = fields.String(metadata=CURRENCY_DOC)


def _money(description: str, example: str) -> MoneyOut:
    return MoneyOut(metadata={"description": description, "example": example})


REVENUE = "Net sales before tax: the lines' net less the refunds' net (amount - tax). Equal to the v1 figure " \
    "when there are no discounts, refunds or taxes."
GROSS = "The lines' line_total (menu prices; tax included where prices include it)."
DISCOUNTS = "The lines' discounts (line discounts and shares of order discounts)."
TAX = "The lines' tax less the refunds' tax."
REFUNDS = "What refunds gave back (tax included), on each refund's own business date."
TIPS = "The tips of the orders' payments, on the order's business date (never revenue, never taxed)."
TICKET = "revenue / orders, rounded half-to-even to the cent; 0.00 without orders."


def _revenue() -> MoneyOut:
    return MoneyOut(attribute="revenue_cents", metadata={"description": REVENUE, "example": "1000.00"})


def _money_fields() -> dict:
    """The v1.1 figures, after the v1 columns (CSV readers by position keep working)."""
    return {
        "gross": MoneyOut(attribute="gross_cents", metadata={"description": GROSS, "example": "1276.00"}),
        "discounts": MoneyOut(attribute="discount_cents", metadata={"description": DISCOUNTS, "example": "116.00"}),
        "refunds": MoneyOut(attribute="refund_cents", metadata={"description": REFUNDS, "example": "0.00"}),
        "tax": MoneyOut(attribute="tax_cents", metadata={"description": TAX, "example": "160.00"}),
    }


def _tips() -> MoneyOut:
    return MoneyOut(attribute="tip_cents", metadata={"description": TIPS, "example": "150.00"})


def _ticket() -> MoneyOut:
    return MoneyOut(attribute="average_ticket_cents", metadata={"description": TICKET, "example": "250.00"})


ProductRowOut = Schema.from_dict({
    "product_id": fields.Integer(),
    "product_name": fields.String(metadata={"description": "The catalogue's current name of the product."}),
    "quantity": fields.Integer(metadata={"description": "Units sold (0 for a product only refunded in the range)."}),
    "revenue": _revenue(),
    "orders": fields.Integer(metadata={"description": "Distinct counted orders containing the product."}),
    **_money_fields(),
    "quantity_refunded": fields.Integer(metadata={"description": "Units refunded, on the refunds' business dates."}),
}, name="ProductRowOut")

ProductTotalsOut = Schema.from_dict({
    "quantity": fields.Integer(),
    "revenue": _revenue(),
    "orders": fields.Integer(metadata={"description": "Distinct counted orders of the range (not the sum of "
                                                     "the rows' orders: an order with two products is one order)."}),
    **_money_fields(),
    "quantity_refunded": fields.Integer(),
}, name="ProductTotalsOut")


class ProductsReportOut(ReportOut):
    totals = fields.Nested(ProductTotalsOut)
    data = Rows(ProductRowOut)


WaiterRowOut = Schema.from_dict({
    "waiter_id": fields.Integer(),
    "waiter_name": fields.String(),
    "orders": fields.Integer(),
    "items": fields.Integer(),
    "revenue": _revenue(),
    "average_ticket": _ticket(),
    **_money_fields(),
    "tips": _tips(),
}, name="WaiterRowOut")

SalesTotalsOut = Schema.from_dict({
    "orders": fields.Integer(),
    "items": fields.Integer(),
    "revenue": _revenue(),
    **_money_fields(),
    "tips": _tips(),
}, name="SalesTotalsOut")

TicketTotalsOut = Schema.from_dict({
    "orders": fields.Integer(),
    "items": fields.Integer(),
    "revenue": _revenue(),
    **_money_fields(),
    "tips": _tips(),
    "average_ticket": MoneyOut(attribute="average_ticket_cents", metadata={
        "description": "totals.revenue / totals.orders, half-to-even; 0.00 without orders.", "example": "250.00"}),
}, name="TicketTotalsOut")


class WaitersReportOut(ReportOut):
    totals = fields.Nested(TicketTotalsOut)
    data = Rows(WaiterRowOut)


SalesRowOut = Schema.from_dict({
    "period": fields.String(metadata={"description": "Business date (YYYY-MM-DD) or local hour (YYYY-MM-DDTHH:00)."}),
    "orders": fields.Integer(),
    "items": fields.Integer(),
    "revenue": _revenue(),
    **_money_fields(),
    "tips": _tips(),
}, name="SalesRowOut")


class SalesReportOut(ReportOut):
    totals = fields.Nested(SalesTotalsOut)
    data = Rows(SalesRowOut)


LocationRowOut = Schema.from_dict({
    "location_id": fields.Integer(),
    "location_name": fields.String(metadata={"description": "The location's current name."}),
    "orders": fields.Integer(),
    "items": fields.Integer(),
    "revenue": _revenue(),
    "average_ticket": _ticket(),
    **_money_fields(),
    "tips": _tips(),
}, name="LocationRowOut")


class LocationsReportOut(ReportOut):
    totals = fields.Nested(TicketTotalsOut)
    data = Rows(LocationRowOut)


class PaymentsQuery(ReportQuery):
    """The till takes no `status`: every payment and refund made, cancelled orders included."""

    class Meta:
        unknown = RAISE
        exclude = ("status",)


def _till_fields() -> dict:
    return {
        "payments": fields.Integer(metadata={"description": "Payments made with the method (tip-only ones "
                                                            "included).", "example": 12}),
        "amount": MoneyOut(attribute="amount", metadata={"description": "What the payments paid towards checks.",
                                                         "example": "3480.00"}),
        "tips": MoneyOut(attribute="tips", metadata={"description": "The payments' tips.", "example": "420.00"}),
        "refunds": MoneyOut(attribute="refunds", metadata={
            "description": "What refunds with the method gave back, refunded tips included.", "example": "116.00"}),
        "net": MoneyOut(attribute="net_cents", metadata={"description": "amount + tips - refunds: what the till "
                                                                        "should hold for the method.",
                                                         "example": "3784.00"}),
    }


PaymentRowOut = Schema.from_dict({
    "method": fields.String(metadata={"description": "cash, card or other.", "example": "cash"}),
    **_till_fields(),
}, name="PaymentRowOut")

PaymentTotalsOut = Schema.from_dict(_till_fields(), name="PaymentTotalsOut")


class PaymentsReportOut(ReportOut):
    totals = fields.Nested(PaymentTotalsOut)
    data = Rows(PaymentRowOut)
