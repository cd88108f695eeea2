"""The rest of a check: discounts, payments, refunds, and the order's append-only history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.columns import BIG_ID, UTCTimestamp, utcnow
from app.extensions import db

EVENT_TYPES = (
    "created",
    "items_added",
    "item_voided",
    "updated",
    "discount_added",
    "discount_removed",
    "payment_added",
    "closed",
    "cancelled",
    "refunded",
    "transferred",
    "merged",
    "split",
    "fired",
    "served",
)


class Discount(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """A line discount (item_id set) or an order discount; `applied_cents` is what it takes off now."""

    __tablename__ = "order_discounts"
    __table_args__ = (
        CheckConstraint("(percent_thousandths IS NULL) <> (amount_cents IS NULL)", name="percent_xor_amount"),
        CheckConstraint(
            "percent_thousandths IS NULL OR (percent_thousandths > 0 AND percent_thousandths <= 100000)", name="percent"
        ),
        CheckConstraint("amount_cents IS NULL OR amount_cents > 0", name="amount_positive"),
        CheckConstraint(
            "split_share_cents IS NULL OR (split_share_cents >= 0 AND percent_thousandths IS NOT NULL)",
            name="split_share",
        ),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(BIG_ID, ForeignKey("order_items.id", ondelete="CASCADE"))
    percent_thousandths: Mapped[int | None] = mapped_column(Integer)  # thousandths of a percent: 12.5% = 12500
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    applied_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # A line percentage on a line a split divided: what it takes of this part of the line (its share of
    # what it took of the whole line, app/orders/pricing.split_line_discounts); null: round(gross x percent).
    split_share_cents: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    # A removed discount is kept (who added it and why stays answerable); it takes nothing off.
    removed_at: Mapped[datetime | None] = mapped_column(UTCTimestamp)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    order = relationship("Order", back_populates="discounts")

    @property
    def percent(self) -> Decimal | None:
        return None if self.percent_thousandths is None else Decimal(self.percent_thousandths).scaleb(-3)
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="joined")


class Payment(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("method IN ('cash', 'card', 'other')", name="method"),
        CheckConstraint("amount_cents >= 0 AND tip_cents >= 0", name="not_negative"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    tip_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    tendered_cents: Mapped[int | None] = mapped_column(BigInteger)
    change_cents: Mapped[int | None] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(120))
    # The drawer session that took it (cash) or on which it was recorded (card, other); API.md v1.2.
    drawer_session_id: Mapped[int | None] = mapped_column(ForeignKey("drawer_sessions.id"), index=True)
    # The business date on which the payment was made (the till's day), not the order's.
    business_date: Mapped[date] = mapped_column(Date, index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)

    created_by = relationship("User", lazy="joined")


class Refund(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("method IN ('cash', 'card', 'other')", name="method"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # tax included, tip not
    tax_cents: Mapped[int] = mapped_column(BigInteger)
    tip_cents: Mapped[int] = mapped_column(BigInteger, default=0)  # only a cancel returns tips
    method: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    drawer_session_id: Mapped[int | None] = mapped_column(ForeignKey("drawer_sessions.id"), index=True)
    # The business date on which the refund was made: it counts in the reports on that day.
    business_date: Mapped[date] = mapped_column(Date, index=True)
    # Its location's naive wall-clock hour when it was made (hourly sales); set on every refund,
    # nullable only because 0004_report_money adds it with a plain ADD COLUMN.
    local_hour: Mapped[datetime | None] = mapped_column(DateTime(timezone=False))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)

    created_by = relationship("User", lazy="joined")
    items: Mapped[list[RefundItem]] = relationship(
        order_by="RefundItem.id", lazy="selectin", cascade="all, delete-orphan"
    )


class RefundItem(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "refund_items"
    __table_args__ = (CheckConstraint("quantity >= 1", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    refund_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("refunds.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("order_items.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    tax_cents: Mapped[int] = mapped_column(BigInteger)


class OrderEvent(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """One change to an order. Append-only: on PostgreSQL a trigger refuses UPDATE and DELETE."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_id_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("orders.id"))
    type: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    data: Mapped[dict] = mapped_column(JSON)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    actor = relationship("User", lazy="joined", foreign_keys=[actor_id])
    approved_by = relationship("User", lazy="joined", foreign_keys=[approved_by_id])
