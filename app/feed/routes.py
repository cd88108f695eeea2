"""GET /events (the change feed) and /webhooks (admins): routes parse and answer, services decide."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask.views import MethodView

from app.auth.permissions import auth_required, current_user
from app.feed import services, webhooks
from app.feed.examples import EVENT_EXAMPLE, WEBHOOK_EXAMPLE
from app.feed.schemas import (
    DeliveryOut,
    DeliveryPage,
    DeliveryQuery,
    EventQuery,
    FeedEventPage,
    WebhookIn,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
    WebhookWithSecret,
)
from app.models import Webhook, WebhookDelivery
from app.web.idempotency import idempotent
from app.web.json_body import Blueprint
from app.web.openapi import problem_doc
from app.web.pagination import PageQuery

events_blp = Blueprint(
    "events", __name__,
    description="The change feed: everything that happens to orders, kitchen tickets, drawer sessions and "
    "business days, one ordered, replayable stream per location (managers and admins, of their locations). "
    "Read it from `after=<the last next_cursor you processed>`: every event committed after the ones already "
    "returned comes exactly once, in commit order per location. A cursor never expires.",
)
webhooks_blp = Blueprint(
    "webhooks", __name__,
    description="Signed delivery of the feed (Standard Webhooks) by the `flask webhooks work` process: at least "
    "once, in order per subject, retried after 5 s, 30 s, 2 min, 10 min, 1 h, 6 h and 24 h (each +-10 %). "
    "Admins only. The delivered body and headers are described under `webhooks` (`feedEvent`).",
)

IDEMPOTENCY_DOC = {"parameters": [{
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Retries with the same key and body replay the first answer (`Idempotent-Replayed: true`).",
}]}
NO_WEBHOOK = problem_doc("`not_found`: no such webhook (or delivery).")
BAD_URL = problem_doc("`validation_error`: on `url` (not http(s), not https in production, or its host is or "
                      "resolves to a loopback, private, link-local or otherwise non-public address), on `types` "
                      "(not a type name, `prefix.*` or `*`) or on `location_ids` (an unknown location).")
LOCATION_HEADER = {"Location": {"description": "URL of the new webhook.", "schema": {"type": "string"}}}


@events_blp.route("")
class Events(MethodView):
    @events_blp.doc(operationId="listEvents")
    @auth_required("manager", "admin")
    @events_blp.arguments(EventQuery, location="query")
    @events_blp.response(200, FeedEventPage, example=EVENT_EXAMPLE)
    @events_blp.alt_response(400, **problem_doc("`invalid_cursor`: `after` is not a cursor of this feed."))
    @events_blp.alt_response(404, **problem_doc("`not_found`: `location_id` is not one of the caller's."))
    def get(self, args: dict[str, Any]) -> Any:
        """The feed after a cursor, oldest first (long poll with `wait`)"""
        events, next_cursor = services.read(current_user(), args)
        # The events are already in their answered shape (queries.page): no per-field schema dump.
        return current_app.json.response({"data": events, "next_cursor": next_cursor})


@webhooks_blp.route("")
class Webhooks(MethodView):
    @webhooks_blp.doc(operationId="listWebhooks")
    @auth_required("admin")
    @webhooks_blp.arguments(PageQuery, location="query")
    @webhooks_blp.response(200, WebhookPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List webhooks by id (never their secrets)"""
        rows, next_cursor = webhooks.list_webhooks(args)
        return {"data": rows, "next_cursor": next_cursor}

    @webhooks_blp.doc(operationId="createWebhook")
    @auth_required("admin")
    @idempotent
    @webhooks_blp.arguments(WebhookIn, example={"url": "https://hooks.example.com/comanda", "types": ["order.*"]})
    @webhooks_blp.response(201, WebhookWithSecret, headers=LOCATION_HEADER, example=WEBHOOK_EXAMPLE)
    @webhooks_blp.alt_response(422, **BAD_URL)
    @webhooks_blp.doc(**IDEMPOTENCY_DOC)
    def post(self, data: dict[str, Any]) -> tuple[Webhook, int, dict[str, str]]:
        """Create a webhook; its `secret` is answered here only. It receives events from now on"""
        webhook = webhooks.create(data)
        return webhook, 201, {"Location": url_for("webhooks.WebhookById", webhook_id=webhook.id)}


