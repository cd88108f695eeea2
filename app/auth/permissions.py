"""Authorization in one place: the `auth_required` decorator, the current user, and which orders,
reports and locations each user may see and use."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import TypeVar

from flask import has_request_context, request
from flask_jwt_extended import current_user as _jwt_current_user
from flask_jwt_extended import verify_jwt_in_request
from flask_smorest.utils import deepupdate
from sqlalchemy import Select, select

from app.errors import Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import ROLES, Location, Order, User
from app.web.openapi import ROLES_EXTENSION
from app.web.ratelimit import count_user

F = TypeVar("F", bound=Callable)
STAFF = ("manager", "admin")


def auth_required(*roles: str, refresh: bool = False) -> Callable[[F], F]:
    """Require a valid access token (a refresh token with `refresh=True`), and one of `roles` when given."""
    allowed = roles or ROLES
    unknown = set(allowed) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            count_user(current_user().id)
            if current_user().role not in allowed:
                raise Forbidden()
            return view(*args, **kwargs)

        wrapper._comanda_roles = tuple(allowed)  # type: ignore[attr-defined]
        # The security requirement and the roles travel with flask-smorest's doc info.
        apidoc = deepcopy(getattr(view, "_apidoc", {}))
        wrapper._apidoc = deepupdate(  # type: ignore[attr-defined]
            apidoc, {"manual_doc": {"security": [{"bearerAuth": []}], ROLES_EXTENSION: list(allowed)}}
        )
        return wrapper  # type: ignore[return-value]

    return decorator


def current_user() -> User:
    """The authenticated user of this request (after auth_required)."""
    return _jwt_current_user._get_current_object()


def is_staff(user: User) -> bool:
    """Managers and admins see every order and report of their locations (admins: every location)."""
    return user.role in STAFF


# -- locations: who sees which orders, reports and locations -----------------------------------------------
# Every location rule of the API lives below; routes and services ask, they never decide themselves.
# Waiters see their own orders; managers the orders of their locations; admins everything.


def default_location() -> Location:
    """The chain's default location (made by the migration from BUSINESS_TIMEZONE)."""
    location = db.session.scalar(select(Location).where(Location.is_default))
    if location is None:  # only a database built without the migrations (never in service)
        raise NotFound("The chain has no default location.")
    return location


def member_location_ids(user: User) -> list[int] | None:
    """The ids of the locations `user` belongs to; None for admins (every location)."""
    if user.role == "admin":
        return None
    return [location.id for location in user.locations]


def user_location_ids(user: User) -> list[int]:
    """The `location_ids` a User answers: their locations, or every location's id for admins."""
    ids = member_location_ids(user)
    if ids is not None:
        return ids
    # One query per request however many admins a page lists (kept in the request's environ: an app
    # context, and so `g`, may outlive a request).
    cache = request.environ if has_request_context() else {}
    if "comanda.all_location_ids" not in cache:
        cache["comanda.all_location_ids"] = list(db.session.scalars(select(Location.id).order_by(Location.id)))
    return list(cache["comanda.all_location_ids"])


def visible_locations(user: User, *, active: bool | None = None) -> list[Location]:
    """The locations `user` may see (admins: all), by id."""
    stmt = select(Location).order_by(Location.id)
    ids = member_location_ids(user)
    if ids is not None:
        stmt = stmt.where(Location.id.in_(ids))
    if active is not None:
        stmt = stmt.where(Location.active.is_(active))
    return list(db.session.scalars(stmt))


def visible_location(user: User, location_id: int) -> Location:
    """The location if `user` belongs to it (admins: any); an unknown or foreign one is 404 alike."""
    location = db.session.get(Location, location_id)
    ids = member_location_ids(user)
    if location is None or (ids is not None and location_id not in ids):
        raise NotFound("No such location.")
    return location


def scope_orders(user: User, stmt: Select) -> Select:
    """`stmt` over Order limited to what `user` may see: a waiter their own, a manager their locations'."""
    if user.role == "waiter":
        return stmt.where(Order.waiter_id == user.id)
    ids = member_location_ids(user)
    return stmt if ids is None else stmt.where(Order.location_id.in_(ids))


def report_locations(user: User, location_id: int | None) -> tuple[list[Location], bool]:
    """The locations a report covers and whether it must filter on them.

    `?location_id=` narrows to one location (404 outside the caller's); without it a report covers
    every location the caller may see. Admins over the whole chain need no filter at all.
    """
    if location_id is not None:
        return [visible_location(user, location_id)], True
    return visible_locations(user), member_location_ids(user) is not None


class OrderLocations:
    """Where `user` may take new orders: loaded once, then chosen per order body (create and batch)."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.admin = user.role == "admin"
        mine = db.session.scalars(select(Location)) if self.admin else user.locations
        self.by_id = {location.id: location for location in mine}

    def choose(self, location_id: int | None) -> Location:
        """The order's location: the one asked for, else the caller's only active one, else (admins) the
        default; anything else is 422 on `location_id`."""
        if location_id is not None:
            location = self.by_id.get(location_id)
            if location is None:
                raise _bad_location("Unknown location, or one you do not belong to.")
        elif self.admin:
            location = next((loc for loc in self.by_id.values() if loc.is_default), None)
            if location is None:
                raise _bad_location("The chain has no default location: send location_id.")
        else:
            active = [loc for loc in self.by_id.values() if loc.active]
            if len(active) != 1:
                raise _bad_location("Required: you belong to several active locations." if active
                                    else "You belong to no active location.")
            location = active[0]
        if not location.active:
            raise _bad_location("The location is inactive and takes no new orders.")
        return location


def _bad_location(message: str) -> ValidationFailed:
    return ValidationFailed(errors={"location_id": [message]})
