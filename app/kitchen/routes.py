"""Kitchen routes: stations, the station queue, tickets, firing and serving, and the kitchen report."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView

from app.auth.permissions import STAFF, auth_required, current_user, report_locations
from app.columns import utcnow
from app.errors import ValidationFailed
from app.kitchen import courses, queries, stations, tickets
from app.kitchen.examples import STATION_EXAMPLE, TEXT_EXAMPLE, TICKET_EXAMPLE
from app.kitchen.schemas import (
    FireIn,
    KitchenReportOut,
    KitchenReportQuery,
    KitchenRowOut,
    QueueQuery,
    ServedIn,
    StationIn,
    StationList,
    StationOut,
    StationPatch,
    TicketList,
    TicketOut,
    TicketQuery,
)
from app.models import KitchenTicket, Station
from app.orders.routes import IDEMPOTENCY_DOC, order_response
from app.orders.schemas import OrderOut
from app.reports.export import csv_response, wants_csv
from app.reports.services import Coverage, resolve_range
from app.web.idempotency import idempotent
from app.web.json_body import Blueprint
from app.web.openapi import problem_doc

blp = Blueprint(
    "kitchen",
    __name__,
    description=(
        "The kitchen (v1.2): stations route each sent line (its product's station, else its category's, else the "
        "location's default, else none), courses wait (`held`) until fired, and every send makes one ticket per "
        "station in the same transaction, numbered 1, 2, 3... per location and business date without gaps. "
        "Voiding a line that is on a ticket (or cancelling its order) makes a `void` ticket. Ticket changes are "
        "change-feed events (`kitchen_ticket.created`, `.ready`, `.recalled`), never order history, and do not "
        "bump the order's version. Another location's station or ticket is 404, like an unknown one. See "
        "docs/kitchen.md for a worked example."
    ),
)

DUPLICATE_ROUTE = problem_doc("`duplicate_route`: a product id or category is already routed to another station "
                              "of the location.")
STATION_HEADER = {"Location": {"description": "URL of the station.", "schema": {"type": "string"}}}
TEXT_ANSWER = {"schema": {"type": "string", "description": "42 columns, UTF-8; the first line of a void ticket "
                                                           "starts with `VOID`.", "example": TEXT_EXAMPLE},
               "content_type": "text/plain", "success": True}
CSV_ANSWER = {"schema": {"type": "string", "description": "RFC 4180 CSV: a header row, then the data rows."},
              "content_type": "text/csv", "success": True}
ETAG_HEADER = {"ETag": {"description": "The queue's version: changes with every change to its tickets, and at least "
                                       "once a minute (so `late` and the ready window are never more than a minute "
                                       "stale behind a 304).", "schema": {"type": "string"}}}
MAX_IF_NONE_MATCH = 256
IF_NONE_MATCH_DOC = {"parameters": [{
    "in": "header", "name": "If-None-Match", "required": False,
    "schema": {"type": "string", "maxLength": MAX_IF_NONE_MATCH},
    "description": "The ETag of the last answer: 304 with no body while the queue is unchanged (one indexed read); "
                   "longer than 256 characters: 422."}]}


@blp.route("/locations/<int:location_id>/stations")
class LocationStations(MethodView):
    @auth_required()
    @blp.response(200, StationList)
    @blp.doc(operationId="listStations")
    def get(self, location_id: int) -> dict[str, Any]:
        """List a location's stations by id (members of the location)"""
        return {"data": stations.list_stations(current_user(), location_id)}

    @auth_required(*STAFF)
    @idempotent
    @blp.arguments(StationIn, example=STATION_EXAMPLE)
    @blp.response(201, StationOut, headers=STATION_HEADER)
    @blp.alt_response(409, **DUPLICATE_ROUTE)
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(operationId="createStation")
    def post(self, data: dict[str, Any], location_id: int) -> tuple[Station, int, dict[str, str]]:
        """Create a station (managers of the location, admins)"""
        station = stations.create_station(current_user(), location_id, data)
        return station, 201, {"Location": url_for("kitchen.StationById", station_id=station.id)}


