"""Cash drawer routes: drawers, sessions, movements, the X and the Z, the day close."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView

from app.auth.permissions import auth_required, current_user
from app.cash import days, services
from app.cash.figures import csv_rows, text_slip
from app.cash.schemas import (
    DayCloseOut,
    DrawerIn,
    DrawerListQuery,
    DrawerOut,
    DrawerPage,
    MovementIn,
    MovementOut,
    SessionCloseIn,
    SessionIn,
    SessionListQuery,
    SessionOut,
    SessionPage,
    ZOut,
    ZQuery,
)
from app.errors import ValidationFailed
from app.web.idempotency import idempotent
from app.web.json_body import Blueprint
from app.web.openapi import problem_doc
from app.web.preconditions import IDEMPOTENCY_DOC, if_match_doc, parse_if_match

blp = Blueprint(
    "cash",
    __name__,
    description=(
        "The cash drawer: drawers of a location, sessions (apertura de caja) with an opening float, movements "
        "(pay_in, pay_out, safe_drop, tip_out), the live X (managers, admins), the blind count and close (the Z, "
        "numbered per location), and the day close. In a location with at least one drawer every cash payment "
        "and cash refund is taken into an open session: the `drawer_session_id` of the payment or refund body, "
        "else the caller's own open session, else the location's only open one (none: 409 "
        "`no_open_drawer_session`; several: 422 on `drawer_session_id`). Card and other payments record the "
        "caller's open session when there is one. Waiters see `figures` and `variance` null while a session is "
        "open. Another location's drawer or session is 404. Money is exact (decimal strings)."
    ),
)

OPEN_409 = problem_doc("`drawer_session_open`: the drawer or the caller already has an open session.")
CLOSED_409 = problem_doc("`drawer_session_closed`: the session is closed and takes nothing more.")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CSV_ANSWER = {"schema": {"type": "string", "description": "`field,value` rows (CSV) or the 42-column slip (text)."},
              "content_type": "text/csv", "success": True}


def _session(session: Any, status: int = 200, *, created: bool = False) -> tuple[dict, int, dict[str, str]]:
    view = services.session_view(session, current_user())
    headers = {"ETag": f'"{session.version}"'}
    if created:
        headers["Location"] = url_for("cash.DrawerSessionById", session_id=session.id)
    return view, status, headers


def _business_date(text: str) -> date:
    try:
        if not DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("A path parameter is invalid.",
                               errors={"business_date": ["Must be a date YYYY-MM-DD."]}) from None


@blp.route("/locations/<int:location_id>/drawers")
class Drawers(MethodView):
    @blp.doc(operationId="listDrawers")
    @auth_required()
    @blp.arguments(DrawerListQuery, location="query")
    @blp.response(200, DrawerPage)
    def get(self, args: dict[str, Any], location_id: int) -> dict[str, Any]:
        """List a location's drawers by id, each with its open session (members; others 404)."""
        rows, next_cursor = services.list_drawers(current_user(), location_id, args)
        return {"data": rows, "next_cursor": next_cursor}

    @blp.doc(operationId="createDrawer")
    @auth_required("manager", "admin")
    @idempotent
    @blp.arguments(DrawerIn, example={"name": "Caja 1"})
    @blp.response(201, DrawerOut)
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, data: dict[str, Any], location_id: int) -> tuple[dict, int]:
        """Add a drawer to a location (managers of it, admins): from then on its cash needs an open session."""
        drawer = services.create_drawer(current_user(), location_id, data)
        return services.drawer_view(drawer, None, current_user()), 201


@blp.route("/locations/<int:location_id>/drawer-sessions")
class LocationDrawerSessions(MethodView):
    @blp.doc(operationId="listDrawerSessions")
    @auth_required()
    @blp.arguments(SessionListQuery, location="query")
    @blp.response(200, SessionPage)
    def get(self, args: dict[str, Any], location_id: int) -> dict[str, Any]:
        """List a location's drawer sessions, newest first (`?status=`, `?business_date=`; members). Waiters
        see figures and variance null while a session is open."""
        rows, next_cursor = services.list_sessions(current_user(), location_id, args)
        return {"data": rows, "next_cursor": next_cursor}


@blp.route("/drawers/<int:drawer_id>/sessions")
class DrawerSessions(MethodView):
    @blp.doc(operationId="openDrawerSession")
    @auth_required()
    @idempotent
    @blp.arguments(SessionIn, example={"opening_float": "1500.00"})
    @blp.response(201, SessionOut)
    @blp.alt_response(409, **OPEN_409)
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, data: dict[str, Any], drawer_id: int) -> tuple[dict, int, dict[str, str]]:
        """Open a session on a drawer with its opening float (members): one per drawer, one per user."""
        return _session(services.open_session(current_user(), drawer_id, data), 201, created=True)


@blp.route("/drawer-sessions/<int:session_id>")
class DrawerSessionById(MethodView):
    @blp.doc(operationId="getDrawerSession")
    @auth_required()
    @blp.response(200, SessionOut)
    def get(self, session_id: int) -> tuple[dict, int, dict[str, str]]:
        """Get a session (members); waiters see figures and variance null while it is open."""
        return _session(services.visible_session(current_user(), session_id))


