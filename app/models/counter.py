"""Gapless numbers per location: folios, z numbers, kitchen ticket numbers, the feed's positions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

NO_DAY = date(1970, 1, 1)  # the `day` of counters that do not restart each business date


class LocationCounter(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    """The last number taken of one sequence (`name`) of one location, per business date or for ever."""

    __tablename__ = "location_counters"

    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, default=NO_DAY)
    value: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
