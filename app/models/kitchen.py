"""The kitchen (API.md v1.2 "The kitchen"): stations with their routes, and the tickets sent to them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.columns import UTCTimestamp, utcnow
from app.extensions import db

KITCHEN_STATUSES = ("held", "sent", "ready", "served", "voided")
TICKET_KINDS = ("new", "void")
TICKET_STATUSES = ("open", "ready")


def category_key(category: str) -> str:
    """Categories route case-insensitively after trimming: ' Bebidas' and 'BEBIDAS' are one route."""
    return category.strip().casefold()


class Station(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """A station of a location. `queue_version` rises with every change to its tickets: the queue's ETag."""

    __tablename__ = "kitchen_stations"
    __table_args__ = (
        CheckConstraint("alert_minutes BETWEEN 1 AND 240", name="alert_minutes_range"),
        # At most one default station per location.
        Index("uq_kitchen_stations_default", "location_id", unique=True,
              postgresql_where=text("is_default"), sqlite_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    categories: Mapped[list] = mapped_column(JSON, default=list)  # as sent (trimmed); routes hold the keys
    product_ids: Mapped[list] = mapped_column(JSON, default=list)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_minutes: Mapped[int] = mapped_column(Integer, default=15)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    queue_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)


class KitchenRoute(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """One product id or category key routed to a station; the primary key makes a route unique per location
    (409 duplicate_route), also between two concurrent requests."""

    __tablename__ = "kitchen_routes"

    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "product" | "category"
    value: Mapped[str] = mapped_column(String(120), primary_key=True)  # product id as text, or category key
    station_id: Mapped[int] = mapped_column(ForeignKey("kitchen_stations.id", ondelete="CASCADE"), index=True)


class KitchenTicket(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """What one send (or void) shows one station. `number` is gapless per location and business date."""

    __tablename__ = "kitchen_tickets"
    __table_args__ = (
        CheckConstraint("kind IN ('new', 'void')", name="kind"),
        CheckConstraint("status IN ('open', 'ready')", name="status"),
        Index("ix_kitchen_tickets_station_status_created", "station_id", "status", "created_at"),
        Index("uq_kitchen_tickets_number", "location_id", "business_date", "number", unique=True),
        Index("ix_kitchen_tickets_location_created", "location_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("kitchen_stations.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    business_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8), default="new")
    status: Mapped[str] = mapped_column(String(8), default="open")
    table_label: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCTimestamp)
    version: Mapped[int] = mapped_column(Integer, default=1)

    station: Mapped[Station] = relationship(lazy="joined", innerjoin=True)
    order = relationship("Order", lazy="joined", innerjoin=True)
    lines: Mapped[list[KitchenTicketLine]] = relationship(
        back_populates="ticket", order_by="KitchenTicketLine.id", lazy="selectin", cascade="all, delete-orphan"
    )


class KitchenTicketLine(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """A snapshot of a line (or of its voided units) as the ticket shows it."""

    __tablename__ = "kitchen_ticket_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("kitchen_tickets.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id", ondelete="CASCADE"), index=True)
    product_name: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int] = mapped_column(Integer)
    modifiers: Mapped[list] = mapped_column(JSON, default=list)  # [{"name", "price_cents"}] as on the line
    notes: Mapped[str | None] = mapped_column(Text)
    seat: Mapped[int | None] = mapped_column(Integer)
    course: Mapped[int] = mapped_column(Integer, default=1)

    ticket: Mapped[KitchenTicket] = relationship(back_populates="lines")
