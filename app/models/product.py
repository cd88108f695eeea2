"""The catalogue. A product's identity is its normalized name."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.columns import UTCTimestamp, utcnow
from app.extensions import db
from app.percent import from_thousandths


def normalize_name(name: str) -> str:
    """Trimmed, case-folded, runs of white space collapsed: ' Taco  al PASTOR' -> 'taco al pastor'."""
    return " ".join(name.split()).casefold()


def clean_name(name: str) -> str:
    """The display form: trimmed with runs of white space collapsed, case kept."""
    return " ".join(name.split())


class Product(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("price_cents >= 0", name="price_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The unique index on the normalized name is what makes " Taco" and "taco" one product.
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    price_cents: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str | None] = mapped_column(String(60))
    # Thousandths of a percent (16% = 16000); None: the order's location rate.
    tax_rate_thousandths: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow, onupdate=utcnow)

    @property
    def tax_rate(self) -> Decimal | None:
        return None if self.tax_rate_thousandths is None else from_thousandths(self.tax_rate_thousandths)

    @validates("name")
    def _set_name(self, _key: str, value: str) -> str:
        value = clean_name(value)
        self.name_key = normalize_name(value)
        return value
