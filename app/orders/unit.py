"""The one way to change an order: a unit of work that owns the ritual every change shares.

    with changing(order, user, "item_voided", item_id=item.id) as change:
        item.voided = True            # the change itself
        checks.reprice(order)
        change.data["total"] = ...    # event data known only after the change

On entry it refuses an order that is not open (409 order_not_open, unless `require_open=False`: a
cancel or refund of a closed order) and starts tracking the order's rollup contribution. On a normal
exit it raises `version` by exactly one, stamps `updated_at` and appends exactly one history event
(with `approved_by`), written in the rollup deltas' statement. If the block raises, none of that
happens and the request rolls back. New orders go through `creating()`, the same ritual at version 1.
Nothing else in the code base may bump a version or write an order event (tests/orders/test_unit_of_work.py
walks every route and checks `version == number of events` and the rollups against the rows)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from app.columns import utcnow
from app.errors import Conflict, ErrorCode
from app.figures import rollups
from app.models import Order, User
from app.orders import history


class OrderNotOpen(Conflict):
    code, detail = ErrorCode.ORDER_NOT_OPEN, "The order is closed or cancelled."


@dataclass
class Change:
    """What the block may add to the change before it is recorded: event data, the approver, and for
    `creating()` the new order itself."""

    data: dict[str, Any]
    approved_by: User | None = None
    order: Order | None = None
    tracked: rollups.Changes = field(default_factory=rollups.Changes)


@contextmanager
def changing(order: Order, actor: User, event: str, *, approved_by: User | None = None,
             require_open: bool = True, **data: Any) -> Iterator[Change]:
    """Change an existing (row-locked) order: open check, rollups, version + 1, one `event`."""
    if require_open and order.status != "open":
        raise OrderNotOpen()
    with rollups.tracking(order) as tracked:
        change = Change(dict(data), approved_by, order, tracked)
        yield change
        order.version += 1
        order.updated_at = utcnow()
        history.record(order, actor, event, tracked=tracked, approved_by=change.approved_by, **change.data)


@contextmanager
def creating(actor: User, *, approved_by: User | None = None, **data: Any) -> Iterator[Change]:
    """Create an order: the block inserts it (version 1) and sets `change.order`; on exit it enters the
    rollups and gets its one `created` event."""
    with rollups.tracking() as tracked:
        change = Change(dict(data), approved_by, None, tracked)
        yield change
        order = change.order
        if order is None:  # the block decided to create nothing (a repeated client_order_id)
            return
        if order.version != 1:
            raise RuntimeError("a new order starts at version 1")
        history.record(order, actor, "created", tracked=tracked, approved_by=change.approved_by, **change.data)
        tracked.created(order)


@dataclass
class NewOrders:
    """The orders a batch inserted: `add(order_id, contribution source, event data)` for each."""

    created: list[tuple[int, Any, dict[str, Any]]] = field(default_factory=list)

    def add(self, order_id: int, new_order: Any, **data: Any) -> None:
        self.created.append((order_id, new_order, data))


@contextmanager
def creating_many(actor: User) -> Iterator[NewOrders]:
    """Create many orders in bulk (batch sync): the block inserts them at version 1 and `add()`s each;
    on exit they enter the rollups and each gets its one `created` event, all in one statement."""
    with rollups.tracking() as tracked:
        batch = NewOrders()
        yield batch
        for _, new_order, _ in batch.created:
            tracked.created(new_order)
        history.record_created(actor, [(order_id, data) for order_id, _, data in batch.created], tracked,
                               [new_order.location_id for _, new_order, _ in batch.created])
