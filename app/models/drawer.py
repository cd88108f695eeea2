"""The cash drawer (API.md v1.2 "The cash drawer"): drawers, their sessions (running figures kept on
the session row), append-only movements, and closed business days."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.columns import UTCTimestamp, utcnow
from app.extensions import db

MOVEMENT_TYPES = ("pay_in", "pay_out", "safe_drop", "tip_out")


class Drawer(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "drawers"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)


class DrawerSession(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """One shift of one drawer. The cash figures are running totals raised in the transaction of each
    payment, refund and movement under the session's row lock, so reading them scans nothing."""

    __tablename__ = "drawer_sessions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        # One open session per drawer and per user: the database decides a race between twins.
        Index("uq_drawer_sessions_open_drawer", "drawer_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("uq_drawer_sessions_open_user", "opened_by_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_drawer_sessions_location_status", "location_id", "status"),
        Index("ix_drawer_sessions_location_business_date", "location_id", "business_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    drawer_id: Mapped[int] = mapped_column(ForeignKey("drawers.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    status: Mapped[str] = mapped_column(String(8), default="open")
    business_date: Mapped[date] = mapped_column(Date)  # the location's business date when it opened
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    opening_float_cents: Mapped[int] = mapped_column(BigInteger)
    cash_sales_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    cash_tips_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    cash_refunds_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    pay_in_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    pay_out_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    safe_drop_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    tip_out_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # by_method as running totals {"cash": {"payments", "amount", "tips", "refunds"}, ...}, replaced
    # whole under the row lock; `orders` and the folio range likewise (see app/cash/binding.py).
    methods: Mapped[dict] = mapped_column(JSON, default=dict)
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    first_folio: Mapped[int | None] = mapped_column(BigInteger)
    last_folio: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCTimestamp)
    counted_cash_cents: Mapped[int | None] = mapped_column(BigInteger)
    variance_cents: Mapped[int | None] = mapped_column(BigInteger)
    variance_reason: Mapped[str | None] = mapped_column(String(200))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    z_number: Mapped[int | None] = mapped_column(Integer)
    # The figures frozen at the close (cents), answered as they were ever after.
    frozen: Mapped[dict | None] = mapped_column(JSON)

    drawer = relationship("Drawer", lazy="joined")
    opened_by = relationship("User", lazy="joined", foreign_keys=[opened_by_id])
    closed_by = relationship("User", lazy="joined", foreign_keys=[closed_by_id])
    approved_by = relationship("User", lazy="joined", foreign_keys=[approved_by_id])


class DrawerMovement(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """Cash in or out of a session that is not a sale. Append-only: corrected by the opposite movement."""

    __tablename__ = "drawer_movements"
    __table_args__ = (
        CheckConstraint("type IN ('pay_in', 'pay_out', 'safe_drop', 'tip_out')", name="type"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("drawer_sessions.id"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)

    created_by = relationship("User", lazy="joined", foreign_keys=[created_by_id])
    approved_by = relationship("User", lazy="joined", foreign_keys=[approved_by_id])


class BusinessDay(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """A closed business date of a location, with its figures as they were at the close."""

    __tablename__ = "business_days"

    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    figures: Mapped[dict] = mapped_column(JSON)

    closed_by = relationship("User", lazy="joined")
