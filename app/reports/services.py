"""Report assembly: who sees what, sorting, zero-filled periods, totals. The SQL is in queries.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from flask import current_app

from app.auth.permissions import is_staff, report_locations
from app.business_time import business_date
from app.errors import ValidationFailed
from app.figures import periods, queries
from app.figures.queries import Scope
from app.models import Location, User
from app.reports.schemas import DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, range_errors

ZEROS = dict.fromkeys(queries.SALES_NAMES, 0)


@dataclass
class Report:
    """A report before serialization: money in integer cents."""

    start_date: date
    end_date: date
    totals: dict
    data: list[dict]
    location_id: int | None = None  # None: several locations
    timezone: str | None = None  # the location's; None over several
    currency: str = field(default_factory=lambda: current_app.config["CURRENCY"])


@dataclass(frozen=True)
class Coverage:
    """The locations a report covers, and whether its queries must filter on them."""

    locations: list[Location]
    filtered: bool

    @property
    def single(self) -> Location | None:
        return self.locations[0] if len(self.locations) == 1 else None

    @property
    def ids(self) -> tuple[int, ...] | None:
        return tuple(location.id for location in self.locations) if self.filtered else None


def coverage(args: dict, user: User) -> Coverage:
    """The report's locations: `location_id` (404 outside the caller's) or every one the caller may see."""
    return Coverage(*report_locations(user, args.get("location_id")))


def today(cover: Coverage) -> date:
    """Today's business date for a report: the latest over its locations, so today's orders of every
    location are inside the default range."""
    now = datetime.now(UTC)
    dates = [business_date(now, loc.timezone, loc.day_starts_at) for loc in cover.locations]
    return max(dates) if dates else business_date(now)


def resolve_range(args: dict, cover: Coverage) -> dict:
    """Fill the default range (the 30 business days ending today) and check what was filled in."""
    if args.get("end_date") is not None and args.get("start_date") is not None:
        return args  # checked by the query schema
    end = args.get("end_date") or today(cover)
    start = args.get("start_date") or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    errors = range_errors(start, end, args.get("max_days", MAX_RANGE_DAYS))
    if errors:
        raise ValidationFailed("A query parameter is invalid.", errors=errors)
    return args | {"start_date": start, "end_date": end}


def resolve_scope(args: dict, user: User, cover: Coverage) -> Scope | None:
    """The orders the caller asked for and may see; None when that is nothing at all.

    Managers and admins see every order of their locations (optionally one waiter's); a waiter only
    their own, so a waiter asking for another waiter's id gets an empty report (like a filter that
    matches nothing).
    """
    waiter_id = args.get("waiter_id")
    if not is_staff(user):
        if waiter_id is not None and waiter_id != user.id:
            return None
        waiter_id = user.id
    if cover.filtered and not cover.locations:
        return None
    return Scope(start=args["start_date"], end=args["end_date"], waiter_id=waiter_id, status=args.get("status"),
                 location_ids=cover.ids)


def _report(args: dict, cover: Coverage, totals: dict, data: list[dict]) -> Report:
    single = cover.single
    return Report(start_date=args["start_date"], end_date=args["end_date"], totals=totals, data=data,
                  location_id=single.id if single else None, timezone=single.timezone if single else None)


def prepare(args: dict, user: User) -> tuple[dict, Coverage, Scope | None]:
    """The report's arguments with its range filled, its locations, and the orders it covers."""
    cover = coverage(args, user)
    args = resolve_range(args, cover)
    return args, cover, resolve_scope(args, user, cover)


def products_report(args: dict, user: User) -> Report:
    """Products sold in the range; totals over every product whatever the limit."""
    args, cover, scope = prepare(args, user)
    data, total_orders = queries.product_report_rows(scope) if scope else ([], 0)
    totals = {name: sum(row[name] for row in data) for name in queries.PRODUCT_NAMES} | {"orders": total_orders}
    data = sort_products(data, args["sort"], args.get("order"))
    if args.get("limit"):
        data = data[: args["limit"]]
    return _report(args, cover, totals, data)


