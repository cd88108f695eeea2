"""Daily rollups behind the reports.

Rows are append-only deltas (writers never update a shared row, so order creation is not
serialized); `flask reports compact` folds them into one row per key. Readers always SUM,
so the answer is exact whether or not compaction has run.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ProductDaily(db.Model):
    """Per business day, product and open/closed bucket: quantity, revenue, orders with the product."""

    __tablename__ = "report_product_daily"
    __table_args__ = (Index("ix_report_product_daily_key", "business_date", "product_id", "closed"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    closed: Mapped[bool] = mapped_column(Boolean)
    quantity: Mapped[int] = mapped_column(BigInteger)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int] = mapped_column(BigInteger)


class WaiterDaily(db.Model):
    """Per business day, waiter and bucket: orders, items, revenue."""

    __tablename__ = "report_waiter_daily"
    __table_args__ = (Index("ix_report_waiter_daily_key", "business_date", "waiter_id", "closed"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    waiter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed: Mapped[bool] = mapped_column(Boolean)
    orders: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[int] = mapped_column(BigInteger)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)


class SalesHourly(db.Model):
    """Per business day, local hour and bucket: orders, items, revenue (all waiters)."""

    __tablename__ = "report_sales_hourly"
    __table_args__ = (Index("ix_report_sales_hourly_key", "business_date", "local_hour", "closed"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    local_hour: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    closed: Mapped[bool] = mapped_column(Boolean)
    orders: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[int] = mapped_column(BigInteger)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)
