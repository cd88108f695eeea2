"""Report assembly: who sees what, sorting, zero-filled periods, totals. The SQL is in queries.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import current_app

from app.auth.permissions import is_staff
from app.models import User
from app.reports import periods, queries
from app.reports.queries import Scope


@dataclass
class Report:
    """A report before serialization: money in integer cents."""

    start_date: date
    end_date: date
    totals: dict
    data: list[dict]
    timezone: str = field(default_factory=lambda: current_app.config["BUSINESS_TIMEZONE"])
    currency: str = field(default_factory=lambda: current_app.config["CURRENCY"])


def resolve_scope(args: dict, user: User) -> Scope | None:
    """The orders the caller asked for and may see; None when that is nothing at all.

    Managers and admins see every order (optionally one waiter's); a waiter only their own, so a
    waiter asking for another waiter's id gets an empty report (like a filter that matches nothing).
    """
    waiter_id = args.get("waiter_id")
    if not is_staff(user):
        if waiter_id is not None and waiter_id != user.id:
            return None
        waiter_id = user.id
    return Scope(start=args["start_date"], end=args["end_date"], waiter_id=waiter_id, status=args.get("status"))


def _report(args: dict, totals: dict, data: list[dict]) -> Report:
    return Report(start_date=args["start_date"], end_date=args["end_date"], totals=totals, data=data)


def products_report(args: dict, user: User) -> Report:
    """Products sold in the range; totals over every product whatever the limit."""
    scope = resolve_scope(args, user)
    rows, total_orders = queries.product_report_rows(scope) if scope else ([], 0)
    data: list[dict[str, Any]] = [
        {"product_id": pid, "product_name": name, "quantity": q, "revenue_cents": r, "orders": o}
        for pid, name, q, r, o in rows
    ]
    totals = {
        "quantity": sum(row["quantity"] for row in data),
        "revenue_cents": sum(row["revenue_cents"] for row in data),
        "orders": total_orders,
    }
    data = sort_products(data, args["sort"], args.get("order"))
    if args.get("limit"):
        data = data[: args["limit"]]
    return _report(args, totals, data)


def sort_products(data: list[dict], sort: str, order: str | None) -> list[dict]:
    """Sort by `sort` in `order`; ties by quantity desc, revenue desc, name asc, id asc."""
    data = sorted(data, key=lambda r: (-r["quantity"], -r["revenue_cents"], r["product_name"].casefold(),
                                       r["product_name"], r["product_id"]))
    order = order or ("asc" if sort == "name" else "desc")
    if sort == "name":
        key = lambda r: r["product_name"].casefold()  # noqa: E731
    else:
        key = lambda r: r["quantity" if sort == "quantity" else "revenue_cents"]  # noqa: E731
    return sorted(data, key=key, reverse=order == "desc")  # stable: ties keep the order above


def average_ticket_cents(revenue_cents: int, orders: int) -> int:
    """revenue / orders rounded half up to the cent; 0 without orders."""
    if not orders:
        return 0
    return int((Decimal(revenue_cents) / Decimal(orders)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def waiters_report(args: dict, user: User) -> Report:
    """Orders, items, revenue and average ticket per waiter, best seller first."""
    scope = resolve_scope(args, user)
    rows = queries.waiter_rows(scope) if scope else []
    data: list[dict[str, Any]] = [
        {"waiter_id": wid, "waiter_name": name, "orders": o, "items": i, "revenue_cents": r,
         "average_ticket_cents": average_ticket_cents(r, o)}
        for wid, name, o, i, r in rows
    ]
    data.sort(key=lambda r: (-r["revenue_cents"], r["waiter_name"].casefold(), r["waiter_id"]))
    return _report(args, _sum_totals(data), data)


def _sum_totals(data: list[dict]) -> dict:
    return {key: sum(row[key] for row in data) for key in ("orders", "items", "revenue_cents")}


def format_period(period: date | datetime) -> str:
    if isinstance(period, datetime):
        return period.strftime("%Y-%m-%dT%H:00")
    return period.isoformat()


def sales_report(args: dict, user: User) -> Report:
    """Orders, items and revenue per business day or local hour, every period present (zeros included)."""
    scope = resolve_scope(args, user)
    granularity = args["granularity"]
    found = {p: (o, i, r) for p, o, i, r in queries.sales_rows(scope, granularity)} if scope else {}
    start, end = args["start_date"], args["end_date"]
    expected = periods.days(start, end) if granularity == "day" else periods.hour_slots(start, end)
    # A row outside the expected slots (an hour recorded under an older BUSINESS_DAY_STARTS_AT)
    # is still listed, so the rows always add up to the totals.
    slots = sorted(set(expected) | set(found))
    data = []
    for slot in slots:
        o, i, r = found.get(slot, (0, 0, 0))
        data.append({"period": format_period(slot), "orders": o, "items": i, "revenue_cents": r})
    return _report(args, _sum_totals(data), data)