def sort_products(data: list[dict], sort: str, order: str | None) -> list[dict]:
    """Sort by `sort` in `order`; ties by quantity desc, revenue desc, name asc, id asc."""
    data = sorted(data, key=lambda r: (-r["quantity"], -r["revenue_cents"], r["product_name"].casefold(),
                                       r["product_name"], r["product_id"]))
    order = order or ("asc" if sort == "name" else "desc")
    if sort == "name":
        key = lambda r: r["product_name"].casefold()  # noqa: E731
    else:
        column = {"quantity": "quantity", "revenue": "revenue_cents", "gross": "gross_cents"}[sort]
        key = lambda r: r[column]  # noqa: E731
    return sorted(data, key=key, reverse=order == "desc")  # stable: ties keep the order above


def average_ticket_cents(revenue_cents: int, orders: int) -> int:
    """revenue / orders rounded half-to-even to the cent; 0 without orders."""
    if not orders:
        return 0
    return int((Decimal(revenue_cents) / Decimal(orders)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def waiters_report(args: dict, user: User) -> Report:
    """Orders, items, revenue and average ticket per waiter, best seller first."""
    args, cover, scope = prepare(args, user)
    data = _with_tickets(queries.waiter_rows(scope) if scope else [])
    data.sort(key=lambda r: (-r["revenue_cents"], r["waiter_name"].casefold(), r["waiter_id"]))
    return _report(args, cover, _sum_totals(data), data)


def locations_report(args: dict, user: User) -> Report:
    """Orders, items, revenue and average ticket per location, highest revenue first."""
    args, cover, scope = prepare(args, user)
    data = _with_tickets(queries.location_rows(scope) if scope else [])
    data.sort(key=lambda r: (-r["revenue_cents"], r["location_name"].casefold(), r["location_id"]))
    return _report(args, cover, _sum_totals(data), data)


def _with_tickets(rows: list[dict]) -> list[dict]:
    return [row | {"average_ticket_cents": average_ticket_cents(row["revenue_cents"], row["orders"])} for row in rows]


def _sum_totals(data: list[dict]) -> dict:
    """Sums of the rows' figures, and average_ticket = totals.revenue / totals.orders."""
    totals = {key: sum(row[key] for row in data) for key in queries.SALES_NAMES}
    return totals | {"average_ticket_cents": average_ticket_cents(totals["revenue_cents"], totals["orders"])}


def format_period(period: date | datetime) -> str:
    if isinstance(period, datetime):
        return period.strftime("%Y-%m-%dT%H:00")
    return period.isoformat()


def sales_report(args: dict, user: User) -> Report:
    """Orders, items and revenue per business day or local hour, every period present (zeros included).

    Each location's orders fall on its own business dates and local hours; over several locations the
    hourly periods are every local hour any of them has in the range.
    """
    args, cover, scope = prepare(args, user)
    granularity = args["granularity"]
    found = {row.pop("period"): row for row in queries.sales_rows(scope, granularity)} if scope else {}
    start, end = args["start_date"], args["end_date"]
    if granularity == "day":
        expected = set(periods.days(start, end))
    else:
        starts: set[str | None] = {loc.day_starts_at for loc in cover.locations} or {None}
        expected = {slot for day_start in starts for slot in periods.hour_slots(start, end, day_start)}
    # A row outside the expected slots (an hour recorded under an older day start) is still listed,
    # so the rows always add up to the totals.
    slots = sorted(expected | set(found))
    data = []
    for slot in slots:
        data.append({"period": format_period(slot), **found.get(slot, ZEROS)})
    return _report(args, cover, _sum_totals(data), data)


def payments_report(args: dict, user: User) -> Report:
    """The till per method (cash, card, other): payments, amount, tips, refunds and net, one row per
    method that saw a payment or a refund in the range."""
    args, cover, scope = prepare(args, user)
    data = [row | {"net_cents": row["amount"] + row["tips"] - row["refunds"]}
            for row in (queries.payment_rows(scope) if scope else [])]
    totals = {key: sum(row[key] for row in data) for key in ("payments", "amount", "tips", "refunds", "net_cents")}
    return _report(args, cover, totals, data)
