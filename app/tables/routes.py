"""Tables routes: a location's tables (members look; managers of the location and admins change)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.auth.permissions import auth_required, current_user
from app.tables import services
from app.tables.schemas import TableIn, TableListOut, TableOut, TablePatch
from app.web import idempotency
from app.web.idempotency import idempotent
from app.web.json_body import Blueprint
from app.web.openapi import problem_doc

blp = Blueprint(
    "tables",
    __name__,
    description=(
        "A location's tables. `status` is derived, never set: `occupied` exactly while an open order sits on "
        "the table (several may: separate parties, or a split check), listed in `open_orders`. Another "
        "location's table is 404, as an unknown one."
    ),
)

TABLE_EXAMPLE = {"id": 7, "location_id": 1, "name": "T4", "seats": 4, "area": "Terraza", "active": True,
                 "status": "occupied", "open_orders": [{"id": 41, "waiter": {"id": 3, "name": "Luis"},
                                                        "guest_count": 3, "total": "412.50",
                                                        "created_at": "2026-11-21T20:15:03Z"}]}
DUPLICATE = problem_doc("`duplicate_table`: the location has a table with this name (trimmed, any case).")


@blp.route("/locations/<int:location_id>/tables")
class LocationTables(MethodView):
    @blp.doc(operationId="listTables")
    @auth_required()
    @blp.response(200, TableListOut, example={"data": [TABLE_EXAMPLE]})
    def get(self, location_id: int) -> dict[str, Any]:
        """The location's tables by area (no area first), then name, each with its status and open orders."""
        return {"data": services.list_tables(current_user(), location_id)}

    @blp.doc(operationId="createTable")
    @auth_required()
    @idempotent
    @blp.doc(**idempotency.DOC)
    @blp.arguments(TableIn, example={"name": "T4", "seats": 4, "area": "Terraza"})
    @blp.response(201, TableOut, example={**TABLE_EXAMPLE, "status": "free", "open_orders": []})
    @blp.alt_response(403, **problem_doc("`forbidden`: waiters may not create tables."))
    @blp.alt_response(409, **DUPLICATE)
    def post(self, data: dict[str, Any], location_id: int) -> tuple[dict[str, Any], int]:
        """Create a table (managers of the location, admins)."""
        return services.create_table(current_user(), location_id, data), 201


@blp.route("/tables/<int:table_id>")
class TableById(MethodView):
    @blp.doc(operationId="updateTable")
    @auth_required()
    @blp.arguments(TablePatch, example={"area": "Salón", "active": False})
    @blp.response(200, TableOut, example=TABLE_EXAMPLE)
    @blp.alt_response(403, **problem_doc("`forbidden`: waiters may not change tables."))
    @blp.alt_response(409, **DUPLICATE)
    def patch(self, data: dict[str, Any], table_id: int) -> dict[str, Any]:
        """Change a table's name, seats, area or active flag (managers of its location, admins)."""
        return services.update_table(current_user(), table_id, data)
