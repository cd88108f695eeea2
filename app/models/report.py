"""Rollups behind the reports: daily (and hourly) delta rows, and their monthly folds.

Writers only INSERT delta rows into the daily tables (`folded` false), so order creation is never
serialized on a shared row. `flask reports compact` merges the rows of each key into one `folded`
row and adds what it folded to the monthly table, in one statement. Readers always SUM: a whole
month in a range is its monthly rows plus the daily rows not folded yet; a partial month is its
daily rows. So the answer is exact whether or not, and however often, compaction ran.

location_id, product_id and waiter_id carry no foreign keys on purpose: rollups are derived data
(rebuilt from the orders, whose locations, lines and waiters are foreign-keyed), locations, products
and users are never deleted, and the key checks were about a third of the database work of every
order change's rollup insert.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Integer, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

ID = BigInteger().with_variant(Integer, "sqlite")
# The key indexes carry the values too (PostgreSQL INCLUDE): report reads are index-only scans.
# v1.1 money figures (0004_report_money): gross, discounts, tax (less refunds' tax), refunds; revenue is net.
MONEY = ["gross_cents", "discount_cents", "tax_cents", "refund_cents"]
VALUES_P = ["quantity", "revenue_cents", "orders", *MONEY, "quantity_refunded"]
VALUES_S = ["orders", "items", "revenue_cents", *MONEY, "tip_cents"]


def _unfolded_index(table: str) -> Index:
    """The rows compaction has not folded yet, found without scanning the table."""
    return Index(f"ix_{table}_unfolded", "business_date", postgresql_where=text("NOT folded"),
                 sqlite_where=text("NOT folded"))


class ProductDaily(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """Per business day, location, product and open/closed bucket: quantity, revenue, orders with the product."""

    __tablename__ = "report_product_daily"
    __table_args__ = (
        Index("ix_report_product_daily_key", "business_date", "location_id", "product_id", "closed",
              postgresql_include=VALUES_P),
        _unfolded_index("report_product_daily"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean)
    quantity: Mapped[int] = mapped_column(BigInteger)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int] = mapped_column(BigInteger)
    gross_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    refund_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    quantity_refunded: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    folded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class WaiterDaily(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """Per business day, location, waiter and bucket: orders, items, revenue."""

    __tablename__ = "report_waiter_daily"
    __table_args__ = (
        Index("ix_report_waiter_daily_key", "business_date", "location_id", "waiter_id", "closed",
              postgresql_include=VALUES_S),
        _unfolded_index("report_waiter_daily"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(Integer)
    waiter_id: Mapped[int] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean)
    orders: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[int] = mapped_column(BigInteger)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)
    gross_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    refund_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    tip_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    folded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class SalesHourly(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """Per business day, location, local hour and bucket: orders, items, revenue (all waiters)."""

    __tablename__ = "report_sales_hourly"
    __table_args__ = (
        Index("ix_report_sales_hourly_key", "business_date", "location_id", "local_hour", "closed",
              postgresql_include=VALUES_S),
        _unfolded_index("report_sales_hourly"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(Integer)
    local_hour: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    closed: Mapped[bool] = mapped_column(Boolean)
    orders: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[int] = mapped_column(BigInteger)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)
    gross_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    refund_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    tip_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    folded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class ProductMonthly(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """The folded product rows of a month (`month` is its first day); written only by maintenance."""

    __tablename__ = "report_product_monthly"
    __table_args__ = (
        Index("ix_report_product_monthly_key", "month", "location_id", "product_id", "closed",
              postgresql_include=VALUES_P),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean)
    quantity: Mapped[int] = mapped_column(BigInteger)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int] = mapped_column(BigInteger)
    gross_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    refund_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    quantity_refunded: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class WaiterMonthly(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """The folded waiter rows of a month."""

    __tablename__ = "report_waiter_monthly"
    __table_args__ = (
        Index("ix_report_waiter_monthly_key", "month", "location_id", "waiter_id", "closed",
              postgresql_include=VALUES_S),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(Integer)
    waiter_id: Mapped[int] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean)
    orders: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[int] = mapped_column(BigInteger)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)
    gross_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    refund_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    tip_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class SalesMonthly(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """The folded sales rows of a month (hours summed up)."""

    __tablename__ = "report_sales_monthly"
    __table_args__ = (Index("ix_report_sales_monthly_key", "month", "location_id", "closed",
              postgresql_include=VALUES_S),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean)
    orders: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[int] = mapped_column(BigInteger)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)
    gross_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    refund_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    tip_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
