"""Authorization in one place: the `auth_required` decorator and the current user."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask_jwt_extended import current_user as _jwt_current_user
from flask_jwt_extended import verify_jwt_in_request

from app.errors import Forbidden
from app.models import ROLES, User

F = TypeVar("F", bound=Callable)
STAFF = ("manager", "admin")


def auth_required(*roles: str) -> Callable[[F], F]:
    """Require a valid access token, and one of `roles` when given (default: any role)."""
    allowed = roles or ROLES
    unknown = set(allowed) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request()
            if current_user().role not in allowed:
                raise Forbidden()
            return view(*args, **kwargs)

        # Read by app/openapi.py to document the security scheme and the 401/403 answers.
        wrapper._comanda_roles = tuple(allowed)  # type: ignore[attr-defined]
        apidoc = getattr(view, "_apidoc", None)
        if apidoc is not None:
            wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def current_user() -> User:
    """The authenticated user of this request (after auth_required)."""
    return _jwt_current_user._get_current_object()  # type: ignore[attr-defined]


def is_staff(user: User) -> bool:
    """Managers and admins see every order and report."""
    return user.role in STAFF