@blp.route("/stations/<int:station_id>")
class StationById(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(StationPatch, example={"categories": ["Bebidas", "Cocteles"], "default": False})
    @blp.response(200, StationOut)
    @blp.alt_response(409, **DUPLICATE_ROUTE)
    @blp.doc(operationId="updateStation")
    def patch(self, data: dict[str, Any], station_id: int) -> Station:
        """Change a station: name, routes (replaced as sent), default, alert_minutes, active"""
        return stations.patch_station(current_user(), station_id, data)


@blp.route("/kitchen/stations/<int:station_id>/tickets")
class StationQueue(MethodView):
    @auth_required()
    @blp.arguments(QueueQuery, location="query")
    @blp.response(200, TicketList, headers=ETAG_HEADER, example={"data": [TICKET_EXAMPLE]})
    @blp.alt_response(304, description="Not modified: `If-None-Match` is the current ETag (no body).",
                      headers=ETAG_HEADER)
    @blp.doc(**IF_NONE_MATCH_DOC)
    @blp.doc(operationId="listStationTickets")
    def get(self, args: dict[str, Any], station_id: int):
        """A station's queue, oldest first: open tickets, or those made ready in the last 10 minutes"""
        sent = request.headers.get("If-None-Match")
        if sent is not None and len(sent) > MAX_IF_NONE_MATCH:  # ours are short: a longer one is not ours
            raise ValidationFailed(errors={"If-None-Match": [f"At most {MAX_IF_NONE_MATCH} characters."]})
        tag = tickets.queue_tag(current_user(), station_id, args["status"])
        headers = {"ETag": tag, "Cache-Control": "no-cache"}
        if tag in _tags(sent):
            return Response(status=304, headers=headers)
        return {"data": tickets.queue(station_id, args["status"])}, 200, headers


def _tags(header: str | None) -> set[str]:
    return {part.strip().removeprefix("W/") for part in (header or "").split(",")}


@blp.route("/kitchen/tickets/<int:ticket_id>")
class TicketById(MethodView):
    @auth_required()
    @blp.arguments(TicketQuery, location="query")
    @blp.response(200, TicketOut, example=TICKET_EXAMPLE)
    @blp.alt_response(200, **TEXT_ANSWER)
    @blp.doc(operationId="getKitchenTicket")
    def get(self, args: dict[str, Any], ticket_id: int):
        """A kitchen ticket (members of its location); `?format=text` for a kitchen printer"""
        ticket = tickets.visible_ticket(current_user(), ticket_id)
        if args.get("format") == "text":
            text = tickets.render_text(ticket, tickets.location_timezone(ticket))
            return Response(text, mimetype="text/plain")
        return ticket


@blp.route("/kitchen/tickets/<int:ticket_id>/ready")
class TicketReady(MethodView):
    @auth_required()
    @idempotent
    @blp.response(200, TicketOut)
    @blp.alt_response(409, **problem_doc("`ticket_not_open`: the ticket is already ready."))
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(operationId="readyKitchenTicket")
    def post(self, ticket_id: int) -> KitchenTicket:
        """The station bumps a ticket: ready, its lines `ready` (members of its location)"""
        return tickets.ready(current_user(), ticket_id)


@blp.route("/kitchen/tickets/<int:ticket_id>/recall")
class TicketRecall(MethodView):
    @auth_required()
    @idempotent
    @blp.response(200, TicketOut)
    @blp.alt_response(409, **problem_doc("`ticket_not_ready`; `recall_expired`: made ready over 10 minutes ago."))
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(operationId="recallKitchenTicket")
    def post(self, ticket_id: int) -> KitchenTicket:
        """Recall a ready ticket within 10 minutes: open again, its lines `sent`"""
        return tickets.recall(current_user(), ticket_id)


@blp.route("/orders/<bigid:order_id>/fire")
class OrderFire(MethodView):
    @auth_required()
    @idempotent
    @blp.arguments(FireIn, example={"course": 2})
    @blp.response(200, OrderOut)
    @blp.alt_response(409, **problem_doc("`order_not_open`."))
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(operationId="fireOrderCourse")
    def post(self, data: dict[str, Any], order_id: int):
        """Send the held lines of a course (all held lines without `course`); nothing held: no change"""
        return order_response(courses.fire(current_user(), order_id, data.get("course")))


@blp.route("/orders/<bigid:order_id>/served")
class OrderServed(MethodView):
    @auth_required()
    @idempotent
    @blp.arguments(ServedIn, example={"item_ids": [7]})
    @blp.response(200, OrderOut)
    @blp.alt_response(409, **problem_doc("`order_not_open`."))
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(operationId="serveOrderItems")
    def post(self, data: dict[str, Any], order_id: int):
        """Mark sent or ready lines served (all of them without `item_ids`); nothing to mark: no change"""
        return order_response(courses.serve(current_user(), order_id, data.get("item_ids")))


@blp.route("/reports/kitchen", methods=["GET"])
@auth_required(*STAFF)
@blp.arguments(KitchenReportQuery, location="query")
@blp.response(200, KitchenReportOut)
@blp.alt_response(200, **CSV_ANSWER)
@blp.doc(operationId="getKitchenReport")
def kitchen_report(args: dict[str, Any]):
    """Kitchen times per active station: new tickets created in the range, units, seconds to ready, late ones"""
    cover = Coverage(*report_locations(current_user(), args.get("location_id")))
    args = resolve_range(args, cover)
    rows = queries.kitchen_rows([loc.id for loc in cover.locations], args["start_date"], args["end_date"], utcnow())
    if wants_csv(args):
        name = f"kitchen_{args['start_date'].isoformat()}_{args['end_date'].isoformat()}.csv"
        return csv_response(rows, KitchenRowOut, name, frozenset({"station_name"}))
    single = cover.locations[0] if len(cover.locations) == 1 else None
    return {"start_date": args["start_date"], "end_date": args["end_date"],
            "location_id": single.id if single else None, "data": rows}
