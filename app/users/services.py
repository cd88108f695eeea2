"""User rules: creation, updates, deactivation. Services flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.auth.passwords import hash_password, set_pin
from app.auth.permissions import default_location, is_staff
from app.emails import normalize_email
from app.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from app.extensions import db
from app.models import Location, User
from app.web.pagination import paginate


class DuplicateEmail(Conflict):
    code, detail = ErrorCode.DUPLICATE_EMAIL, "A user with this email already exists."


class CannotDeactivateSelf(Conflict):
    code, detail = ErrorCode.CANNOT_DEACTIVATE_SELF, "Admins cannot deactivate themselves; ask another admin."


class CannotChangeOwnRole(Conflict):
    code, detail = ErrorCode.CANNOT_CHANGE_OWN_ROLE, "Admins cannot change their own role; ask another admin."


@dataclass
class UserInput:
    email: str
    name: str
    password: str
    role: str = "waiter"
    location_ids: list[int] | None = None  # None: the default location (waiters and managers)


def create_user(data: UserInput) -> User:
    """Create a user with a lowercased email and an argon2id hash."""
    email = normalize_email(data.email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise DuplicateEmail()
    user = User(
        email=email,
        name=data.name.strip(),
        role=data.role,
        password_hash=hash_password(data.password),
        active=True,
        token_version=1,
    )
    assign_locations(user, data.location_ids)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent request inserted the same email after our check
        raise DuplicateEmail() from None
    return user


def get_user(user_id: int) -> User:
    """The user with this id, or 404."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def get_visible_user(viewer: User, user_id: int) -> User:
    """Managers and admins see every user; anybody else only themself (others are 404)."""
    if not is_staff(viewer) and viewer.id != user_id:
        raise NotFound("No such user.")
    return get_user(user_id)


def list_users(
    *, limit: int, cursor: str | None, role: str | None = None, active: bool | None = None, q: str | None = None
) -> tuple[list[User], str | None]:
    """One page of users, newest first, filtered by role, active flag and a name/email substring."""
    stmt = select(User).options(selectinload(User.locations))
    if role is not None:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if q:
        stmt = stmt.where(or_(User.name.icontains(q, autoescape=True), User.email.icontains(q, autoescape=True)))
    return paginate(stmt, (User.created_at, User.id), limit=limit, cursor=cursor)


def update_user(actor: User, user_id: int, changes: dict[str, Any]) -> User:
    """Apply a PATCH. Deactivation, a role change or a new password end all the user's sessions."""
    user = get_user(user_id)
    new_role = changes.get("role", user.role) != user.role
    deactivating = user.active and changes.get("active") is False
    if user.id == actor.id and deactivating:  # the actor is active, or their token would have been refused
        raise CannotDeactivateSelf()
    if user.id == actor.id and new_role:
        raise CannotChangeOwnRole()
    ends_sessions = new_role or deactivating or "password" in changes
    was_admin = user.role == "admin"
    for field in ("name", "role", "active"):
        if field in changes:
            setattr(user, field, changes[field])
    if "location_ids" in changes or (was_admin and user.role != "admin") or user.role == "admin":
        assign_locations(user, changes.get("location_ids"))
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
    if "pin" in changes:
        set_pin(user, changes["pin"])
    elif user.role == "waiter":
        user.pin_hash = None  # a waiter holds no PIN (demoted managers lose theirs)
    if ends_sessions:
        revoke_all_tokens(user)
    db.session.flush()
    return user


def assign_locations(user: User, location_ids: list[int] | None) -> None:
    """Set a waiter's or manager's locations (None: the default location); admins keep none stored.

    An empty list or an unknown id is 422 on `location_ids` / `location_ids.<n>`.
    """
    if user.role == "admin":
        user.locations = []
        return
    if location_ids is None:
        user.locations = [default_location()]
        return
    if not location_ids:
        raise ValidationFailed(errors={"location_ids": ["Waiters and managers belong to at least one location."]})
    wanted = list(dict.fromkeys(location_ids))
    found = {loc.id: loc for loc in db.session.scalars(select(Location).where(Location.id.in_(wanted)))}
    unknown = {f"location_ids.{n}": ["Unknown location."] for n, lid in enumerate(location_ids) if lid not in found}
    if unknown:
        raise ValidationFailed(errors=unknown)
    user.locations = [found[lid] for lid in wanted]


def deactivate_user(actor: User, user_id: int) -> None:
    """DELETE /users/{id}: deactivate (orders keep their waiter); repeating it is harmless."""
    update_user(actor, user_id, {"active": False})


def revoke_all_tokens(user: User) -> None:
    """Every access and refresh token issued to `user` so far stops working."""
    user.token_version += 1
