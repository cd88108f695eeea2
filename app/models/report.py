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

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.columns import BIG_ID
from app.extensions import db

ID = BIG_ID


def _figure(*, v1: bool = False) -> Mapped[int]:
    """A value column: v1's figures have no default; v1.1's (0004_report_money) default to 0."""
    return mapped_column(BigInteger) if v1 else mapped_column(BigInteger, default=0, server_default=text("0"))


# The value columns of each kind of rollup, declared once here: the tables below, the rollups' business
# definition (app/figures/rollups.py), the report queries and the writers all take their lists from these.
# v1.1 money figures: gross, discounts, tax (less refunds' tax), refunds; revenue is net.
class ProductFigures:
    """Per product: units, net revenue, orders with the product (0/1 per order), money, units refunded."""

    quantity: Mapped[int] = _figure(v1=True)
    revenue_cents: Mapped[int] = _figure(v1=True)
    orders: Mapped[int] = _figure(v1=True)
    gross_cents: Mapped[int] = _figure()
    discount_cents: Mapped[int] = _figure()
    tax_cents: Mapped[int] = _figure()
    refund_cents: Mapped[int] = _figure()
    quantity_refunded: Mapped[int] = _figure()


class SalesFigures:
    """Per waiter or hour: counted orders, units, net revenue, money, tips."""

    orders: Mapped[int] = _figure(v1=True)
    items: Mapped[int] = _figure(v1=True)
    revenue_cents: Mapped[int] = _figure(v1=True)
    gross_cents: Mapped[int] = _figure()
    discount_cents: Mapped[int] = _figure()
    tax_cents: Mapped[int] = _figure()
    refund_cents: Mapped[int] = _figure()
    tip_cents: Mapped[int] = _figure()


class PaymentFigures:
    """Per payment method (the till, `/reports/payments`): payments taken (count, amounts, tips) and
    refunds given (count; amounts with the tips they returned), on the business date each was made."""

    payments: Mapped[int] = _figure()
    amount_cents: Mapped[int] = _figure()
    tip_cents: Mapped[int] = _figure()
    refunds: Mapped[int] = _figure()
    refund_cents: Mapped[int] = _figure()  # amount + tip


PRODUCT_VALUES: tuple[str, ...] = tuple(ProductFigures.__annotations__)
SALES_VALUES: tuple[str, ...] = tuple(SalesFigures.__annotations__)
PAYMENT_VALUES: tuple[str, ...] = tuple(PaymentFigures.__annotations__)
# The key indexes carry the values too (PostgreSQL INCLUDE): report reads are index-only scans.
VALUES_P, VALUES_S, VALUES_T = list(PRODUCT_VALUES), list(SALES_VALUES), list(PAYMENT_VALUES)
METHOD = String(16)  # a payment's or refund's method (cash, card, other)


def _unfolded_index(table: str) -> Index:
    """The rows compaction has not folded yet, found without scanning the table."""
    return Index(f"ix_{table}_unfolded", "business_date", postgresql_where=text("NOT folded"),
                 sqlite_where=text("NOT folded"))


class ProductDaily(ProductFigures, db.Model):  # type: ignore[name-defined]  # db.Model is built at runtime
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
    folded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class WaiterDaily(SalesFigures, db.Model):  # type: ignore[name-defined]  # db.Model is built at runtime
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
    folded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class SalesHourly(SalesFigures, db.Model):  # type: ignore[name-defined]  # db.Model is built at runtime
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
    folded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class PaymentDaily(PaymentFigures, db.Model):  # type: ignore[name-defined]  # db.Model is built at runtime
    """The till per business day, location and method: every waiter, cancelled orders included (0014)."""

    __tablename__ = "report_payment_daily"
    __table_args__ = (
        Index("ix_report_payment_daily_key", "business_date", "location_id", "method",
              postgresql_include=VALUES_T),
        _unfolded_index("report_payment_daily"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(METHOD)
    folded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class PaymentWaiterDaily(PaymentFigures, db.Model):  # type: ignore[name-defined]  # db.Model is built at runtime
    """The till per business day, location, the order's waiter and method (`/reports/payments?waiter_id=`);
    its index leads with the waiter: a waiter's report reads only that waiter's rows (0014)."""

    __tablename__ = "report_payment_waiter_daily"
    __table_args__ = (
        Index("ix_report_payment_waiter_daily_key", "waiter_id", "business_date", "location_id", "method",
              postgresql_include=VALUES_T),
        _unfolded_index("report_payment_waiter_daily"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(Integer)
    waiter_id: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(METHOD)
    folded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class ProductMonthly(ProductFigures, db.Model):  # type: ignore[name-defined]  # db.Model is built at runtime
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


class WaiterMonthly(SalesFigures, db.Model):  # type: ignore[name-defined]  # db.Model is built at runtime
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


class SalesMonthly(SalesFigures, db.Model):  # type: ignore[name-defined]  # db.Model is built at runtime
    """The folded sales rows of a month (hours summed up)."""

    __tablename__ = "report_sales_monthly"
    __table_args__ = (Index("ix_report_sales_monthly_key", "month", "location_id", "closed",
              postgresql_include=VALUES_S),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean)


class PaymentMonthly(PaymentFigures, db.Model):  # type: ignore[name-defined]  # db.Model is built at runtime
    """The folded till rows of a month."""

    __tablename__ = "report_payment_monthly"
    __table_args__ = (Index("ix_report_payment_monthly_key", "month", "location_id", "method",
                            postgresql_include=VALUES_T),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(METHOD)


class PaymentWaiterMonthly(PaymentFigures, db.Model):  # type: ignore[name-defined]  # db.Model is built at runtime
    """The folded per-waiter till rows of a month."""

    __tablename__ = "report_payment_waiter_monthly"
    __table_args__ = (Index("ix_report_payment_waiter_monthly_key", "waiter_id", "month", "location_id", "method",
                            postgresql_include=VALUES_T),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(Integer)
    waiter_id: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(METHOD)
