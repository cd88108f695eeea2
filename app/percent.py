"""Exact percentages: Decimal inside, "12.125" strings on the wire (at most three decimals, no trailing zeros)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import ValidationError, fields

from app.money import PLAIN_DECIMAL

HUNDRED = Decimal(100)
PLACES = 3


def percent_str(percent: Decimal) -> str:
    """Decimal("16.000") -> "16", Decimal("8.50") -> "8.5", Decimal("12.125") -> "12.125"."""
    text = format(percent, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_percent(value: object, *, allow_zero: bool) -> Decimal:
    """A JSON string or number with at most three decimals, in (0, 100] (or [0, 100] with allow_zero).

    Raises ValueError with the message a client should read.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError('Must be a percentage such as "16" or "12.125".')
    if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
        raise ValueError('Must be a percentage such as "16" or "12.125".')
    try:
        percent = Decimal(value)
    except (InvalidOperation, ValueError):
        raise ValueError('Must be a percentage such as "16" or "12.125".') from None
    if not percent.is_finite():
        raise ValueError('Must be a percentage such as "16" or "12.125".')
    if percent.as_tuple().exponent < -PLACES:  # "12.1255", and also "12.1250" as written (as Money does)
        raise ValueError("Must have at most three decimal places.")
    if percent > HUNDRED or percent < 0 or (percent == 0 and not allow_zero):
        raise ValueError("Must be between 0 and 100." if allow_zero else "Must be greater than 0 and at most 100.")
    return percent


class Percent(fields.Field):
    """A percentage: JSON string or number, at most three decimals; loads to Decimal, dumps as "12.125"."""

    def __init__(self, *, allow_zero: bool = False, **kwargs) -> None:
        self.allow_zero = allow_zero
        low = "0" if allow_zero else "greater than 0"
        openapi = {
            "oneOf": [
                {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,3})?$"},
                {"type": "number", "minimum": 0, "maximum": 100, "exclusiveMinimum": not allow_zero,
                 "multipleOf": 0.001},
            ],
            "description": f"A percentage from {low} to 100 with at most three decimals, as a string or number; "
            'answered as a string without trailing zeros ("16", "8.5", "12.125").',
            "example": "16",
        }
        super().__init__(**{**kwargs, "metadata": {**openapi, **kwargs.get("metadata", {})}})

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        try:
            return parse_percent(value, allow_zero=self.allow_zero)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else percent_str(Decimal(value))
