"""Users of the POS: waiters, managers and admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.columns import UTCTimestamp, utcnow
from app.extensions import db
from app.models.location import Location, user_locations

ROLES = ("waiter", "manager", "admin")


class User(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('waiter', 'manager', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default="waiter")
    password_hash: Mapped[str] = mapped_column(String(255))
    # A manager's or admin's approval PIN, hashed like passwords (argon2id); null: no PIN.
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on deactivation, role or password change: older tokens stop working at once.
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow, onupdate=utcnow)

    # Waiters' and managers' locations (admins: none stored, they belong to every location).
    locations: Mapped[list[Location]] = relationship(secondary=user_locations, order_by=Location.id)

    @property
    def has_pin(self) -> bool:
        return self.pin_hash is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
