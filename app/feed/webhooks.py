"""Webhooks: create, change, rotate the secret, the delivery log, manual retry and ping (admins only)."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, text

from app.columns import utcnow
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.feed import queries, urls
from app.models import Location, Webhook, WebhookDelivery
from app.web.pagination import paginate

ROTATION = timedelta(hours=24)
WAKE_CHANNEL = "comanda_webhooks"


def new_secret() -> str:
    """`whsec_` + base64 of 24 random bytes (Standard Webhooks)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _check_url(url: str) -> None:
    try:
        urls.check(url)
    except urls.UnsafeURL as exc:
        raise ValidationFailed(errors={"url": [str(exc)]}) from None


def _check_locations(ids: list[int]) -> list[int]:
    ids = sorted(set(ids))
    if ids:
        known = set(db.session.scalars(select(Location.id).where(Location.id.in_(ids))))
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ValidationFailed(errors={"location_ids": [f"Unknown location(s): {unknown}."]})
    return ids


def get(webhook_id: int) -> Webhook:
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound("No such webhook.")
    return webhook


def create(data: dict[str, Any]) -> Webhook:
    """A new webhook (and its secret, answered once). It receives what happens from now on: its fan-out
    cursor starts at the feed's current end."""
    _check_url(data["url"])
    location_ids = _check_locations(data["location_ids"])
    all_ids = list(db.session.scalars(select(Location.id)))
    webhook = Webhook(url=data["url"], types=data["types"], location_ids=location_ids,
                      description=data.get("description"), active=True, secret=new_secret(),
                      cursor={str(k): v for k, v in queries.ends(all_ids).items()})
    db.session.add(webhook)
    db.session.flush()
    return webhook


def update(webhook_id: int, data: dict[str, Any]) -> Webhook:
    """Change url, types, location_ids, description, active. Made active again, it starts at the feed's
    current end (what happened while it was inactive is in the feed, not delivered)."""
    webhook = _locked(webhook_id)
    if "url" in data:
        _check_url(data["url"])
    if "location_ids" in data:
        data["location_ids"] = _check_locations(data["location_ids"])
    if data.get("active") and not webhook.active:
        all_ids = list(db.session.scalars(select(Location.id)))
        webhook.cursor = {str(k): v for k, v in queries.ends(all_ids).items()}
    for key, value in data.items():
        setattr(webhook, key, value)
    db.session.flush()
    return webhook


def remove(webhook_id: int) -> None:
    """Delete the webhook and its deliveries."""
    webhook = _locked(webhook_id)
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    db.session.delete(webhook)
    db.session.flush()


def rotate(webhook_id: int) -> Webhook:
    """A new secret; the old one keeps signing (next to the new) for 24 hours."""
    webhook = _locked(webhook_id)
    webhook.previous_secret = webhook.secret
    webhook.previous_secret_until = utcnow() + ROTATION
    webhook.secret = new_secret()
    db.session.flush()
    return webhook


def list_webhooks(args: dict[str, Any]) -> tuple[list[Webhook], str | None]:
    return paginate(select(Webhook), (Webhook.id,), limit=args["limit"], cursor=args["cursor"], descending=False)


def deliveries(webhook_id: int, args: dict[str, Any]) -> tuple[list[WebhookDelivery], str | None]:
    """The webhook's deliveries, newest first."""
    webhook = get(webhook_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if args.get("status"):
        stmt = stmt.where(WebhookDelivery.status == args["status"])
    return paginate(stmt, (WebhookDelivery.id,), limit=args["limit"], cursor=args["cursor"])


def retry(webhook_id: int, delivery_id: int) -> WebhookDelivery:
    """Make one more attempt now (by the worker); its result sets the status."""
    webhook = get(webhook_id)
    delivery = db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook.id).with_for_update())
    if delivery is None:
        raise NotFound("No such delivery.")
    delivery.status, delivery.manual, delivery.next_attempt_at = "pending", True, utcnow()
    db.session.flush()
    wake_workers()
    return delivery


def ping(webhook_id: int) -> WebhookDelivery:
    """A `webhook.ping` to this webhook only, whatever its types (webhook-id `ping_<delivery id>`)."""
    webhook = get(webhook_id)
    now = utcnow()
    payload = {"id": None, "type": "webhook.ping", "location_id": None,
               "occurred_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "subject": None, "actor": None,
               "approved_by": None, "data": {"webhook_id": webhook.id}}
    delivery = WebhookDelivery(webhook_id=webhook.id, event_type="webhook.ping", status="pending", manual=True,
                               attempts=0, next_attempt_at=now, subject_key=f"ping:{uuid.uuid4().hex}",
                               payload=payload)
    db.session.add(delivery)
    db.session.flush()
    wake_workers()
    return delivery


def _locked(webhook_id: int) -> Webhook:
    webhook = db.session.scalar(select(Webhook).where(Webhook.id == webhook_id).with_for_update())
    if webhook is None:
        raise NotFound("No such webhook.")
    return webhook


def wake_workers() -> None:
    """Tell the delivery workers (LISTENing) there is something to do; sent at commit."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"NOTIFY {WAKE_CHANNEL}"))
