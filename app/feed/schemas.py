"""Feed and webhook shapes: marshmallow, unknown=RAISE, the only gate."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from app.fields import StrictBoolean, UTCDateTime, id_field, optional_text
from app.web.pagination import PageQuery, page_schema

MAX_WAIT = 25
MAX_LIMIT = 500
TYPE_PATTERN = re.compile(r"^(\*|[a-z][a-z_]{0,30}\.(\*|[a-z][a-z_]{0,40})|webhook\.ping)$")
TYPES_DESCRIPTION = ("Exact type names (`order.created`, `kitchen_ticket.ready`...), `prefix.*` (every type of "
                     "that prefix, e.g. `order.*`) or `*` (everything).")


def parse_types(value: Any) -> list[str]:
    """A list of type patterns; ValidationError on any that is not a name, `prefix.*` or `*`."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Must be a list of type names.")
    bad = [v for v in value if not TYPE_PATTERN.match(v)]
    if bad:
        raise ValidationError(f"Not a type name, `prefix.*` or `*`: {', '.join(map(repr, bad[:5]))}.")
    return value


class TypeList(fields.Field):
    """`?types=a,b.*`: a comma-separated list of type patterns."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, str) or len(value) > 2000:
            raise ValidationError("Must be a comma-separated list of type names (at most 2000 characters).")
        return parse_types([part.strip() for part in value.split(",") if part.strip()])


class EventQuery(Schema):
    """`GET /events` query."""

    class Meta:
        unknown = RAISE

    after = fields.String(load_default=None, validate=validate.Length(min=1, max=4096), metadata={
        "description": "The `next_cursor` of the last page you processed, or `now` (start at the current end). "
                       "Left out: the feed's beginning. A cursor never expires."})
    types = TypeList(load_default=list, metadata={
        "description": "Comma-separated. " + TYPES_DESCRIPTION, "type": "string", "maxLength": 2000,
        "example": "order.*"})
    location_id = id_field(metadata={
        "description": "Only this location (one the caller does not belong to: 404). Default: every location "
                       "the caller may see."})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_LIMIT),
                           metadata={"description": f"Page size, 1-{MAX_LIMIT} (default 100)."})
    wait = fields.Integer(load_default=0, validate=validate.Range(0, MAX_WAIT), metadata={
        "description": f"Seconds (0-{MAX_WAIT}) to wait for the first event when there is none yet (long poll): "
                       "the answer comes as soon as an event commits (PostgreSQL LISTEN/NOTIFY; on the embedded "
                       "SQLite database the server looks again every 250 ms), else at the deadline with no "
                       "events and the same `next_cursor`."})


class ActorRef(Schema):
    id = fields.Integer()
    name = fields.String()


class SubjectOut(Schema):
    type = fields.String(metadata={"enum": ["order", "kitchen_ticket", "drawer_session", "business_day"]})
    id = fields.Integer()
    version = fields.Integer(metadata={"description": "The order's, ticket's or session's version after the "
                                                      "change; 1 for business days."})


class FeedEventOut(Schema):
    id = fields.Integer(metadata={"description": "The event's id (also `webhook-id` `evt_<id>` in deliveries)."})
    type = fields.String(metadata={"example": "order.payment_added"})
    location_id = fields.Integer()
    occurred_at = UTCDateTime(metadata={"description": "When the change was made (the history event's `at`)."})
    subject = fields.Nested(SubjectOut)
    actor = fields.Nested(ActorRef, allow_none=True)
    approved_by = fields.Nested(ActorRef, allow_none=True)
    data = fields.Dict(metadata={"description": "What changed; for `order.*` the history event's `data`."})


class FeedEventPage(Schema):
    data = fields.List(fields.Nested(FeedEventOut))
    next_cursor = fields.String(metadata={
        "description": "Always a string: pass it as `after` next time (the same cursor when nothing came)."})


# -- webhooks ---------------------------------------------------------------------------------------------

class TypesField(fields.List):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        return parse_types(super()._deserialize(value, attr, data, **kwargs))


class WebhookIn(Schema):
    class Meta:
        unknown = RAISE

    url = fields.String(required=True, validate=validate.Length(min=1, max=2048), metadata={
        "example": "https://hooks.example.com/comanda"})
    types = TypesField(fields.String(validate=validate.Length(max=80)), required=True,
                       validate=validate.Length(min=1, max=50), metadata={"description": TYPES_DESCRIPTION})
    location_ids = fields.List(id_field(strict=True), load_default=list, validate=validate.Length(max=200),
                               metadata={"description": "Left out or empty: every location."})
    description = optional_text(500)

    @validates("url")
    def _url_text(self, value: str, **_: Any) -> None:
        if any(c.isspace() or ord(c) < 32 for c in value):
            raise ValidationError("Must not contain spaces or control characters.")


class WebhookPatch(WebhookIn):
    class Meta:
        unknown = RAISE

    url = fields.String(validate=validate.Length(min=1, max=2048))
    types = TypesField(fields.String(validate=validate.Length(max=80)), validate=validate.Length(min=1, max=50))
    location_ids = fields.List(id_field(strict=True), validate=validate.Length(max=200))
    description = optional_text(500, patch=True)
    active = StrictBoolean()


class WebhookOut(Schema):
    id = fields.Integer()
    url = fields.String()
    types = fields.List(fields.String())
    location_ids = fields.List(fields.Integer())
    description = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = UTCDateTime()


class WebhookWithSecret(WebhookOut):
    secret = fields.String(metadata={"description": "`whsec_` + base64 of 24 random bytes. Shown only here.",
                                     "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})


class DeliveryOut(Schema):
    id = fields.Integer()
    event_id = fields.Integer(allow_none=True, metadata={"description": "null for a ping."})
    event_type = fields.String()
    status = fields.String(metadata={"enum": ["pending", "delivered", "failed"]})
    attempts = fields.Integer()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    next_attempt_at = UTCDateTime(allow_none=True)
    delivered_at = UTCDateTime(allow_none=True)


class DeliveryQuery(PageQuery):
    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(["pending", "delivered", "failed"]), load_default=None)


WebhookPage = page_schema(WebhookOut, "WebhookPage")
DeliveryPage = page_schema(DeliveryOut, "DeliveryPage")