@webhooks_blp.route("/<int:webhook_id>")
class WebhookById(MethodView):
    @webhooks_blp.doc(operationId="getWebhook")
    @auth_required("admin")
    @webhooks_blp.response(200, WebhookOut)
    @webhooks_blp.alt_response(404, **NO_WEBHOOK)
    def get(self, webhook_id: int) -> Webhook:
        """Get a webhook (never its secret)"""
        return webhooks.get(webhook_id)

    @webhooks_blp.doc(operationId="updateWebhook")
    @auth_required("admin")
    @webhooks_blp.arguments(WebhookPatch, example={"active": True})
    @webhooks_blp.response(200, WebhookOut)
    @webhooks_blp.alt_response(404, **NO_WEBHOOK)
    @webhooks_blp.alt_response(422, **BAD_URL)
    def patch(self, data: dict[str, Any], webhook_id: int) -> Webhook:
        """Change a webhook; made active again, it delivers what happens from then on"""
        return webhooks.update(webhook_id, data)

    @webhooks_blp.doc(operationId="deleteWebhook")
    @auth_required("admin")
    @webhooks_blp.response(204)
    @webhooks_blp.alt_response(404, **NO_WEBHOOK)
    def delete(self, webhook_id: int) -> None:
        """Delete a webhook and its pending deliveries"""
        webhooks.remove(webhook_id)


@webhooks_blp.route("/<int:webhook_id>/rotate-secret")
class WebhookRotate(MethodView):
    @webhooks_blp.doc(operationId="rotateWebhookSecret")
    @auth_required("admin")
    @idempotent
    @webhooks_blp.response(200, WebhookWithSecret)
    @webhooks_blp.alt_response(404, **NO_WEBHOOK)
    @webhooks_blp.doc(**IDEMPOTENCY_DOC)
    def post(self, webhook_id: int) -> Webhook:
        """A new secret (answered once); for 24 hours deliveries carry both signatures"""
        return webhooks.rotate(webhook_id)


@webhooks_blp.route("/<int:webhook_id>/deliveries")
class WebhookDeliveries(MethodView):
    @webhooks_blp.doc(operationId="listWebhookDeliveries")
    @auth_required("admin")
    @webhooks_blp.arguments(DeliveryQuery, location="query")
    @webhooks_blp.response(200, DeliveryPage)
    @webhooks_blp.alt_response(404, **NO_WEBHOOK)
    def get(self, args: dict[str, Any], webhook_id: int) -> dict[str, Any]:
        """The webhook's deliveries, newest first"""
        rows, next_cursor = webhooks.deliveries(webhook_id, args)
        return {"data": rows, "next_cursor": next_cursor}


@webhooks_blp.route("/<int:webhook_id>/deliveries/<int:delivery_id>/retry")
class WebhookDeliveryRetry(MethodView):
    @webhooks_blp.doc(operationId="retryWebhookDelivery")
    @auth_required("admin")
    @idempotent
    @webhooks_blp.response(202, DeliveryOut)
    @webhooks_blp.alt_response(404, **NO_WEBHOOK)
    @webhooks_blp.doc(**IDEMPOTENCY_DOC)
    def post(self, webhook_id: int, delivery_id: int) -> WebhookDelivery:
        """Attempt a delivery once more, now (`attempts` + 1; its result sets `status`)"""
        return webhooks.retry(webhook_id, delivery_id)


@webhooks_blp.route("/<int:webhook_id>/ping")
class WebhookPing(MethodView):
    @webhooks_blp.doc(operationId="pingWebhook")
    @auth_required("admin")
    @idempotent
    @webhooks_blp.response(202, DeliveryOut)
    @webhooks_blp.alt_response(404, **NO_WEBHOOK)
    @webhooks_blp.doc(**IDEMPOTENCY_DOC)
    def post(self, webhook_id: int) -> WebhookDelivery:
        """Send a `webhook.ping` to this webhook only (webhook-id `ping_<delivery id>`)"""
        return webhooks.ping(webhook_id)

