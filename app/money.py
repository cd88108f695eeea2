"""Exact money: integer cents in the database, Decimal in Python, "12.50" strings on the wire."""

from __future__ import annotations

import re
from decimal import Decimal

CENT = Decimal("0.01")
# A plain ASCII decimal as a client writes money or a percentage: no exponent, no sign but minus.
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MAX_UNIT_PRICE = Decimal("999999.99")
# A payment is bounded by its order's balance_due alone (API.md v1.2 details), so the field's own cap
# only keeps the figure a number: above any balance an order can reach (200 lines x 999 units x a
# unit price and 20 modifiers at MAX_UNIT_PRICE, taxed). Cash handed over may be up to MAX_TENDERED.
MAX_PAYMENT = Decimal("9999999999999.99")
MAX_TENDERED = Decimal("99999999.99")
# The ISO 4217 codes a deployment may set as CURRENCY (checked by config.py), documented as an enum so
# clients get a closed type. A new market is one more entry.
CURRENCIES = ("MXN", "USD", "CAD", "EUR", "GBP", "CHF", "COP", "CLP", "PEN", "ARS", "BRL", "UYU", "PYG", "BOB",
              "GTQ", "HNL", "NIO", "CRC", "PAB", "DOP", "JPY", "AUD", "NZD")
CURRENCY_DOC = {"type": "string", "enum": list(CURRENCIES), "example": "MXN",
                "description": "ISO 4217 code of every amount (the deployment's CURRENCY)."}


def cents_to_str(cents: int) -> str:
    """1250 -> "12.50" (exact, also for large and negative amounts)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def to_cents(amount: Decimal) -> int:
    """Decimal with at most two places -> integer cents."""
    return int((amount * 100).to_integral_exact())
