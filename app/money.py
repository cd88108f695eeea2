"""Exact money: integer cents in the database, Decimal in Python, "12.50" strings on the wire."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from marshmallow import ValidationError, fields

CENT = Decimal("0.01")
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MAX_UNIT_PRICE = Decimal("999999.99")


def cents_to_str(cents: int) -> str:
    """1250 -> "12.50" (exact, also for large and negative amounts)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def to_cents(amount: Decimal) -> int:
    """Decimal with at most two places -> integer cents."""
    return int((amount * 100).to_integral_exact())


class Money(fields.Field):
    """A price: JSON string or number, at most two decimals, 0 <= x <= 999999.99. Loads to cents."""

    OPENAPI = {
        "oneOf": [
            {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$"},
            {"type": "number", "minimum": 0, "maximum": 999999.99, "multipleOf": 0.01},
        ],
        "description": "Exact amount: a decimal string (\"25.50\") or a JSON number, at most two decimals, "
        "0 to 999999.99.",
        "example": "25.50",
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(**{**kwargs, "metadata": {**self.OPENAPI, **kwargs.get("metadata", {})}})

    default_error_messages = {
        "invalid": 'Must be a decimal amount such as "12.50".',
        "places": "Must have at most two decimal places.",
        "range": "Must be between 0 and 999999.99.",
    }

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        # Numbers arrive as Decimal (the JSON provider never makes floats); bools are not money.
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise self.make_error("invalid")
        if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
            raise self.make_error("invalid")  # Decimal() would also take "1_000", "1e2", Arabic digits
        try:
            amount = Decimal(value)
        except (InvalidOperation, ValueError):
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("invalid")
        if amount.as_tuple().exponent < -2:  # "12.345", and also "12.500" as written
            raise self.make_error("places")
        if amount < 0 or amount > MAX_UNIT_PRICE:
            raise self.make_error("range")
        return to_cents(amount.quantize(CENT))

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else cents_to_str(value)


class MoneyOut(fields.Field):
    """Cents -> "12.50" for any amount (totals may exceed the unit-price cap)."""

    OPENAPI = {
        "type": "string",
        "pattern": r"^-?[0-9]+\.[0-9]{2}$",
        "description": "Exact decimal amount with two places.",
        "example": "75.50",
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(**{**kwargs, "metadata": {**self.OPENAPI, **kwargs.get("metadata", {})}})

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else cents_to_str(value)

    def _deserialize(self, value, attr, data, **kwargs):  # pragma: no cover - output only
        raise ValidationError("read-only")
