"""Location rules: create and change. Who may see which location is app/auth/permissions.py's."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.permissions import member_location_ids
from app.errors import Conflict, ErrorCode, NotFound
from app.extensions import db
from app.models import Location, User, location_name_key
from app.web.pagination import paginate


class DuplicateLocation(Conflict):
    code, detail = ErrorCode.DUPLICATE_LOCATION, "A location with this name already exists."


COLUMNS = {"name": "name", "timezone": "timezone", "day_starts_at": "day_starts_at",
           "tax_rate": "tax_rate_thousandths", "prices_include_tax": "prices_include_tax", "active": "active",
           "variance_tolerance": "variance_tolerance_cents"}


def list_locations(user: User, args: dict[str, Any]) -> tuple[list[Location], str | None]:
    """Locations by id: admins see all, others the ones they belong to."""
    stmt = select(Location)
    ids = member_location_ids(user)
    if ids is not None:
        stmt = stmt.where(Location.id.in_(ids))
    if "active" in args:
        stmt = stmt.where(Location.active.is_(args["active"]))
    return paginate(stmt, (Location.id,), limit=args["limit"], cursor=args["cursor"], descending=False)


def _save(location: Location, changes: dict[str, Any]) -> Location:
    """Apply and flush in a savepoint: a concurrent twin's name is 409, not a broken transaction."""
    if "name" in changes:
        clash = db.session.scalar(select(Location.id).where(Location.name_key == location_name_key(changes["name"])))
        if clash is not None and clash != location.id:
            raise DuplicateLocation()
    try:
        with db.session.begin_nested():
            for field, value in changes.items():
                setattr(location, COLUMNS[field], value)
            db.session.add(location)
            db.session.flush()
    except IntegrityError:
        raise DuplicateLocation() from None
    return location


def create_location(data: dict[str, Any]) -> Location:
    """A new active location (never the default one)."""
    defaults = {"day_starts_at": "00:00", "tax_rate": 0, "prices_include_tax": False, "variance_tolerance": 0}
    changes = {**defaults, **data}
    return _save(Location(active=True, is_default=False), changes)


def update_location(location_id: int, data: dict[str, Any]) -> Location:
    """Change a location; orders already taken keep their business dates and tax snapshot."""
    location = db.session.get(Location, location_id)
    if location is None:
        raise NotFound("No such location.")
    return _save(location, data)


DEFAULT_NAME = "Main"  # as migrations/versions/0002_locations.py names it


def ensure_default_location() -> Location:
    """The default location, made from BUSINESS_TIMEZONE / BUSINESS_DAY_STARTS_AT as the migration does
    when the database has none (a database emptied by hand, the tests' clean slate)."""
    location = db.session.scalar(select(Location).where(Location.is_default))
    if location is None:
        location = Location(name=DEFAULT_NAME, timezone=current_app.config["BUSINESS_TIMEZONE"],
                            day_starts_at=current_app.config["BUSINESS_DAY_STARTS_AT"], tax_rate_thousandths=0,
                            prices_include_tax=False, active=True, is_default=True)
        db.session.add(location)
        db.session.flush()
    return location
