"""Orders and their lines. Money is integer cents; names and prices are snapshots."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.columns import BIG_ID, UTCTimestamp, utcnow
from app.extensions import db

ORDER_STATUSES = ("open", "closed", "cancelled", "merged")
PAYMENT_METHODS = ("cash", "card", "other")


class Order(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed', 'cancelled', 'merged')", name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        # Keyset pagination, newest first, for everybody and per waiter.
        Index("ix_orders_created_at_id", "created_at", "id"),
        Index("ix_orders_waiter_created_at_id", "waiter_id", "created_at", "id"),
        Index("ix_orders_waiter_business_date", "waiter_id", "business_date"),
        Index("ix_orders_location_created_at_id", "location_id", "created_at", "id"),
        Index("ix_orders_location_business_date", "location_id", "business_date"),
        CheckConstraint("guest_count BETWEEN 1 AND 99", name="guest_count_range"),
        Index("uq_orders_location_folio", "location_id", "folio", unique=True),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    client_order_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    customer_name: Mapped[str] = mapped_column(String(120))
    table_label: Mapped[str | None] = mapped_column(String(32))
    # v1.2 floor: the table (of the order's location), the party's size, and where a check came from or went.
    table_id: Mapped[int | None] = mapped_column(ForeignKey("tables.id"), index=True)
    guest_count: Mapped[int | None] = mapped_column(Integer)
    split_from_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    notes: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="open")
    waiter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    # The location's tax settings when the order was created (thousandths of a percent; see
    # app/models/location.py): lines appended later use them too, whatever the location says by then.
    tax_rate_thousandths: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The check (API.md "The order's money fields"), stored by app/orders/checks.py from the pricing
    # function on every change, never recomputed at read time. total = what the guest owes.
    subtotal_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    tip_total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    payment_method: Mapped[str | None] = mapped_column(String(16))
    # Computed once from created_at on the location's clock (time zone, day start), never recomputed.
    business_date: Mapped[date] = mapped_column(Date, index=True)
    # Local wall-clock hour of created_at (naive), for hourly sales.
    local_hour: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCTimestamp)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCTimestamp)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Gapless per location in closing order (app/counters.py "folio"), given by the close, never reused.
    folio: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))

    waiter = relationship("User", lazy="joined", innerjoin=True)
    table = relationship("Table", lazy="joined")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.id", lazy="selectin", cascade="all, delete-orphan"
    )
    discounts = relationship(
        "Discount", order_by="Discount.id", lazy="selectin", cascade="all, delete-orphan", back_populates="order"
    )
    payments = relationship("Payment", order_by="Payment.id", lazy="selectin", cascade="all, delete-orphan")
    refunds = relationship("Refund", order_by="Refund.id", lazy="selectin", cascade="all, delete-orphan")

    @property
    def table_name(self) -> str | None:
        """The v1 free-text `table`: the table's name when the order sits at one (v1.2)."""
        return self.table.name if self.table_id is not None and self.table is not None else self.table_label

    @property
    def balance_due_cents(self) -> int:
        return max(0, self.total_cents - self.paid_total_cents)

    @property
    def active_discounts(self) -> list:
        """Discounts not removed, oldest first (the order pricing applies them in)."""
        return [d for d in self.discounts if d.removed_at is None]


class OrderItem(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity BETWEEN 1 AND 999", name="quantity_range"),
        CheckConstraint("unit_price_cents >= 0", name="price_not_negative"),
        CheckConstraint("seat BETWEEN 0 AND 99", name="seat_range"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    product_name: Mapped[str] = mapped_column(String(120))
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    seat: Mapped[int | None] = mapped_column(Integer)  # 0 or null: shared
    # Snapshots: [{"name", "price_cents"}]; unit_price_cents already includes their prices.
    modifiers: Mapped[list] = mapped_column(JSON, default=list)
    tax_rate_thousandths: Mapped[int] = mapped_column(Integer, default=0)
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    net_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    voided_at: Mapped[datetime | None] = mapped_column(UTCTimestamp)
    # The kitchen (API.md v1.2): course 1-9; held -> sent -> ready -> served, or voided. `station_id` is
    # the station the line was sent to (null: held, or no station receives it), so "on a ticket" is one column.
    course: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    kitchen_status: Mapped[str] = mapped_column(String(8), default="sent", server_default=text("'sent'"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("kitchen_stations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity

    @property
    def tax_rate(self) -> Decimal:
        """The rate snapshot as a percentage (stored in thousandths of a percent)."""
        return Decimal(self.tax_rate_thousandths).scaleb(-3)
