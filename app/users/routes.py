"""Users routes: staff accounts (admins manage them; managers may look)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView

from app.auth.permissions import auth_required, current_user
from app.auth.schemas import UserOut
from app.models import User
from app.users import services
from app.users.schemas import UserIn, UserListQuery, UserPage, UserPatchIn
from app.web.json_body import Blueprint
from app.web.openapi import links_doc, problem_doc

CREATED_USER = {"user_id": "$response.body#/id"}  # links from the 201 answer to the operations on it

blp = Blueprint("users", __name__, description="Staff accounts: waiters, managers and admins.")

SELF_CONFLICT = problem_doc(
    "`cannot_deactivate_self` or `cannot_change_own_role`: admins cannot lock themselves out; another admin can."
)
LOCATION = {"Location": {"description": "URL of the new user.", "schema": {"type": "string"}}}


@blp.route("")
class Users(MethodView):
    @auth_required("manager", "admin")
    @blp.arguments(UserListQuery, location="query")
    @blp.response(200, UserPage)
    @blp.doc(operationId="listUsers")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List users, newest first.

        `q` matches name or email, case-insensitively. Paginated with `limit` and `cursor`.
        """
        rows, next_cursor = services.list_users(**args)
        return {"data": rows, "next_cursor": next_cursor}

    @auth_required("admin")
    @blp.arguments(UserIn)
    @blp.response(201, UserOut, headers=LOCATION)
    @blp.alt_response(409, **problem_doc("`duplicate_email`: a user with this email exists."))
    @blp.doc(operationId="createUser")
    @blp.doc(**links_doc(201, getUser=CREATED_USER, updateUser=CREATED_USER, deleteUser=CREATED_USER))
    def post(self, data: dict[str, Any]) -> tuple[User, int, dict[str, str]]:
        """Create a user (role defaults to waiter).

        Waiters and managers belong to `location_ids` (default: the default location; empty or an unknown
        id is 422); admins belong to every location and their list is not read.
        """
        user = services.create_user(services.UserInput(**data))
        return user, 201, {"Location": url_for("users.UserItem", user_id=user.id)}


@blp.route("/<int:user_id>")
class UserItem(MethodView):
    @auth_required()
    @blp.response(200, UserOut)
    @blp.doc(operationId="getUser")
    def get(self, user_id: int) -> User:
        """Get a user: managers and admins see anyone, others only themselves (else 404)."""
        return services.get_visible_user(current_user(), user_id)

    @auth_required("admin")
    @blp.arguments(UserPatchIn)
    @blp.response(200, UserOut)
    @blp.alt_response(409, **SELF_CONFLICT)
    @blp.doc(operationId="updateUser")
    def patch(self, changes: dict[str, Any], user_id: int) -> User:
        """Change a user's name, role, active flag, password or locations.

        The email never changes (422). Deactivating, changing the role or the password ends all
        of that user's sessions at once.
        """
        return services.update_user(current_user(), user_id, changes)

    @auth_required("admin")
    @blp.response(204)
    @blp.alt_response(409, **SELF_CONFLICT)
    @blp.doc(operationId="deleteUser")
    def delete(self, user_id: int) -> None:
        """Deactivate a user; their orders keep them as waiter and their tokens stop working."""
        services.deactivate_user(current_user(), user_id)
