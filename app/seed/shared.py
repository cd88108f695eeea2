"""What the demo seed and the bulk seed share."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Order

CUSTOMERS = ("Ana", "Beto", "Carmen", "Diego", "Elena", "Fer", "Gaby", "Hugo", "Inés", "Javier")
MODIFIERS = (("Extra queso", 1500), ("Extra guacamole", 2500), ("Sin cebolla", 0), ("Doble carne", 3000))  # cents
# Local hours a table sits down, weighted: breakfast, a lunch peak (14-16 h) and a dinner peak (20-22 h).
HOURS = ((8, 2), (9, 3), (10, 2), (13, 5), (14, 9), (15, 8), (16, 4), (19, 5), (20, 9), (21, 8), (22, 4), (23, 1))


def has_orders_from(prefix: str) -> bool:
    """Whether an order's client_order_id starts with `prefix` (a seed that ran already)."""
    return db.session.scalar(select(Order.id).where(Order.client_order_id.like(f"{prefix}%")).limit(1)) is not None
