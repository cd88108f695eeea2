"""Exact percentages: Decimal inside, "12.125" strings on the wire (at most three decimals, no trailing zeros)."""

from __future__ import annotations

from decimal import Decimal

from app.money import PLAIN_DECIMAL

HUNDRED = Decimal(100)
PLACES = 3


def percent_str(percent: Decimal) -> str:
    """Decimal("16.000") -> "16", Decimal("8.50") -> "8.5", Decimal("12.125") -> "12.125"."""
    text = format(percent, "f")  # pragma: no mutate ("F" differs only for NaN and Infinity, never a percentage)
    return text.rstrip("0").rstrip(".") if "." in text else text  # pragma: no mutate (rstrip("XX0XX") is the same)


MAX_PERCENT_LENGTH = 16  # the documented maxLength: "100.000" with room for leading zeros


def parse_percent(value: object, *, allow_zero: bool) -> Decimal:
    """A JSON string or number with at most three decimals, in (0, 100] (or [0, 100] with allow_zero).

    Raises ValueError with the message a client should read.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError('Must be a percentage such as "16" or "12.125".')
    if isinstance(value, str) and (len(value) > MAX_PERCENT_LENGTH or not PLAIN_DECIMAL.fullmatch(value)):
        raise ValueError('Must be a percentage such as "16" or "12.125".')
    percent = Decimal(value)  # a plain decimal string, an int or a Decimal: always a Decimal
    if not percent.is_finite():
        raise ValueError('Must be a percentage such as "16" or "12.125".')
    exponent = percent.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PLACES:  # "12.1255", and also "12.1250" as written (as Money does)
        raise ValueError("Must have at most three decimal places.")
    if percent > HUNDRED or percent < 0 or (percent == 0 and not allow_zero):
        raise ValueError("Must be between 0 and 100." if allow_zero else "Must be greater than 0 and at most 100.")
    return percent


# Stored percentages (a location's or an order's tax rate) are integer thousandths: 16% -> 16000.
PERCENT_SCALE = 1000


def to_thousandths(percent: Decimal) -> int:
    """Decimal("12.125") -> 12125 (exact: percentages have at most three decimals)."""
    return int((percent * PERCENT_SCALE).to_integral_exact())


def from_thousandths(value: int) -> Decimal:
    """12125 -> Decimal("12.125")."""
    return Decimal(int(value)) / PERCENT_SCALE


def thousandths_to_str(value: int) -> str:
    """16000 -> "16", 8500 -> "8.5", 12125 -> "12.125": no trailing zeros, never an exponent."""
    return percent_str(from_thousandths(value))
