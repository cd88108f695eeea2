"""Exact money: integer cents in the database, Decimal in Python, "12.50" strings on the wire."""

from __future__ import annotations

import re
from decimal import Decimal

CENT = Decimal("0.01")
# A plain ASCII decimal as a client writes money or a percentage: no exponent, no sign but minus.
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
