"""Table rules: create, change, list with derived occupancy, and the table check orders use.

A table's `status` is never stored: it is `occupied` exactly while an open order sits on it, read from
the orders when the table is answered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.permissions import is_staff, visible_location
from app.errors import Conflict, ErrorCode, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import Order, Table, User, table_name_key


class DuplicateTable(Conflict):
    code, detail = ErrorCode.DUPLICATE_TABLE, "This location already has a table with this name."


def _require_staff(user: User) -> None:
    if not is_staff(user):
        raise Forbidden("Only a manager or admin may change tables.")


def _save(table: Table, changes: dict[str, Any]) -> Table:
    """Apply and flush in a savepoint: a concurrent twin's name is 409, not a broken transaction."""
    if "name" in changes:
        clash = db.session.scalar(select(Table.id).where(Table.location_id == table.location_id,
                                                         Table.name_key == table_name_key(changes["name"])))
        if clash is not None and clash != table.id:
            raise DuplicateTable()
    try:
        with db.session.begin_nested():
            for field, value in changes.items():
                setattr(table, field, value)
            db.session.add(table)
            db.session.flush()
    except IntegrityError:
        raise DuplicateTable() from None
    return table


def create_table(user: User, location_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """A new active table at a location the caller belongs to (managers, admins; others' location 404)."""
    location = visible_location(user, location_id)
    _require_staff(user)
    table = _save(Table(location_id=location.id, active=True), {"area": None, **data})
    return answer([table])[0]


def visible_table(user: User, table_id: int) -> Table:
    """The table if `user` belongs to its location; an unknown or another location's table is 404."""
    table = db.session.get(Table, table_id)
    if table is None:
        raise NotFound("No such table.")
    try:
        visible_location(user, table.location_id)
    except NotFound:
        raise NotFound("No such table.") from None
    return table


def update_table(user: User, table_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Change a table (managers of its location, admins)."""
    table = visible_table(user, table_id)
    _require_staff(user)
    return answer([_save(table, data)])[0]


def list_tables(user: User, location_id: int) -> list[dict[str, Any]]:
    """The location's tables by area (null first) then name, each with its status and open orders."""
    location = visible_location(user, location_id)
    tables = list(db.session.scalars(select(Table).where(Table.location_id == location.id)))
    tables.sort(key=lambda t: (t.area is not None, (t.area or "").casefold(), t.name_key, t.id))
    return answer(tables)


def answer(tables: list[Table]) -> list[dict[str, Any]]:
    """Tables as answered: each with its open orders (one query for all) and the status they make."""
    ids = [table.id for table in tables]
    by_table: dict[int, list[Order]] = {table_id: [] for table_id in ids}
    if ids:
        stmt = (select(Order).where(Order.table_id.in_(ids), Order.status == "open")
                .order_by(Order.created_at, Order.id).execution_options(populate_existing=True))
        for order in db.session.scalars(stmt).unique():
            by_table[order.table_id].append(order)  # type: ignore[index]  # table_id is in ids
    return [
        {"id": t.id, "location_id": t.location_id, "name": t.name, "seats": t.seats, "area": t.area,
         "active": t.active, "status": "occupied" if by_table[t.id] else "free", "open_orders": by_table[t.id]}
        for t in tables
    ]


def table_for_order(location_id: int, table_id: int | None, *, field: str = "table_id") -> Table | None:
    """The active table of the order's location an order may sit at; anything else is 422 on `field`."""
    if table_id is None:
        return None
    table = db.session.get(Table, table_id)
    if table is None or table.location_id != location_id:
        raise ValidationFailed(errors={field: ["Unknown table, or one of another location."]})
    if not table.active:
        raise ValidationFailed(errors={field: ["The table is inactive and takes no new orders."]})
    return table


def tables_by_id(table_ids: list[int]) -> dict[int, Table]:
    """Tables by id in one query (batch sync checks each order's table against its location)."""
    if not table_ids:
        return {}
    return {t.id: t for t in db.session.scalars(select(Table).where(Table.id.in_(set(table_ids))))}
