"""Location shapes: what admins send and what everybody gets back."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.business_time import is_iana_zone
from app.fields import Money, MoneyOut, Percent, StrictBoolean, UTCDateTime, trimmed
from app.web.pagination import PageQuery, page_schema

HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class TimeZone(fields.String):
    """An IANA time zone name such as "America/Mexico_City" ("localtime", "Factory", posix/ and right/ are not)."""

    default_error_messages = {"zone": "Unknown time zone; use an IANA name such as America/Mexico_City."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(1, 64), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        if not is_iana_zone(name):
            raise self.make_error("zone")
        return name


class DayStart(fields.String):
    """`HH:MM`, 24-hour clock: when a business day starts on the location's wall clock."""

    default_error_messages = {"hhmm": "Must be HH:MM on a 24-hour clock, such as 04:00."}

    def __init__(self, **kwargs: Any) -> None:
        pattern = {"pattern": f"^{HH_MM.pattern}$", "maxLength": 5}
        super().__init__(**{**kwargs, "metadata": {**pattern, **kwargs.get("metadata", {})}})

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not HH_MM.fullmatch(text):
            raise self.make_error("hhmm")
        return text


def _fields(required: bool) -> dict[str, fields.Field]:
    extra = {"required": True} if required else {}
    return {
        "name": trimmed(1, 120, **extra, metadata={"example": "Polanco", "description": "Unique, ignoring case "
                                                    "and surrounding spaces."}),
        "timezone": TimeZone(**extra, metadata={"example": "America/Mexico_City", "description": "IANA name."}),
        "day_starts_at": DayStart(metadata={"example": "04:00", "description": "HH:MM the business "
                                                        "day starts at (default 00:00)."}),
        "tax_rate": Percent(allow_zero=True, thousandths=True,
                            metadata={"description": 'Percentage 0-100 with up to 3 decimals (default "0").'}),
        "prices_include_tax": StrictBoolean(metadata={"description": "Menu prices already "
                                                                   "include tax (default false)."}),
        "variance_tolerance": Money(metadata={"example": "20.00", "description": "v1.2: a drawer close whose "
                                              "|variance| exceeds it needs a reason (default \"0.00\")."}),
    }


LocationIn = Schema.from_dict(_fields(required=True), name="LocationIn")


class LocationPatch(Schema.from_dict({**_fields(required=False),  # type: ignore[misc]
                                      "active": StrictBoolean(metadata={
                                          "description": "false: the location takes no new orders."})})):
    """PATCH /locations/{id}: any of the fields; changes apply to orders created afterwards."""

    OPENAPI_EXTRA = {"minProperties": 1}

    @validates_schema
    def _not_empty(self, data: dict, **_kwargs: Any) -> None:
        if not data:
            raise ValidationError("Send at least one field to change.", "_schema")


class LocationOut(Schema):
    id = fields.Integer(metadata={"example": 2})
    name = fields.String(metadata={"example": "Polanco"})
    timezone = fields.String(metadata={"example": "America/Mexico_City"})
    day_starts_at = fields.String(metadata={"example": "04:00"})
    tax_rate = Percent(allow_zero=True, thousandths=True, attribute="tax_rate_thousandths", dump_only=True)
    prices_include_tax = fields.Boolean()
    variance_tolerance = MoneyOut(attribute="variance_tolerance_cents", metadata={
        "description": "v1.2: a drawer close whose |variance| exceeds it needs a reason (and a waiter approval)."})
    active = fields.Boolean()
    default = fields.Boolean(attribute="is_default", metadata={
        "description": "The chain's first location: admins' orders go there when they name none."})
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class LocationListQuery(PageQuery):
    active = fields.Boolean(metadata={"description": "Only active (true) or inactive (false) locations."})


LocationPage = page_schema(LocationOut, "LocationPage")
