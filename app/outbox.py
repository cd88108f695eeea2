"""The change feed's writer (API.md v1.2 "Change feed"): one feed event per change, in the
transaction of the change.

Order changes reach the feed through their history event (app/orders/unit.py -> history.record);
everything else that the feed carries (kitchen tickets, drawer sessions and movements, business
days) calls `publish()` at the point of the change, inside the request's transaction:

    publish(location_id=..., type="kitchen_ticket.created", subject=("kitchen_ticket", ticket.id, ticket.version),
            actor=user, data={...})

(The change-feed work fills in the storage; until then this records nothing.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.models import User


def publish(*, location_id: int, type: str, subject: tuple[str, int, int], actor: User | None,  # noqa: A002
            data: dict[str, Any], approved_by: User | None = None, occurred_at: datetime | None = None) -> None:
    """Append one feed event for a change made in the current transaction."""
    return None
