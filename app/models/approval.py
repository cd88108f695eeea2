"""Manager approval tokens (API.md v1.2 "Manager approvals"): single use, 120 s, bound to one action
on one order or drawer session and, optionally, an amount. Only a sha256 of the token is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.columns import UTCTimestamp, utcnow
from app.extensions import db


class ApprovalToken(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy builds db.Model at runtime
    __tablename__ = "approval_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    action: Mapped[str] = mapped_column(String(32))
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    # A plain integer: the drawer sessions' table belongs to the cash drawer work (no foreign key here).
    drawer_session_id: Mapped[int | None] = mapped_column(Integer)
    max_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCTimestamp, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCTimestamp)
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp, default=utcnow)

    approver = relationship("User", lazy="joined", foreign_keys=[approver_id])
