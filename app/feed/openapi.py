"""The delivery a webhook receives, for the OpenAPI document: the Standard Webhooks request as an
`x-webhooks` entry (the OpenAPI 3.1 `webhooks` object's shape; this document is 3.0.3, where the
top-level `webhooks` field does not exist, so it carries the extension that 3.0 tools such as Redoc read)."""

from __future__ import annotations

from typing import Any

SIGNATURE = ("`v1,<base64 of HMAC-SHA256 keyed with the secret's decoded bytes (after `whsec_`) over "
             "\"<webhook-id>.<webhook-timestamp>.<body>\">`; several space-separated during the 24 hours after "
             "a rotation. Verify any one of them, compare in constant time, and refuse timestamps more than "
             "5 minutes away from now.")
HEADERS = [
    {"in": "header", "name": "webhook-id", "required": True, "schema": {"type": "string", "example": "evt_1042"},
     "description": "Stable across retries: `evt_<event id>` (`ping_<delivery id>` for a ping). Dedupe on it."},
    {"in": "header", "name": "webhook-timestamp", "required": True,
     "schema": {"type": "string", "example": "1763756103"}, "description": "Unix seconds of this attempt."},
    {"in": "header", "name": "webhook-signature", "required": True,
     "schema": {"type": "string", "example": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
     "description": SIGNATURE},
]
DELIVERY = {
    "summary": "A feed event delivered to a webhook's url (Standard Webhooks)",
    "description": "POSTed by `flask webhooks work` for every event matching the webhook's `types` and "
    "`location_ids` committed after the webhook was created. At least once (dedupe on `webhook-id`), and for "
    "one subject never before the earlier events of that subject were delivered or finally failed. Any 2xx "
    "within 10 seconds is success; otherwise retried after 5 s, 30 s, 2 min, 10 min, 1 h, 6 h and 24 h "
    "(each +-10 %), then `failed`. 410 disables the webhook.",
    "parameters": HEADERS,
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/FeedEventOut"}}}},
    "responses": {
        "2XX": {"description": "Delivered."},
        "410": {"description": "Gone: the webhook is disabled (`active: false`), its pending deliveries fail."},
        "default": {"description": "Anything else, or no answer within 10 s: retried on the schedule."},
    },
}


def document_webhooks(spec: Any) -> None:
    """Add the webhook delivery to the OpenAPI document."""
    spec.options["x-webhooks"] = {"feedEvent": {"post": DELIVERY}}
