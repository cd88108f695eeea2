"""Brute force: the reports recomputed in plain Python from the raw orders and lines.

Independent of app/reports (no SQL aggregate, no rollup), so a passing comparison means the
rollups and both query paths are exact. Returns the JSON bodies the API must answer.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Location, Order, OrderItem, Product, User


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def load_lines() -> list[dict]:
    """Every order line joined with its order, straight from the tables."""
    db.session.expire_all()
    stmt = select(
        Order.id, Order.status, Order.waiter_id, Order.location_id, Order.business_date, Order.local_hour,
        OrderItem.product_id, OrderItem.quantity, OrderItem.unit_price_cents, OrderItem.voided,
    ).join(OrderItem, OrderItem.order_id == Order.id)
    keys = ("order_id", "status", "waiter_id", "location_id", "business_date", "local_hour", "product_id", "quantity",
            "unit_price_cents", "voided")
    return [dict(zip(keys, row, strict=True)) for row in db.session.execute(stmt)]


def counted(lines, start: date, end: date, waiter_id: int | None = None, status: str | None = None,
            locations: set[int] | None = None) -> list[dict]:
    statuses = {status} if status else {"open", "closed"}
    return [
        line for line in lines
        if not line["voided"] and line["status"] in statuses and start <= line["business_date"] <= end
        and (waiter_id is None or line["waiter_id"] == waiter_id)
        and (locations is None or line["location_id"] in locations)
    ]


def _names(model) -> dict[int, str]:
    return dict(db.session.execute(select(model.id, model.name)).all())


def products(lines, start, end, waiter_id=None, status=None, locations=None) -> dict:
    rows = counted(lines, start, end, waiter_id, status, locations)
    names = _names(Product)
    per = defaultdict(lambda: {"quantity": 0, "revenue": 0, "orders": set()})
    for line in rows:
        p = per[line["product_id"]]
        p["quantity"] += line["quantity"]
        p["revenue"] += line["quantity"] * line["unit_price_cents"]
        p["orders"].add(line["order_id"])
    data = [
        {"product_id": pid, "product_name": names[pid], "quantity": p["quantity"], "revenue": p["revenue"],
         "orders": len(p["orders"])}
        for pid, p in per.items()
    ]
    data.sort(key=lambda r: (-r["quantity"], -r["revenue"], r["product_name"].casefold(), r["product_name"],
                             r["product_id"]))
    totals = {"quantity": sum(r["quantity"] for r in data), "revenue": money(sum(r["revenue"] for r in data)),
              "orders": len({line["order_id"] for line in rows})}
    for r in data:
        r["revenue"] = money(r["revenue"])
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), "totals": totals, "data": data}


def _ticket(revenue: int, orders: int) -> int:
    return (2 * revenue + orders) // (2 * orders) if orders else 0  # half up, non-negative amounts


def waiters(lines, start, end, waiter_id=None, status=None, locations=None, by="waiter") -> dict:
    """Per waiter (or per location with by="location": /reports/locations)."""
    rows = counted(lines, start, end, waiter_id, status, locations)
    names = _names(User if by == "waiter" else Location)
    per = defaultdict(lambda: {"orders": set(), "items": 0, "revenue": 0})
    for line in rows:
        w = per[line[f"{by}_id"]]
        w["orders"].add(line["order_id"])
        w["items"] += line["quantity"]
        w["revenue"] += line["quantity"] * line["unit_price_cents"]
    data = [
        {f"{by}_id": wid, f"{by}_name": names[wid], "orders": len(w["orders"]), "items": w["items"],
         "revenue": w["revenue"], "average_ticket": _ticket(w["revenue"], len(w["orders"]))}
        for wid, w in per.items()
    ]
    data.sort(key=lambda r: (-r["revenue"], r[f"{by}_name"].casefold(), r[f"{by}_id"]))
    totals = {"orders": sum(r["orders"] for r in data), "items": sum(r["items"] for r in data),
              "revenue": money(sum(r["revenue"] for r in data))}
    for r in data:
        r["revenue"], r["average_ticket"] = money(r["revenue"]), money(r["average_ticket"])
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), "totals": totals, "data": data}


def sales(lines, start, end, waiter_id=None, status=None, granularity="day", day_starts=time(0),
          locations=None) -> dict:
    """`day_starts`: the day start of the locations covered (one time, or several: every local hour of each)."""
    rows = counted(lines, start, end, waiter_id, status, locations)
    key = "business_date" if granularity == "day" else "local_hour"
    per = defaultdict(lambda: {"orders": set(), "items": 0, "revenue": 0})
    for line in rows:
        s = per[line[key]]
        s["orders"].add(line["order_id"])
        s["items"] += line["quantity"]
        s["revenue"] += line["quantity"] * line["unit_price_cents"]
    n_days = (end - start).days + 1
    if granularity == "day":
        slots = {start + timedelta(days=d) for d in range(n_days)}
    else:
        slots = set()
        for day_start in day_starts if isinstance(day_starts, (list, tuple, set)) else [day_starts]:
            first = datetime.combine(start, time(day_start.hour))
            slots |= {first + timedelta(hours=h) for h in range(24 * n_days + (1 if day_start.minute else 0))}
    data = []
    for slot in sorted(slots | set(per)):
        s = per.get(slot, {"orders": set(), "items": 0, "revenue": 0})
        label = slot.strftime("%Y-%m-%dT%H:00") if granularity == "hour" else slot.isoformat()
        data.append({"period": label, "orders": len(s["orders"]), "items": s["items"], "revenue": s["revenue"]})
    totals = {"orders": sum(r["orders"] for r in data), "items": sum(r["items"] for r in data),
              "revenue": money(sum(r["revenue"] for r in data))}
    for r in data:
        r["revenue"] = money(r["revenue"])
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), "totals": totals, "data": data}
