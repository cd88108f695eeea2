"""Locations: the restaurants of a chain, each with its own wall clock and tax settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.columns import UTCTimestamp, utcnow
from app.extensions import db

# Percentages are stored exactly as integer thousandths of a percent: 16% -> 16000, 8.125% -> 8125
# (app/percent.py reads and writes them).


def location_name_key(name: str) -> str:
    """Names are unique after trimming, case-insensitively: ' Centro ' and 'CENTRO' are one location."""
    return name.strip().casefold()


class Location(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "locations"
    __table_args__ = (
        CheckConstraint("tax_rate_thousandths BETWEEN 0 AND 100000", name="tax_rate_range"),
        # At most one default location: the chain's first, made by the migration from BUSINESS_TIMEZONE.
        Index("uq_locations_default", "is_default", unique=True,
              postgresql_where=text("is_default"), sqlite_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    day_starts_at: Mapped[str] = mapped_column(String(5), default="00:00")  # HH:MM
    tax_rate_thousandths: Mapped[int] = mapped_column(Integer, default=0)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A drawer close whose |variance| exceeds this needs a reason (and a waiter an approval).
    variance_tolerance_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow, onupdate=utcnow)

    @validates("name")
    def _set_name(self, _key: str, value: str) -> str:
        value = value.strip()
        self.name_key = location_name_key(value)
        return value

    def __repr__(self) -> str:
        return f"<Location {self.id} {self.name} {self.timezone}>"


# Which locations a waiter or manager belongs to. Admins belong to every location and have no rows.
user_locations = Table(
    "user_locations",
    db.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("location_id", Integer, ForeignKey("locations.id"), primary_key=True, index=True),
)
