"""`flask seed --orders N`: a year of orders for the seeded chain, loaded in bulk.

The orders are faithful: `build()` turns a plan (a ticket: lines, modifiers, a void, discounts, then
open, closed with a payment and tip, or cancelled; served by a waiter at a moment) into the rows the
API writes for the same story, through the application's own code: every money figure from the
pricing function (`checks.price_lines`), the order row with its business date from
`services.order_row`, the history events from `history.event_row` with the descriptions the
services put in them, the report figures from `rollups.contribution`. `tests/ops/test_seed_bulk.py`
replays the same plans through the HTTP API and compares every order, event and report.

The load is fast because tickets repeat: the schedule draws each order's ticket from a pool of 1,500
per location (300 more for today's orders), `build()` runs once per ticket on sentinel ids, times
and waiter, and each order is that template with its own ids, waiter, times and business dates
patched in; its report figures are the ticket's `packing.Shape` added on the order's keys
(`packing.Totals`, one `record()` at the end). On PostgreSQL each table's rows of 10,000 orders go
in one `COPY` (a second thread builds the next chunk meanwhile), with the secondary indexes rebuilt
after big loads and, for a superuser, foreign-key triggers off (the ids are ours and consistent); on
SQLite one executemany `INSERT` each.

Everything is one transaction that locks the order tables against other writers; the rows' ids start
after the tables' maxima and the sequences are moved past them; then `flask reports compact` folds
the rollup rows. Meant for an empty or idle database: demos, load tests, benchmarks.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import cache
from itertools import accumulate
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, func, insert, select, text

from app import counters
from app.business_time import business_date, local_hour
from app.database import without_wait_callback
from app.extensions import db
from app.models import Discount, Order, OrderEvent, OrderItem, Payment
from app.orders import checks, history, pricing
from app.orders.discounts import describe as describe_discount
from app.orders.lines import Line
from app.orders.services import order_row
from app.orders.settle import describe_payment
from app.percent import from_thousandths
from app.reports import maintenance
from app.seed import packing
from app.seed.shared import CUSTOMERS, HOURS, MODIFIERS

BULK_PREFIX = "bulk-"
CHUNK_ORDERS = 10_000
POOL_TICKETS = 1_500  # tickets per location, and a fifth as many for its orders of today
REBUILD_INDEXES_FROM = 100_000  # orders: below this, COPY into the indexes as they are
COMP, LOYALTY, PROMO = "Cortesía de la casa", "Cliente frecuente", "Promoción del día"
CANCEL_REASON = "El cliente se retiró"
TABLES = (Order.__table__, OrderItem.__table__, Discount.__table__, Payment.__table__, OrderEvent.__table__)


# -- the world and the plans ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Place:
    id: int
    timezone: str
    day_starts_at: str
    tax_rate_thousandths: int
    prices_include_tax: bool
    manager_id: int


@dataclass(frozen=True)
class Dish:
    id: int
    name: str
    price_cents: int
    tax_rate_thousandths: int | None


@dataclass(frozen=True)
class World:
    """What the orders are made of: waiters (id, location id), locations by id, the menu."""

    waiters: tuple[tuple[int, int], ...]
    places: dict[int, Place]
    menu: tuple[Dish, ...]


@dataclass(frozen=True)
class PlannedLine:
    dish: Dish
    quantity: int
    modifiers: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class PlannedDiscount:
    line: int | None  # index into the plan's lines; None: the whole order
    percent_thousandths: int | None
    amount_cents: int | None
    reason: str


@dataclass(frozen=True)
class Ticket:
    """What happened to a check, whoever served it and whenever: created at `location_id` with `lines`,
    then line `void` voided, then `discounts` added by the location's manager (oldest first), then left
    open, closed (one payment of the balance with `method` and a tip of `tip_percent` of it) or
    cancelled, `minutes` after it was created."""

    location_id: int
    customer_name: str
    table: str
    lines: tuple[PlannedLine, ...]
    void: int | None = None
    discounts: tuple[PlannedDiscount, ...] = ()
    outcome: str = "closed"
    method: str | None = None
    tip_percent: int = 0
    minutes: int = 30


@dataclass(frozen=True)
class Plan:
    """One order: a ticket served by a waiter of its location at a moment."""

    client_order_id: str
    waiter_id: int
    created_at: datetime
    ticket: Ticket


def make_ticket(rng: random.Random, world: World, location_id: int, today: bool, popularity: list[float]) -> Ticket:
    lines = tuple(
        PlannedLine(dish, rng.choice((1, 1, 1, 1, 2, 2, 3)), (rng.choice(MODIFIERS),) if rng.random() < 0.1 else ())
        for dish in rng.choices(world.menu, cum_weights=popularity,
                                k=rng.choices((1, 2, 3, 4, 5), cum_weights=(20, 50, 75, 90, 100))[0])
    )
    void = rng.randrange(len(lines)) if len(lines) > 1 and rng.random() < 0.05 else None
    discounts: tuple[PlannedDiscount, ...] = ()
    roll = rng.random()
    if roll < 0.03:
        discounts = (PlannedDiscount(next(i for i in range(len(lines)) if i != void), 100_000, None, COMP),)
    elif roll < 0.07:
        discounts = (PlannedDiscount(None, 10_000, None, LOYALTY),)
    elif roll < 0.08:
        discounts = (PlannedDiscount(None, None, 5_000, PROMO),)
    roll = rng.random()
    outcome = (("open" if roll < 0.5 else "cancelled" if roll < 0.54 else "closed") if today
               else "cancelled" if roll < 0.04 else "closed")
    method = rng.choice(("cash", "card", "card", "other"))
    return Ticket(location_id, rng.choice(CUSTOMERS), str(rng.randint(1, 20)), lines, void, discounts, outcome,
                  method if outcome == "closed" else None, 10 if method == "card" and rng.random() < 0.5 else 0,
                  rng.randint(20, 90))


def _per_day(count: int, days: int, first: date) -> list[int]:
    """Orders per day, oldest first: busier Fridays and Saturdays, a business that grows."""
    weights = [(1.4 if (first + timedelta(d)).weekday() in (4, 5) else 1.0) * (0.8 + 0.4 * d / days)
               for d in range(days)]
    scale = count / sum(weights)
    per_day = [int(w * scale) for w in weights]
    per_day[-1] += count - sum(per_day)
    return per_day


@dataclass(frozen=True)
class Schedule:
    """Who serves which ticket when: `orders` yields (n, ticket index, waiter id, created_at in epoch
    seconds), oldest first. Tickets come from a pool per location, and another for today's orders (half
    of them still open), so the loader builds each ticket's rows once."""

    tickets: tuple[Ticket, ...]
    orders: Iterator[tuple[int, int, int, int]]


