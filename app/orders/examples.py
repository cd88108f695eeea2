"""OpenAPI examples of the check (tests/orders/test_check_docs.py proves the pricing function agrees)."""

from __future__ import annotations

WORKED_EXAMPLE = """
**How a check is priced** (in this order, every time the order changes; every rounding half-to-even
to the cent, once):
1. line discounts, oldest first: a percentage takes round(gross x percent / 100), an amount itself,
   each capped at what the line has left;
2. order discounts, oldest first, against what the lines have left: a percentage takes
   round(left x percent / 100), an amount min(amount, left); each is shared among the non-voided
   lines in proportion to what each has left, by the largest-remainder method (ties: lower item first);
3. tax per line on gross - discount: round(amount x rate / 100) where prices exclude tax,
   round(amount x rate / (100 + rate)) where they include it.

Worked example: a location with IVA 16% included in its prices, 10.00 off the whole order, three lines:

| line | gross | exact share | share | tax | net |
|---|---|---|---|---|---|
| 3 x Taco al pastor | 75.00 | 3.1185 | 3.12 | 9.91 | 61.97 |
| 1 x Agua de horchata | 25.50 | 1.0603 | 1.06 | 3.37 | 21.07 |
| 1 x Mole poblano | 140.00 | 5.8212 | 5.82 | 18.51 | 115.67 |
| | 240.50 | | 10.00 | 31.79 | 198.71 |

The whole cents (3.11 + 1.06 + 5.82 = 9.99) leave one cent; it goes to the largest remainder (the
taco's). Each tax is round((gross - share) x 16 / 116), e.g. 71.88 -> 9.91. subtotal 240.50,
discount_total 10.00, tax_total 31.79, total 230.50 (tax is inside the prices, so it is not added).
"""

CALCULATE_EXAMPLE = {
    "customer_name": "Ana",
    "items": [
        {"product_id": 5, "quantity": 3, "modifiers": [{"name": "Sin cebolla", "price": "0.00"}]},
        {"product_name": "Agua de horchata", "unit_price": "25.50", "quantity": 1},
        {"product_id": 9, "quantity": 1},
    ],
    "discounts": [{"amount": "10.00", "reason": "Regular customer"}],
}


def _line(name, product_id, unit, quantity, total, discount, tax, net, modifiers=()):
    return {
        "product_id": product_id, "product_name": name, "unit_price": unit, "quantity": quantity,
        "line_total": total, "notes": None, "voided": False,
        "modifiers": [{"name": m, "price": "0.00"} for m in modifiers],
        "tax_rate": "16", "discount": discount, "tax": tax, "net": net,
    }


CALCULATION_EXAMPLE = {
    "item_count": 5,
    "subtotal": "240.50",
    "discount_total": "10.00",
    "tax_total": "31.79",
    "total": "230.50",
    "tip_total": "0.00",
    "paid_total": "0.00",
    "refund_total": "0.00",
    "balance_due": "230.50",
    "currency": "MXN",
    "items": [
        _line("Taco al pastor", 5, "25.00", 3, "75.00", "3.12", "9.91", "61.97", ["Sin cebolla"]),
        _line("Agua de horchata", 12, "25.50", 1, "25.50", "1.06", "3.37", "21.07"),
        _line("Mole poblano", 9, "140.00", 1, "140.00", "5.82", "18.51", "115.67"),
    ],
    "discounts": [
        {"item_index": None, "percent": None, "amount": "10.00", "applied": "10.00", "reason": "Regular customer"}
    ],
}


_WHO = {"id": 3, "name": "Luis"}
_BOSS = {"id": 2, "name": "Marta"}

# An order split between a card and cash (with change), then one taco refunded the next day.
SETTLED_ORDER_EXAMPLE = {
    "id": 42, "client_order_id": "tab3-000481", "customer_name": "Ana", "table": "T12", "notes": None,
    "table_id": 12, "guest_count": 2, "split_from": None, "merged_into": None,  # v1.2 floor
    "status": "closed", "waiter": _WHO, "location_id": 1, "folio": 17,  # v1.2: the close's folio
    "items": [
        {"id": 7, "product_id": 5, "product_name": "Taco al pastor", "unit_price": "25.00", "quantity": 2,
         "line_total": "50.00", "notes": None, "seat": 1, "course": 1, "kitchen_status": "served", "voided": False,
         "modifiers": [], "tax_rate": "0",
         "discount": "5.00", "tax": "0.00", "net": "45.00"},
        {"id": 8, "product_id": 12, "product_name": "Agua de horchata", "unit_price": "27.00", "quantity": 1,
         "line_total": "27.00", "notes": None, "seat": 2, "course": 1, "kitchen_status": "served", "voided": False,
         "modifiers": [{"name": "Grande", "price": "1.50"}], "tax_rate": "0",
         "discount": "0.00", "tax": "0.00", "net": "27.00"},
    ],
    "item_count": 3, "subtotal": "77.00", "discount_total": "5.00", "tax_total": "0.00", "total": "72.00",
    "tip_total": "10.00", "paid_total": "72.00", "refund_total": "22.50", "balance_due": "0.00",
    "currency": "MXN", "payment_method": "mixed",
    "discounts": [{"id": 1, "item_id": 7, "percent": "10", "amount": None, "applied": "5.00", "reason": "Regular",
                   "created_by": _BOSS, "created_at": "2026-11-21T20:20:00Z"}],
    "payments": [
        {"id": 1, "method": "card", "amount": "40.00", "tip": "6.00", "tendered": None, "change": None,
         "reference": "auth 123456", "drawer_session_id": 3, "created_by": _WHO, "created_at": "2026-11-21T21:02:10Z"},
        {"id": 2, "method": "cash", "amount": "32.00", "tip": "4.00", "tendered": "50.00", "change": "14.00",
         "reference": None, "drawer_session_id": 3, "created_by": _WHO, "created_at": "2026-11-21T21:03:40Z"},
    ],
    "refunds": [
        {"id": 1, "items": [{"item_id": 7, "quantity": 1, "amount": "22.50", "tax": "0.00"}], "amount": "22.50",
         "tax": "0.00", "tip": "0.00", "method": "other", "reason": "Cold taco", "business_date": "2026-11-22",
         "drawer_session_id": None,
         "created_by": _BOSS, "created_at": "2026-11-22T19:00:00Z"},
    ],
    "business_date": "2026-11-21", "created_at": "2026-11-21T20:15:03Z", "updated_at": "2026-11-22T19:00:00Z",
    "closed_at": "2026-11-21T21:03:41Z", "cancelled_at": None, "cancel_reason": None, "version": 6,
}

EVENTS_EXAMPLE = {
    "data": [
        {"id": 101, "type": "created", "actor": _WHO, "approved_by": None, "at": "2026-11-21T20:15:03Z",
         "data": {"item_ids": [7, 8], "total": "77.00", "version": 1}},
        {"id": 102, "type": "discount_added", "actor": _WHO, "approved_by": _BOSS, "at": "2026-11-21T20:20:00Z",
         "data": {"discount_id": 1, "item_id": 7, "percent": "10", "amount": None, "applied": "5.00",
                  "reason": "Regular", "total": "72.00", "version": 2}},
        {"id": 103, "type": "payment_added", "actor": _WHO, "approved_by": None, "at": "2026-11-21T21:02:10Z",
         "data": {"payment_id": 1, "method": "card", "amount": "40.00", "tip": "6.00", "tendered": None,
                  "change": None, "balance_due": "32.00", "version": 3}},
    ],
    "next_cursor": "WzEwM10",
}