@blp.route("/drawer-sessions/<int:session_id>/x")
class DrawerSessionX(MethodView):
    @blp.doc(operationId="getDrawerSessionX")
    @auth_required("manager", "admin")
    @blp.response(200, SessionOut)
    def get(self, session_id: int) -> dict[str, Any]:
        """The live X: the session with its running figures, expected_cash included (managers, admins);
        changes nothing. A closed session answers its frozen figures."""
        return services.x_read(current_user(), session_id)


@blp.route("/drawer-sessions/<int:session_id>/movements")
class DrawerMovements(MethodView):
    @blp.doc(operationId="addDrawerMovement")
    @auth_required()
    @idempotent
    @blp.arguments(MovementIn, example={"type": "pay_out", "amount": "150.00", "reason": "Ice delivery"})
    @blp.response(201, MovementOut)
    @blp.alt_response(403, **problem_doc("`approval_required` / `approval_invalid`: a waiter's pay_out needs an "
                                         "`X-Approval-Token` for `pay_out`."))
    @blp.alt_response(409, **CLOSED_409)
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, data: dict[str, Any], session_id: int) -> tuple[Any, int]:
        """Append a movement (members): pay_in, pay_out, safe_drop or tip_out. Append-only: a mistake is
        corrected by the opposite movement."""
        return services.add_movement(current_user(), session_id, data), 201


@blp.route("/drawer-sessions/<int:session_id>/close")
class DrawerSessionClose(MethodView):
    @blp.doc(operationId="closeDrawerSession")
    @auth_required()
    @idempotent
    @blp.arguments(SessionCloseIn, example={"counted_cash": "3412.50", "reason": "Change given twice"})
    @blp.response(200, SessionOut)
    @blp.alt_response(403, **problem_doc("`approval_required` / `approval_invalid`: a waiter closing with "
                                         "|variance| above the tolerance needs a `drawer_variance` token."))
    @blp.alt_response(409, **CLOSED_409)
    @blp.alt_response(412, **problem_doc("`precondition_failed`: If-Match is not the session's version."))
    @blp.alt_response(428, **problem_doc("`precondition_required`: If-Match is missing."))
    @blp.doc(parameters=IDEMPOTENCY_DOC["parameters"] + if_match_doc("session")["parameters"])
    def post(self, data: dict[str, Any], session_id: int) -> tuple[dict, int, dict[str, str]]:
        """Close with the blind count: variance = counted_cash - expected_cash; above the location's
        variance_tolerance a reason is required (422) and a waiter needs approval. Freezes the figures and
        assigns the next z_number."""
        expected = parse_if_match(request.headers.get("If-Match"))
        return _session(services.close_session(current_user(), session_id, data, expected))


@blp.route("/drawer-sessions/<int:session_id>/z")
class DrawerSessionZ(MethodView):
    @blp.doc(operationId="getDrawerSessionZ")
    @auth_required()
    @blp.arguments(ZQuery, location="query")
    @blp.response(200, ZOut)
    @blp.alt_response(200, **CSV_ANSWER)
    @blp.alt_response(409, **problem_doc("`drawer_session_open`: the session has no Z until it is closed."))
    def get(self, args: dict[str, Any], session_id: int) -> Any:
        """The frozen Z of a closed session (members) as JSON, CSV (`?format=csv`) or a 42-column printable
        slip (`?format=text`)."""
        z = services.z_report(current_user(), session_id)
        fmt = args.get("format", "json")
        if fmt == "json":
            return z
        name = f"z_{z['location_id']}_{z['z_number']}"
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(("field", "value"))
            writer.writerows(csv_rows(z))
            response = Response(buffer.getvalue(), mimetype="text/csv")
            response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        return Response(text_slip(services.slip_values(z)), mimetype="text/plain")


@blp.route("/locations/<int:location_id>/days/<string(maxlength=32):business_date>/close")
class DayClose(MethodView):
    @blp.doc(operationId="closeBusinessDay")
    @auth_required("manager", "admin")
    @idempotent
    @blp.response(201, DayCloseOut)
    @blp.alt_response(409, **problem_doc("`business_day_closed` (already closed), `drawer_session_open` (a session "
                                         "opened that date is open), `orders_open` (an order of that date is open)."))
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, location_id: int, business_date: str) -> tuple[dict, int]:
        """Close a business date of a location (managers of it, admins): its figures as in the reports; from then
        on no order is created or synced into that date (409 business_day_closed). A future date is 422."""
        closed = days.close_day(current_user(), location_id, _business_date(business_date))
        return days.day_view(closed), 201


@blp.route("/locations/<int:location_id>/days/<string(maxlength=32):business_date>")
class DayById(MethodView):
    @blp.doc(operationId="getBusinessDay")
    @auth_required()
    @blp.response(200, DayCloseOut)
    def get(self, location_id: int, business_date: str) -> dict[str, Any]:
        """A closed business date with its figures (members); a day not closed is 404."""
        return days.day_view(days.get_day(current_user(), location_id, _business_date(business_date)))