def schedule(world: World, count: int, days: int, now: datetime, seed: int = 20261201) -> Schedule:
    """`count` orders over the last `days` business days (today included), none later than 90 minutes
    before `now` (so every story has ended by then); reproducible for a seed and `now`."""
    rng = random.Random(seed)
    popularity = list(accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(world.menu))))
    tickets: list[Ticket] = []
    pools: dict[tuple[int, bool], range] = {}
    for location_id in sorted({location for _, location in world.waiters}):
        for today in (False, True):
            start = len(tickets)
            pool = min(count, POOL_TICKETS // 5 if today else POOL_TICKETS)
            tickets += [make_ticket(rng, world, location_id, today, popularity) for _ in range(pool)]
            pools[location_id, today] = range(start, len(tickets))
    latest = int(now.timestamp()) - 90 * 60
    today_of = {p.id: business_date(now, p.timezone, p.day_starts_at) for p in world.places.values()}
    hours, hour_weights = zip(*HOURS, strict=True)
    hour_cum = list(accumulate(hour_weights))
    first = min(today_of.values()) - timedelta(days=days - 1)
    hour_starts: dict[tuple[int, date, int], int] = {}

    def orders() -> Iterator[tuple[int, int, int, int]]:
        n = 0
        for age, day_count in zip(range(days - 1, -1, -1), _per_day(count, days, first), strict=True):
            for _ in range(day_count):
                n += 1
                waiter_id, location_id = rng.choice(world.waiters)
                day = today_of[location_id] - timedelta(days=age)
                hour = rng.choices(hours, cum_weights=hour_cum)[0]
                start = hour_starts.get((location_id, day, hour))
                if start is None:
                    zone = ZoneInfo(world.places[location_id].timezone)
                    start = int(datetime.combine(day, clock(hour), zone).timestamp())
                    hour_starts[location_id, day, hour] = start
                created = start + rng.randrange(3600)
                if created > latest:  # today's later hours have not happened yet
                    created = latest - rng.randrange(3600)
                pick = pools[location_id, age == 0]
                yield n, pick[rng.randrange(len(pick))], waiter_id, created

    return Schedule(tuple(tickets), orders())


def as_plans(found: Schedule) -> Iterator[Plan]:
    """The schedule's orders as whole plans (what the tests replay through the API)."""
    for n, index, waiter_id, created in found.orders:
        yield Plan(client_order_id(n), waiter_id, datetime.fromtimestamp(created, UTC), found.tickets[index])


def client_order_id(n: int) -> str:
    return f"{BULK_PREFIX}{n:07d}"


# -- one order's rows, through the application's code ------------------------------------------------------
@dataclass
class Ids:
    """The next id of each table."""

    next: dict[str, int]

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass(frozen=True)
class Built:
    tables: dict[str, list[dict[str, Any]]]
    shape: packing.Shape


def _new_line(planned: PlannedLine) -> Line:
    modifiers = [{"name": name, "price_cents": price} for name, price in planned.modifiers]
    dish = planned.dish
    return Line(dish.id, dish.name, dish.price_cents + sum(price for _, price in planned.modifiers), planned.quantity,
                None, modifiers=modifiers, tax_rate_thousandths=dish.tax_rate_thousandths)


def build(plan: Plan, world: World, ids: Ids) -> Built:
    """The rows that creating and then changing the order as `plan` says writes through the API, and the
    shape of its report contribution. The reference the loader's templates are made with."""
    story = plan.ticket
    place = world.places[story.location_id]
    include = place.prices_include_tax
    lines = checks.with_tax_rates([_new_line(planned) for planned in story.lines], place.tax_rate_thousandths)
    order_id = ids.take("orders")
    item_ids = [ids.take("order_items") for _ in lines]
    priced, figures = checks.price_lines(lines, [], include)
    at = plan.created_at
    events: list[tuple[str, datetime, int, dict[str, Any]]] = [
        ("created", at, plan.waiter_id, {"item_ids": item_ids, "total": history.money(figures.total)})]

    def later(minutes: int) -> datetime:
        return plan.created_at + timedelta(minutes=minutes)

    if story.void is not None:
        lines[story.void] = replace(lines[story.void], voided=True)
        priced, figures = checks.price_lines(lines, [], include)
        events.append(("item_voided", later(3), plan.waiter_id,
                       {"item_id": item_ids[story.void], "total": history.money(figures.total)}))
    inputs: list[pricing.DiscountInput] = []
    discounts: list[dict[str, Any]] = []
    for n, planned in enumerate(story.discounts):
        inputs.append(pricing.DiscountInput(
            item=planned.line, amount=planned.amount_cents,
            percent=None if planned.percent_thousandths is None else from_thousandths(planned.percent_thousandths)))
        priced, figures = checks.price_lines(lines, inputs, include)
        at = later(5 + n)
        row = {"id": ids.take("order_discounts"), "order_id": order_id,
               "item_id": None if planned.line is None else item_ids[planned.line],
               "percent_thousandths": planned.percent_thousandths, "amount_cents": planned.amount_cents,
               "applied_cents": figures.applied[-1], "reason": planned.reason, "created_by_id": place.manager_id,
               "created_at": at, "removed_at": None, "removed_by_id": None}
        discounts.append(row)
        events.append(("discount_added", at, place.manager_id,
                       {**describe_discount(cast(Discount, SimpleNamespace(**row))),
                        "total": history.money(figures.total)}))
    for row, applied in zip(discounts, figures.applied, strict=True):
        row["applied_cents"] = applied  # what each takes off once every discount is in

    money = {**checks.order_totals(figures), "tax_rate_thousandths": place.tax_rate_thousandths,
             "prices_include_tax": include}
    data = {"client_order_id": plan.client_order_id, "customer_name": story.customer_name, "table": story.table}
    order = order_row(cast(Any, SimpleNamespace(id=plan.waiter_id)), data, priced, money, plan.created_at,
                      cast(Any, place))
    order |= {"id": order_id, "item_count": sum(line.quantity for line in priced if not line.voided),
              "tip_total_cents": 0, "paid_total_cents": 0, "refund_total_cents": 0, "payment_method": None,
              "closed_at": None, "cancelled_at": None, "cancel_reason": None}
    payments: list[dict[str, Any]] = []
    ended = later(story.minutes)
    if story.outcome == "closed":
        balance = figures.total
        tip = pricing.round_half_even(balance * story.tip_percent, 100)
        if balance > 0 or tip > 0:  # as close_order: a payment of the whole balance (or a tip alone)
            payments.append({"id": ids.take("payments"), "order_id": order_id, "method": story.method,
                             "amount_cents": balance, "tip_cents": tip, "tendered_cents": None,
                             "change_cents": pricing.change(None, balance, tip), "reference": None,
                             "drawer_session_id": None,
                             "business_date": business_date(ended, place.timezone, place.day_starts_at),
                             "created_by_id": plan.waiter_id, "created_at": ended})
        method = checks.payment_method_of([SimpleNamespace(**p) for p in payments], story.method)
        order |= {"status": "closed", "closed_at": ended, "payment_method": method,
                  "paid_total_cents": balance if payments else 0, "tip_total_cents": tip if payments else 0}
        described = describe_payment(cast(Payment, SimpleNamespace(**payments[0]))) if payments else None
        events.append(("closed", ended, plan.waiter_id, {"payment": described, "payment_method": method,
                                                          "folio": None}))
    elif story.outcome == "cancelled":
        order |= {"status": "cancelled", "cancelled_at": ended, "cancel_reason": CANCEL_REASON}
        events.append(("cancelled", ended, plan.waiter_id, {"reason": CANCEL_REASON, "refund": None}))
    order |= {"version": len(events), "updated_at": events[-1][1]}

    tables: dict[str, list[dict[str, Any]]] = {"orders": [order], "order_discounts": discounts, "payments": payments}
    tables["order_items"] = [
        {**line.row(), "id": item_id, "order_id": order_id, "voided": line.voided,
         **({"kitchen_status": "voided"} if line.voided or story.outcome == "cancelled" else {}),
         "voided_at": events[1][1] if line.voided else None, "created_at": plan.created_at}
        for item_id, line in zip(item_ids, priced, strict=True)]
    tables["order_events"] = [
        {**history.event_row(order_id, version, actor, type_, event_data), "id": ids.take("order_events"), "at": when}
        for version, (type_, when, actor, event_data) in enumerate(events, start=1)]
    view = SimpleNamespace(status=order["status"], items=priced, payments=[SimpleNamespace(**p) for p in payments],
                           business_date=order["business_date"], location_id=story.location_id,
                           waiter_id=plan.waiter_id, local_hour=order["local_hour"], created_at=plan.created_at)
    return Built(tables, packing.shape(view))


# -- templates: a ticket's rows with the order's own values left open --------------------------------------
# What build() is given instead of an order's own values; every sentinel is far outside what real rows hold.
SENTINEL_WAITER = 7_770_000_001
SENTINEL_IDS = {"orders": 7_771_000_001, "order_items": 7_772_000_001, "order_discounts": 7_773_000_001,
                "payments": 7_774_000_001, "order_events": 7_775_000_001}
EPOCH = datetime(2000, 1, 3, 12, tzinfo=UTC)
# An order's own values (a template's "specs"): the k-th id it takes of a table, its waiter, a moment
# (created_at + offset), the business date of such a moment, its local hour, its client_order_id.
OWN, WAITER, MOMENT, BUSINESS_DATE, LOCAL_HOUR, CLIENT_ID = range(6)
Spec = tuple[int, Any]
MARKER = re.compile("\x01(\\d+)\x02")


def _marker(index: int) -> str:
    return f"\x01{index}\x02"


@dataclass(frozen=True)
class Template:
    """A ticket's rows per table with markers where each order's own values go (`specs`, by index): as
    values (a column that is one marker takes the spec's value; JSON text has markers inside) and as
    CSV text split at the markers."""

    location_id: int
    specs: tuple[Spec, ...]
    columns: dict[str, tuple[str, ...]]
    rows: dict[str, tuple[tuple[Any, ...], ...]]
    csv: dict[str, tuple[tuple[str, ...], tuple[int, ...]]]  # table -> (text between markers, spec indexes)
    shape: packing.Shape


@cache
def _json_columns(table_name: str) -> frozenset[str]:
    table = next(t for t in TABLES if t.name == table_name)
    return frozenset(c.name for c in table.columns if isinstance(c.type, JSON))


def _sentinel_spec(value: int) -> Spec | None:
    for table, base in SENTINEL_IDS.items():
        if 0 <= value - base < 1_000:
            return OWN, (table, value - base)
    return (WAITER, None) if value == SENTINEL_WAITER else None


def _open_row(table: str, row: dict[str, Any], spec_index: Callable[[Spec], int]) -> tuple[Any, ...]:
    """The row's values in column order, each of the order's own values replaced by its marker."""
    as_json = _json_columns(table)
    values = []
    for column, value in row.items():
        spec: Spec | None = None
        if column == "client_order_id":
            spec = (CLIENT_ID, None)
        elif column == "business_date":
            spec = (BUSINESS_DATE, row["created_at"] - EPOCH)
        elif column == "local_hour":
            spec = (LOCAL_HOUR, None)
        elif isinstance(value, datetime):
            spec = (MOMENT, value - EPOCH)
        elif isinstance(value, int) and not isinstance(value, bool):
            spec = _sentinel_spec(value)
        if spec is not None:
            value = _marker(spec_index(spec))
        elif column in as_json:
            value = json.dumps(value)
            for number in sorted(set(re.findall(r"\d{10}", value)), key=len, reverse=True):
                found = _sentinel_spec(int(number))
                if found is not None:
                    value = value.replace(number, _marker(spec_index(found)))
        values.append(value)
    return tuple(values)


def _split_csv(rows: tuple[tuple[Any, ...], ...]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    parts = MARKER.split(buffer.getvalue())
    return tuple(parts[0::2]), tuple(int(index) for index in parts[1::2])


def template(story: Ticket, world: World) -> Template:
    """`build()` of the ticket on sentinel ids, waiter and moments, with those opened up as markers."""
    built = build(Plan(client_order_id(0), SENTINEL_WAITER, EPOCH, story), world, Ids(dict(SENTINEL_IDS)))
    specs: dict[Spec, int] = {}

    def spec_index(spec: Spec) -> int:
        return specs.setdefault(spec, len(specs))

    rows = {table: tuple(_open_row(table, row, spec_index) for row in table_rows)
            for table, table_rows in built.tables.items()}
    columns = {table: tuple(table_rows[0]) for table, table_rows in built.tables.items() if table_rows}
    return Template(story.location_id, tuple(specs), columns, rows,
                    {table: _split_csv(table_rows) for table, table_rows in rows.items() if table_rows}, built.shape)


class Clock:
    """Business date and local hour at each location of moments given in epoch seconds: the app's
    functions, cached per UTC hour when they give the same answer at both ends of it (true but where a
    day starts or a clock changes inside that hour, which is then computed moment by moment)."""

    def __init__(self, places: dict[int, Place]) -> None:
        self.places = places
        self.hours: dict[tuple[int, int], tuple[date, datetime] | None] = {}

    def exact(self, location_id: int, seconds: int) -> tuple[date, datetime]:
        place, moment = self.places[location_id], datetime.fromtimestamp(seconds, UTC)
        return business_date(moment, place.timezone, place.day_starts_at), local_hour(moment, place.timezone)

    def __call__(self, location_id: int, seconds: int) -> tuple[date, datetime]:
        key = (location_id, seconds // 3600)
        if key not in self.hours:
            start = key[1] * 3600
            first, last = self.exact(location_id, start), self.exact(location_id, start + 3599)
            self.hours[key] = first if first == last else None
        return self.hours[key] or self.exact(location_id, seconds)


@dataclass
class Chunk:
    """A chunk of orders: per table, CSV lines (PostgreSQL) or rows of values (SQLite)."""

    tables: dict[str, list[Any]] = field(default_factory=lambda: {t.name: [] for t in TABLES})
    orders: int = 0


@dataclass
class Loader:
    """Turns scheduled orders into rows and keeps their report totals."""

    templates: tuple[Template, ...]
    clock: Clock
    ids: dict[str, int]
    as_csv: bool
    totals: packing.Totals = field(default_factory=packing.Totals)

    def own_values(self, found: Template, n: int, waiter_id: int, created: int) -> tuple[list[Any], date, datetime]:
        """The values of the template's specs for this order, its business date and local hour."""
        day, hour = self.clock(found.location_id, created)
        moment = datetime.fromtimestamp(created, UTC)
        values: list[Any] = []
        for kind, arg in found.specs:
            if kind == OWN:
                values.append(self.ids[arg[0]] + arg[1])
            elif kind == MOMENT:
                values.append(moment + arg)
            elif kind == WAITER:
                values.append(waiter_id)
            elif kind == BUSINESS_DATE:
                values.append(self.clock(found.location_id, created + int(arg.total_seconds()))[0] if arg else day)
            elif kind == LOCAL_HOUR:
                values.append(hour)
            else:
                values.append(client_order_id(n))
        return values, day, hour

    def add(self, chunk: Chunk, n: int, index: int, waiter_id: int, created: int) -> None:
        """One order: its ticket's template with its own ids, waiter and moments."""
        found = self.templates[index]
        values, day, hour = self.own_values(found, n, waiter_id, created)
        if self.as_csv:
            texts = [str(value) for value in values]
            for table, (parts, indexes) in found.csv.items():
                pieces = [parts[0]]
                for part, spec in zip(parts[1:], indexes, strict=True):
                    pieces += (texts[spec], part)
                chunk.tables[table].append("".join(pieces))
        else:
            for table, rows in found.rows.items():
                chunk.tables[table] += [[_fill(value, values) for value in row] for row in rows]
        for table, rows in found.rows.items():
            self.ids[table] += len(rows)
        paid_on = tuple(self.clock(found.location_id, created + int(after.total_seconds()))[0]
                        for after, _, _ in found.shape.payments)
        self.totals.add(found.shape, day, found.location_id, waiter_id, hour, paid_on)
        chunk.orders += 1

    def chunk(self, orders: Iterator[tuple[int, int, int, int]]) -> Chunk:
        chunk = Chunk()
        for order in orders:
            self.add(chunk, *order)
            if chunk.orders == CHUNK_ORDERS:
                break
        return chunk


def _fill(value: Any, values: list[Any]) -> Any:
    """A template value with the order's own values in place of its markers."""
    if not isinstance(value, str) or "\x01" not in value:
        return value
    whole = MARKER.fullmatch(value)
    if whole:
        return values[int(whole.group(1))]
    return MARKER.sub(lambda m: str(values[int(m.group(1))]), value)


# -- writing -----------------------------------------------------------------------------------------------
def write(chunk: Chunk, columns: dict[str, tuple[str, ...]]) -> None:
    """The chunk's rows in the session's transaction: one `COPY ... (FORMAT csv)` per table on PostgreSQL
    (an unquoted empty field is NULL; no value is an empty string), one executemany INSERT per table
    on SQLite (JSON columns given as values)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        with connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            for table in TABLES:
                if chunk.tables[table.name]:
                    sql = f"COPY {table.name} ({', '.join(columns[table.name])}) FROM STDIN WITH (FORMAT csv)"
                    cursor.copy_expert(sql, io.StringIO("".join(chunk.tables[table.name])))
        return
    for table in TABLES:
        if chunk.tables[table.name]:
            names = columns[table.name]
            as_json = _json_columns(table.name)
            db.session.execute(insert(table), [
                {name: json.loads(value) if name in as_json else value for name, value in zip(names, row, strict=True)}
                for row in chunk.tables[table.name]])


def _postgres() -> bool:
    return db.session.connection().dialect.name == "postgresql"


def _start(count: int) -> tuple[dict[str, int], list[str]]:
    """Lock the order tables against other writers; on PostgreSQL lift the statement timeout, turn
    foreign-key triggers off for a superuser and, for a big load, drop the secondary indexes (their
    definitions are returned to build them again). Returns the next id of each table too."""
    definitions: list[str] = []
    if _postgres():
        names = ", ".join(t.name for t in TABLES)
        db.session.execute(text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))
        db.session.execute(text("SET LOCAL statement_timeout = 0"))
        if db.session.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
            db.session.execute(text("SET LOCAL session_replication_role = replica"))
        if count >= REBUILD_INDEXES_FROM:
            found = db.session.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = ANY(:tables) AND indexname NOT IN (SELECT conname FROM pg_constraint)"),
                {"tables": [t.name for t in TABLES]}).all()
            for name, definition in found:
                db.session.execute(text(f'DROP INDEX "{name}"'))
                definitions.append(definition)
    ids = {t.name: (db.session.scalar(select(func.max(t.c.id)).select_from(t)) or 0) + 1 for t in TABLES}
    return ids, definitions


def _finish(definitions: list[str]) -> None:
    if not _postgres():
        return  # SQLite's rowids follow the largest id by themselves
    for definition in definitions:
        db.session.execute(text(definition))
    for name in (table.name for table in TABLES):  # names from our own metadata
        last = f"SELECT max(id) FROM {name}"  # noqa: S608
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), ({last}))"))


def _give_folios() -> None:
    """Every closed order without a folio gets the next ones of its location, in closing order (closed_at,
    then id), in one UPDATE; the location's folio counter moves past them (app/counters.py). The closed
    events of bulk orders say `"folio": null`: they are written before the numbers are known."""
    db.session.execute(text("""
        UPDATE orders SET folio = numbered.folio
        FROM (SELECT id, (SELECT coalesce(max(value), 0) FROM location_counters c
                          WHERE c.location_id = o.location_id AND c.name = 'folio')
                         + row_number() OVER (PARTITION BY location_id ORDER BY closed_at, id) AS folio
              FROM orders o WHERE status = 'closed' AND folio IS NULL) AS numbered
        WHERE orders.id = numbered.id"""))
    for location_id, last in db.session.execute(text(
            "SELECT location_id, max(folio) FROM orders WHERE folio IS NOT NULL GROUP BY location_id")).all():
        taken = counters.current(location_id, "folio")
        if last > taken:
            counters.take(location_id, "folio", count=last - taken)


def load(world: World, count: int, days: int, now: datetime, progress: Callable[[int], None] = lambda n: None) -> int:
    """Load `count` scheduled orders in one transaction (committed here), then compact the rollups."""
    db.session.rollback()  # a command owns its transactions: start from a clean session
    found = schedule(world, count, days, now)
    templates = tuple(template(story, world) for story in found.tickets)
    columns: dict[str, tuple[str, ...]] = {}
    for item in templates:  # build() writes the same columns in the same order for every ticket
        for table, names in item.columns.items():
            if columns.setdefault(table, names) != names:
                raise RuntimeError(f"tickets disagree on the columns of {table}")
    try:
        ids, indexes = _start(count)
        loader = Loader(templates, Clock(world.places), ids, as_csv=_postgres())
        written = 0
        with ThreadPoolExecutor(max_workers=1) as builder:  # builds the next chunk while this one is written
            pending = builder.submit(loader.chunk, found.orders)
            while True:
                chunk = pending.result()
                if not chunk.orders:
                    break
                pending = builder.submit(loader.chunk, found.orders)
                write(chunk, columns)
                written += chunk.orders
                progress(chunk.orders)
        loader.totals.record()
        _give_folios()
        _finish(indexes)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    maintenance.compact()
    return written


def timed_load(world: World, count: int, days: int, progress: Callable[[int], None]) -> tuple[int, float]:
    """load() now, without the response deadline's wait callback (psycopg2 refuses COPY under one);
    returns the orders written and the seconds it took."""
    started = time.perf_counter()
    with without_wait_callback():
        written = load(world, count, days, datetime.now(UTC), progress)
    return written, time.perf_counter() - started
