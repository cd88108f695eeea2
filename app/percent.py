"""Exact percentages: integer thousandths of a percent inside, "16" / "8.5" / "12.125" on the wire."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from marshmallow import ValidationError, fields

PERCENT_SCALE = 1000  # 16% -> 16000 (the models store percentages so, see app/models/location.py)
PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")


def thousandths_to_str(value: int) -> str:
    """16000 -> "16", 8500 -> "8.5", 12125 -> "12.125": no trailing zeros, never an exponent."""
    whole, part = divmod(int(value), PERCENT_SCALE)
    return f"{whole}.{part:03d}".rstrip("0") if part else str(whole)


class Percent(fields.Field):
    """A percentage: JSON string or number, at most 3 decimals, within [minimum, maximum]. Loads to thousandths."""

    default_error_messages = {
        "invalid": 'Must be a percentage such as "16" or "8.5".',
        "places": "Must have at most three decimal places.",
        "range": "Must be between {minimum} and {maximum}.",
    }

    def __init__(self, *, minimum: int = 0, maximum: int = 100, **kwargs) -> None:
        self.minimum, self.maximum = minimum, maximum
        doc = {
            "oneOf": [
                {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,3})?$"},
                {"type": "number", "minimum": minimum, "maximum": maximum, "multipleOf": 0.001},
            ],
            "description": f"Percentage {minimum}-{maximum}, a decimal string or JSON number with at most 3 decimals.",
            "example": "16",
        }
        super().__init__(**{**kwargs, "metadata": {**doc, **kwargs.get("metadata", {})}})

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        # Numbers arrive as Decimal (the JSON provider never makes floats); bools are not percentages.
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise self.make_error("invalid")
        if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
            raise self.make_error("invalid")
        try:
            amount = Decimal(value)
        except (InvalidOperation, ValueError):
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("invalid")
        if amount.as_tuple().exponent < -3:
            raise self.make_error("places")
        if amount < self.minimum or amount > self.maximum:
            raise self.make_error("range", minimum=self.minimum, maximum=self.maximum)
        return int((amount * PERCENT_SCALE).to_integral_exact())

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else thousandths_to_str(value)


class PercentOut(fields.Field):
    """Thousandths of a percent -> "8.5" (output only)."""

    def __init__(self, **kwargs) -> None:
        doc = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,3})?$", "example": "16",
               "description": "Percentage without trailing zeros: \"16\", \"8.5\", \"12.125\"."}
        super().__init__(**{**kwargs, "metadata": {**doc, **kwargs.get("metadata", {})}})

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else thousandths_to_str(value)

    def _deserialize(self, value, attr, data, **kwargs):  # pragma: no cover - output only
        raise ValidationError("read-only")
