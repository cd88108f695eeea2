"""Revoked JWTs, checked on every authenticated request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.columns import UTCTimestamp, utcnow
from app.extensions import db


class RevokedToken(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "revoked_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    token_type: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCTimestamp, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)
