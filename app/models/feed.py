"""The change feed (API.md v1.2 "Change feed") and the webhooks that deliver it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.columns import UTCTimestamp, utcnow
from app.extensions import db

BIGINT = BigInteger().with_variant(Integer(), "sqlite")
SUBJECT_TYPES = ("order", "kitchen_ticket", "drawer_session", "business_day")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class FeedEvent(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """One event of the feed. Append-only (a PostgreSQL trigger refuses UPDATE and DELETE); `position`
    is gapless per location and in commit order (app/counters.py, taken at commit: app/outbox.py)."""

    __tablename__ = "feed_events"
    __table_args__ = (UniqueConstraint("location_id", "position", name="uq_feed_events_location_id_position"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    position: Mapped[int] = mapped_column(BIGINT)
    type: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(BIGINT)
    subject_version: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    data: Mapped[dict] = mapped_column(JSON)

    actor = relationship("User", lazy="joined", foreign_keys=[actor_id])
    approved_by = relationship("User", lazy="joined", foreign_keys=[approved_by_id])

    @property
    def subject(self) -> dict:
        return {"type": self.subject_type, "id": self.subject_id, "version": self.subject_version}


class Webhook(db.Model):  # type: ignore[name-defined]
    """A receiver of the feed. `cursor` is how far the worker has fanned the feed out to it (the same
    per-location positions as a GET /events cursor); it starts at the feed's end when the webhook is made."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    types: Mapped[list] = mapped_column(JSON)
    location_ids: Mapped[list] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(String(64))
    previous_secret: Mapped[str | None] = mapped_column(String(64))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCTimestamp)
    cursor: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)


class WebhookDelivery(db.Model):  # type: ignore[name-defined]
    """One event (or ping) to one webhook: attempted until delivered or finally failed. Deliveries of one
    webhook and one subject (`subject_key`) are attempted in id order, one at a time."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_id_event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subject", "webhook_id", "subject_key", "id"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("feed_events.id"))
    event_type: Mapped[str] = mapped_column(String(64))
    subject_key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict | None] = mapped_column(JSON)  # a ping's body (events are read from the feed)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCTimestamp, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCTimestamp)
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
