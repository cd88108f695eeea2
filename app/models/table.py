"""Tables of a location (API.md v1.2 "Tables"). Whether one is free or occupied is derived from the
open orders on it at read time, never stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.columns import UTCTimestamp, utcnow
from app.extensions import db


def table_name_key(name: str) -> str:
    """Names are unique per location after trimming, case-insensitively: ' T1 ' and 't1' are one table."""
    return name.strip().casefold()


class Table(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "tables"
    __table_args__ = (
        UniqueConstraint("location_id", "name_key", name="uq_tables_location_id_name_key"),
        CheckConstraint("seats BETWEEN 1 AND 50", name="seats_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    name: Mapped[str] = mapped_column(String(20))
    name_key: Mapped[str] = mapped_column(String(80))
    seats: Mapped[int] = mapped_column(Integer, default=4)
    area: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow, onupdate=utcnow)

    @validates("name")
    def _set_name(self, _key: str, value: str) -> str:
        value = value.strip()
        self.name_key = table_name_key(value)
        return value

    def __repr__(self) -> str:
        return f"<Table {self.id} {self.name} @{self.location_id}>"
