"""The kitchen report's read-only SQL: per station, its `new` tickets of a range of business dates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import KitchenTicket, KitchenTicketLine, Station


def kitchen_rows(location_ids: list[int], start: date, end: date, now: datetime) -> list[dict]:
    """One row per active station of these locations (zeros when it had no ticket), by location and id."""
    stations = list(db.session.scalars(select(Station).where(Station.location_id.in_(location_ids),
                                                             Station.active.is_(True))
                                       .order_by(Station.location_id, Station.id)))
    if not stations:
        return []
    in_range = (KitchenTicket.kind == "new", KitchenTicket.business_date.between(start, end),
                KitchenTicket.station_id.in_([s.id for s in stations]))
    units = dict(db.session.execute(
        select(KitchenTicket.station_id, func.sum(KitchenTicketLine.quantity))
        .join(KitchenTicketLine, KitchenTicketLine.ticket_id == KitchenTicket.id)
        .where(*in_range).group_by(KitchenTicket.station_id)).all())
    # Seconds are worked out in Python from the two timestamps: exact on both backends, and a range's
    # tickets are few (a busy kitchen makes a few thousand a day).
    times: dict[int, list] = {}
    for station_id, created, ready in db.session.execute(
            select(KitchenTicket.station_id, KitchenTicket.created_at, KitchenTicket.ready_at).where(*in_range)):
        times.setdefault(station_id, []).append((created, ready))
    rows = []
    for station in stations:
        mine = times.get(station.id, [])
        limit = station.alert_minutes * 60
        seconds = [int((ready - created).total_seconds()) for created, ready in mine if ready is not None]
        late = sum(1 for created, ready in mine if ((ready or now) - created).total_seconds() > limit)
        rows.append({"station_id": station.id, "station_name": station.name, "tickets": len(mine),
                     "items": int(units.get(station.id) or 0),
                     "avg_seconds": round(sum(seconds) / len(seconds)) if seconds else None,
                     "max_seconds": max(seconds) if seconds else None, "late": late})
    return rows
