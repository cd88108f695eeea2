"""Brute force: the reports recomputed in plain Python from the raw orders, lines, payments and refunds.

Independent of app/reports (no SQL aggregate, no rollup), written from API.md's "The reports' money
figures": each report sums per-line and per-refund figures of counted lines (not voided, not in a
cancelled order); lines count on their order's business date and local hour, refunds on their own
business date and the local hour they were made in (computed here from `created_at` and the location's
time zone), tips on their order's. A passing comparison means the rollups and both query paths are
exact. Returns the JSON bodies the API must answer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.models import Location, Order, OrderItem, Payment, Product, Refund, RefundItem, User


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


@dataclass
class Facts:
    """Everything the reports are made of, as plain rows."""

    lines: list[dict]
    refunds: list[dict]  # one row per refunded line part
    refund_totals: list[dict]  # one row per refund
    tips: dict[int, int]  # order id -> its payments' tips
    payments: list[dict]
    orders: list[dict]


def _local_hour(moment: datetime, zone: str) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def load_lines() -> Facts:
    """Every order line joined with its order, every refund part and payment, straight from the tables."""
    db.session.expire_all()
    order_cols = (Order.id, Order.status, Order.waiter_id, Order.location_id, Order.business_date, Order.local_hour)
    order_keys = ("order_id", "status", "waiter_id", "location_id", "business_date", "local_hour")
    stmt = select(
        *order_cols, OrderItem.product_id, OrderItem.quantity, OrderItem.unit_price_cents, OrderItem.voided,
        OrderItem.discount_cents, OrderItem.tax_cents, OrderItem.net_cents,
    ).join(OrderItem, OrderItem.order_id == Order.id)
    keys = (*order_keys, "product_id", "quantity", "unit_price_cents", "voided", "discount", "tax", "net")
    lines = [dict(zip(keys, row, strict=True)) for row in db.session.execute(stmt)]
    zones = dict(db.session.execute(select(Location.id, Location.timezone)).all())
    orders = {row[0]: dict(zip(order_keys, row, strict=True)) for row in db.session.execute(select(*order_cols))}
    refunds, refund_totals = [], []
    for refund in db.session.scalars(select(Refund)):
        order = orders[refund.order_id]
        made = {"refund_date": refund.business_date, "refund_hour": _local_hour(refund.created_at,
                                                                               zones[order["location_id"]]),
                "method": refund.method, "waiter_id": order["waiter_id"], "location_id": order["location_id"],
                "status": order["status"], "order_id": refund.order_id}
        refund_totals.append(made | {"amount": refund.amount_cents, "tax": refund.tax_cents, "tip": refund.tip_cents})
        for part in db.session.scalars(select(RefundItem).where(RefundItem.refund_id == refund.id)):
            product_id = db.session.get(OrderItem, part.item_id).product_id
            refunds.append(made | {"product_id": product_id, "quantity": part.quantity, "amount": part.amount_cents,
                                   "tax": part.tax_cents})
    tips: dict[int, int] = defaultdict(int)
    payments = []
    for payment in db.session.scalars(select(Payment)):
        tips[payment.order_id] += payment.tip_cents
        order = orders[payment.order_id]
        payments.append({"order_id": payment.order_id,
                         "date": payment.business_date, "method": payment.method, "amount": payment.amount_cents,
                         "tip": payment.tip_cents, "waiter_id": order["waiter_id"],
                         "location_id": order["location_id"]})
    return Facts(lines, refunds, refund_totals, dict(tips), payments, list(orders.values()))


def counted(facts: Facts, start: date, end: date, waiter_id: int | None = None, status: str | None = None,
            locations: set[int] | None = None) -> list[dict]:
    statuses = {status} if status else {"open", "closed"}
    return [
        line for line in facts.lines
        if not line["voided"] and line["status"] in statuses and start <= line["business_date"] <= end
        and (waiter_id is None or line["waiter_id"] == waiter_id)
        and (locations is None or line["location_id"] in locations)
    ]


def counted_orders(facts: Facts, start, end, waiter_id=None, status=None, locations=None) -> list[dict]:
    """Every order (one row each) not cancelled, of the status asked, on a business date in range."""
    statuses = {status} if status else {"open", "closed"}
    return [
        order for order in facts.orders
        if order["status"] in statuses and start <= order["business_date"] <= end
        and (waiter_id is None or order["waiter_id"] == waiter_id)
        and (locations is None or order["location_id"] in locations)
    ]


def counted_refunds(facts: Facts, start, end, waiter_id=None, status=None, locations=None, whole=False) -> list:
    """Refund parts (or whole refunds) made in the range, of orders that count (cancelled never do)."""
    statuses = {status} if status else {"open", "closed"}
    return [
        r for r in (facts.refund_totals if whole else facts.refunds)
        if r["status"] in statuses and start <= r["refund_date"] <= end
        and (waiter_id is None or r["waiter_id"] == waiter_id)
        and (locations is None or r["location_id"] in locations)
    ]


def _names(model) -> dict[int, str]:
    return dict(db.session.execute(select(model.id, model.name)).all())


MONEY_KEYS = ("revenue", "gross", "discounts", "refunds", "tax")


def _blank() -> dict:
    return {"orders": set(), "items": 0, "tips": 0, **dict.fromkeys(MONEY_KEYS, 0)}


def _add_line(acc: dict, line: dict) -> None:
    acc["items"] += line["quantity"]
    acc["gross"] += line["quantity"] * line["unit_price_cents"]
    acc["discounts"] += line["discount"]
    acc["tax"] += line["tax"]
    acc["revenue"] += line["net"]


def _add_refund(acc: dict, refund: dict) -> None:
    acc["refunds"] += refund["amount"]
    acc["tax"] -= refund["tax"]
    acc["revenue"] -= refund["amount"] - refund["tax"]


def _money_out(row: dict) -> dict:
    for key in (*MONEY_KEYS, "tips", "average_ticket"):
        if key in row:
            row[key] = money(row[key])
    return row


def products(facts, start, end, waiter_id=None, status=None, locations=None) -> dict:
    rows = counted(facts, start, end, waiter_id, status, locations)
    names = _names(Product)
    per = defaultdict(lambda: _blank() | {"quantity_refunded": 0})
    for line in rows:
        p = per[line["product_id"]]
        _add_line(p, line)
        p["orders"].add(line["order_id"])
    for refund in counted_refunds(facts, start, end, waiter_id, status, locations):
        p = per[refund["product_id"]]
        _add_refund(p, refund)
        p["quantity_refunded"] += refund["quantity"]
    data = [
        {"product_id": pid, "product_name": names[pid], "quantity": p["items"], "orders": len(p["orders"]),
         "quantity_refunded": p["quantity_refunded"], **{k: p[k] for k in MONEY_KEYS}}
        for pid, p in per.items() if p["orders"] or p["quantity_refunded"]
    ]
    data.sort(key=lambda r: (-r["quantity"], -r["revenue"], r["product_name"].casefold(), r["product_name"],
                             r["product_id"]))
    totals = {"quantity": sum(r["quantity"] for r in data), "orders": len({line["order_id"] for line in rows}),
              "quantity_refunded": sum(r["quantity_refunded"] for r in data),
              **{k: money(sum(r[k] for r in data)) for k in MONEY_KEYS}}
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), "totals": totals,
            "data": [_money_out(r) for r in data]}


def ticket(revenue: int, orders: int) -> int:
    """revenue / orders, half-to-even to the cent; 0 without orders."""
    if not orders:
        return 0
    return int((Decimal(revenue) / orders).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _grouped(facts, rows, refunds, key_of_line, key_of_refund, tipped) -> dict:
    per = defaultdict(_blank)
    for line in rows:
        w = per[key_of_line(line)]
        w["orders"].add(line["order_id"])
        _add_line(w, line)
    for order in tipped:  # every order that counts, even one whose lines are all voided
        per[key_of_line(order)]["tips"] += facts.tips.get(order["order_id"], 0)
    for refund in refunds:
        _add_refund(per[key_of_refund(refund)], refund)
    return per


def _sums(data: list[dict]) -> dict:
    return {"orders": sum(r["orders"] for r in data), "items": sum(r["items"] for r in data),
            **{k: sum(r[k] for r in data) for k in (*MONEY_KEYS, "tips")}}


def waiters(facts, start, end, waiter_id=None, status=None, locations=None, by="waiter") -> dict:
    """Per waiter (or per location with by="location": /reports/locations)."""
    rows = counted(facts, start, end, waiter_id, status, locations)
    refunds = counted_refunds(facts, start, end, waiter_id, status, locations, whole=True)
    names = _names(User if by == "waiter" else Location)
    tipped = counted_orders(facts, start, end, waiter_id, status, locations)
    per = _grouped(facts, rows, refunds, lambda line: line[f"{by}_id"], lambda r: r[f"{by}_id"], tipped)
    data = [
        {f"{by}_id": wid, f"{by}_name": names[wid], "orders": len(w["orders"]), "items": w["items"],
         "tips": w["tips"], **{k: w[k] for k in MONEY_KEYS}, "average_ticket": ticket(w["revenue"], len(w["orders"]))}
        for wid, w in per.items() if w["orders"] or w["refunds"] or w["tips"]
    ]
    data.sort(key=lambda r: (-r["revenue"], r[f"{by}_name"].casefold(), r[f"{by}_id"]))
    totals = _sums(data)
    totals["average_ticket"] = ticket(totals["revenue"], totals["orders"])
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), "totals": _money_out(totals),
            "data": [_money_out(r) for r in data]}


def sales(facts, start, end, waiter_id=None, status=None, granularity="day", day_starts=time(0),
          locations=None) -> dict:
    """`day_starts`: the day start of the locations covered (one time, or several: every local hour of each)."""
    rows = counted(facts, start, end, waiter_id, status, locations)
    refunds = counted_refunds(facts, start, end, waiter_id, status, locations, whole=True)
    key = "business_date" if granularity == "day" else "local_hour"
    refund_key = "refund_date" if granularity == "day" else "refund_hour"
    tipped = counted_orders(facts, start, end, waiter_id, status, locations)
    per = _grouped(facts, rows, refunds, lambda line: line[key], lambda r: r[refund_key], tipped)
    n_days = (end - start).days + 1
    if granularity == "day":
        slots = {start + timedelta(days=d) for d in range(n_days)}
    else:
        slots = set()
        for day_start in day_starts if isinstance(day_starts, (list, tuple, set)) else [day_starts]:
            first = datetime.combine(start, time(day_start.hour))
            slots |= {first + timedelta(hours=h) for h in range(24 * n_days + (1 if day_start.minute else 0))}
    data = []
    for slot in sorted(slots | {k for k, s in per.items() if s["orders"] or s["refunds"] or s["tips"]}):
        s = per.get(slot) or _blank()
        label = slot.strftime("%Y-%m-%dT%H:00") if granularity == "hour" else slot.isoformat()
        data.append({"period": label, "orders": len(s["orders"]), "items": s["items"], "tips": s["tips"],
                     **{k: s[k] for k in MONEY_KEYS}})
    totals = _sums(data)
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), "totals": _money_out(totals),
            "data": [_money_out(r) for r in data]}


def payments(facts, start, end, waiter_id=None, locations=None) -> dict:
    """The till per method: payments and refunds on the business date they were made, cancelled orders
    included; refunds include refunded tips; net = amount + tips - refunds."""
    per = defaultdict(lambda: {"payments": 0, "amount": 0, "tips": 0, "refunds": 0})

    def inside(row, day) -> bool:
        return (start <= day <= end and (waiter_id is None or row["waiter_id"] == waiter_id)
                and (locations is None or row["location_id"] in locations))

    for p in facts.payments:
        if inside(p, p["date"]):
            m = per[p["method"]]
            m["payments"] += 1
            m["amount"] += p["amount"]
            m["tips"] += p["tip"]
    for r in facts.refund_totals:
        if inside(r, r["refund_date"]):
            per[r["method"]]["refunds"] += r["amount"] + r["tip"]
    data = [{"method": method, **m, "net": m["amount"] + m["tips"] - m["refunds"]}
            for method, m in sorted(per.items())]
    totals = {k: sum(r[k] for r in data) for k in ("payments", "amount", "tips", "refunds", "net")}
    money_keys = ("amount", "tips", "refunds", "net")
    for row in [*data, totals]:
        for k in money_keys:
            row[k] = money(row[k])
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), "totals": totals, "data": data}
