"""Stations and their routes: managers of the location and admins configure, members look."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from app.auth.permissions import member_location_ids, visible_location
from app.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from app.extensions import db
from app.models import KitchenRoute, Product, Station, User, category_key


class DuplicateRoute(Conflict):
    code, detail = ErrorCode.DUPLICATE_ROUTE, "A product or category is already routed to another station here."


def list_stations(user: User, location_id: int) -> list[Station]:
    """The location's stations by id (members; another location is 404)."""
    location = visible_location(user, location_id)
    return list(db.session.scalars(select(Station).where(Station.location_id == location.id).order_by(Station.id)))


def visible_station(user: User, station_id: int, *, lock: bool = False) -> Station:
    """A station of one of the caller's locations; anything else is 404."""
    stmt = select(Station).where(Station.id == station_id)
    if lock:
        stmt = stmt.with_for_update()
    station = db.session.scalar(stmt)
    ids = member_location_ids(user)
    if station is None or (ids is not None and station.location_id not in ids):
        raise NotFound("No such station.")
    return station


def create_station(user: User, location_id: int, data: dict[str, Any]) -> Station:
    """A new station with its routes (409 duplicate_route when another station has one of them)."""
    location = visible_location(user, location_id)
    station = Station(location_id=location.id, name=data["name"], categories=[], product_ids=[],
                      is_default=False, alert_minutes=data.get("alert_minutes", 15), active=True, queue_version=1)
    db.session.add(station)
    db.session.flush()
    _apply(station, data)
    return station


def patch_station(user: User, station_id: int, data: dict[str, Any]) -> Station:
    """Change a station's name, routes, default flag, alert_minutes or active flag."""
    station = visible_station(user, station_id, lock=True)
    for key in ("name", "alert_minutes", "active"):
        if key in data:
            setattr(station, key, data[key])
    _apply(station, data)
    return station


def _apply(station: Station, data: dict[str, Any]) -> None:
    if "product_ids" in data:
        _check_products(data["product_ids"])
        _replace_routes(station, "product", [str(pid) for pid in data["product_ids"]])
        station.product_ids = list(data["product_ids"])
    if "categories" in data:
        _replace_routes(station, "category", [category_key(c) for c in data["categories"]])
        station.categories = list(data["categories"])
    if data.get("default") is True and not station.is_default:
        # At most one default per location: the former one stops being it (first, for the unique index).
        db.session.execute(update(Station).where(Station.location_id == station.location_id, Station.is_default)
                           .values(is_default=False).execution_options(synchronize_session="fetch"))
        db.session.flush()
        station.is_default = True
    elif data.get("default") is False:
        station.is_default = False
    db.session.flush()


def _check_products(product_ids: list[int]) -> None:
    known = set(db.session.scalars(select(Product.id).where(Product.id.in_(product_ids)))) if product_ids else set()
    errors = {f"product_ids.{i}": ["Unknown product."] for i, pid in enumerate(product_ids) if pid not in known}
    if errors:
        raise ValidationFailed(errors=errors)


def _replace_routes(station: Station, kind: str, values: list[str]) -> None:
    taken = db.session.scalar(select(KitchenRoute.value).where(
        KitchenRoute.location_id == station.location_id, KitchenRoute.kind == kind,
        KitchenRoute.value.in_(values), KitchenRoute.station_id != station.id).limit(1)) if values else None
    if taken is not None:
        raise DuplicateRoute(detail=f"The {kind} {taken!r} is already routed to another station of this location.")
    db.session.execute(delete(KitchenRoute).where(KitchenRoute.station_id == station.id, KitchenRoute.kind == kind))
    if values:
        db.session.add_all([KitchenRoute(location_id=station.location_id, kind=kind, value=value,
                                         station_id=station.id) for value in values])
