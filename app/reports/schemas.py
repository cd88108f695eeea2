"""Query parameters and response shapes of the reports."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from functools import cache

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from app.fields import MoneyOut, bounded_date, id_field
from app.money import cents_to_str

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
    sort = fields.String(load_default="quantity", validate=validate.OneOf(["quantity", "revenue", "name"]),
                         metadata={"description": "Sort key; ties: quantity desc, revenue desc, name asc, id."})
    order = fields.String(validate=validate.OneOf(["desc", "asc"]), metadata={
        "description": "Default desc for quantity and revenue, asc for name."})
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
    currency = fields.String(metadata={"description": "ISO 4217 code of every amount."})


class ProductRowOut(Schema):
    product_id = fields.Integer()
    product_name = fields.String(metadata={"description": "The catalogue's current name of the product."})
    quantity = fields.Integer()
    revenue = MoneyOut(attribute="revenue_cents")
    orders = fields.Integer(metadata={"description": "Distinct counted orders containing the product."})


class ProductTotalsOut(Schema):
    quantity = fields.Integer()
    revenue = MoneyOut(attribute="revenue_cents")
    orders = fields.Integer(metadata={"description": "Distinct counted orders of the range (not the sum of "
                                                     "the rows' orders: an order with two products is one order)."})


class ProductsReportOut(ReportOut):
    totals = fields.Nested(ProductTotalsOut)
    data = Rows(ProductRowOut)


class WaiterRowOut(Schema):
    waiter_id = fields.Integer()
    waiter_name = fields.String()
    orders = fields.Integer()
    items = fields.Integer()
    revenue = MoneyOut(attribute="revenue_cents")
    average_ticket = MoneyOut(attribute="average_ticket_cents", metadata={
        "description": "revenue / orders, rounded half up to the cent."})


class SalesTotalsOut(Schema):
    orders = fields.Integer()
    items = fields.Integer()
    revenue = MoneyOut(attribute="revenue_cents")


class WaitersReportOut(ReportOut):
    totals = fields.Nested(SalesTotalsOut)
    data = Rows(WaiterRowOut)


class SalesRowOut(Schema):
    period = fields.String(metadata={"description": "Business date (YYYY-MM-DD) or local hour (YYYY-MM-DDTHH:00)."})
    orders = fields.Integer()
    items = fields.Integer()
    revenue = MoneyOut(attribute="revenue_cents")


class SalesReportOut(ReportOut):
    totals = fields.Nested(SalesTotalsOut)
    data = Rows(SalesRowOut)


class LocationRowOut(Schema):
    location_id = fields.Integer()
    location_name = fields.String(metadata={"description": "The location's current name."})
    orders = fields.Integer()
    items = fields.Integer()
    revenue = MoneyOut(attribute="revenue_cents")
    average_ticket = MoneyOut(attribute="average_ticket_cents", metadata={
        "description": "revenue / orders, rounded half up to the cent."})


class LocationsReportOut(ReportOut):
    totals = fields.Nested(SalesTotalsOut)
    data = Rows(LocationRowOut)
