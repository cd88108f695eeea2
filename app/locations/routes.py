"""Locations routes: the chain's restaurants (admins manage them; members may look)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView

from app.auth.permissions import auth_required, current_user, visible_location
from app.locations import services
from app.locations.schemas import LocationIn, LocationListQuery, LocationOut, LocationPage, LocationPatch
from app.models import Location
from app.web.json_body import Blueprint
from app.web.openapi import problem_doc

blp = Blueprint(
    "locations",
    __name__,
    description=(
        "The chain's locations (restaurants), each with its own time zone, business-day start and tax "
        "settings. The first one is the chain's default location (`default: true`), made from "
        "BUSINESS_TIMEZONE and BUSINESS_DAY_STARTS_AT. Waiters and managers belong to one or more "
        "locations (`location_ids` on users); admins belong to every location. A location the caller "
        "does not belong to is 404, like an unknown one."
    ),
)

EXAMPLE = {"name": "Polanco", "timezone": "America/Mexico_City", "day_starts_at": "04:00", "tax_rate": "16",
           "prices_include_tax": True}
DUPLICATE = problem_doc("`duplicate_location`: a location with this name (trimmed, any case) exists.")
LOCATION_HEADER = {"Location": {"description": "URL of the new location.", "schema": {"type": "string"}}}


@blp.route("")
class Locations(MethodView):
    @blp.doc(operationId="listLocations")
    @auth_required()
    @blp.arguments(LocationListQuery, location="query")
    @blp.response(200, LocationPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List locations by id: admins every one, others those they belong to."""
        rows, next_cursor = services.list_locations(current_user(), args)
        return {"data": rows, "next_cursor": next_cursor}

    @blp.doc(operationId="createLocation")
    @auth_required("admin")
    @blp.arguments(LocationIn, example=EXAMPLE)
    @blp.response(201, LocationOut, headers=LOCATION_HEADER)
    @blp.alt_response(409, **DUPLICATE)
    def post(self, data: dict[str, Any]) -> tuple[Location, int, dict[str, str]]:
        """Create a location (unknown time zone, bad day_starts_at or tax_rate: 422)."""
        location = services.create_location(data)
        return location, 201, {"Location": url_for("locations.LocationById", location_id=location.id)}


@blp.route("/<int:location_id>")
class LocationById(MethodView):
    @blp.doc(operationId="getLocation")
    @auth_required()
    @blp.response(200, LocationOut)
    def get(self, location_id: int) -> Location:
        """Get a location (admins and its members; others 404)."""
        return visible_location(current_user(), location_id)

    @blp.doc(operationId="updateLocation")
    @auth_required("admin")
    @blp.arguments(LocationPatch, example={"tax_rate": "8.5", "active": True})
    @blp.response(200, LocationOut)
    @blp.alt_response(409, **DUPLICATE)
    def patch(self, data: dict[str, Any], location_id: int) -> Location:
        """Change a location; orders created afterwards use the new clock and taxes, older ones keep theirs."""
        return services.update_location(location_id, data)
