"""Authorization in one place: the `auth_required` decorator and the current user."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import TypeVar

from flask_jwt_extended import current_user as _jwt_current_user
from flask_jwt_extended import verify_jwt_in_request
from flask_smorest.utils import deepupdate

from app.errors import Forbidden
from app.models import ROLES, User
from app.web.openapi import ROLES_EXTENSION

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
    """Managers and admins see every order and report."""
    return user.role in STAFF
