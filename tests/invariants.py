"""What must hold for every order in any database, however it was made (API, batch, either seed):
its version is its number of history events, its stored totals are its rows' sums, and the rollups
equal a recomputation from the raw rows (`flask reports rebuild`'s definition, app/figures/queries.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.figures.queries import rollup_source
from app.figures.rollups import ROLLUPS, Rollup
from app.models import Order, OrderEvent, OrderItem, Payment, Refund


def _key_value(value):
    """Rollup keys as comparable values whatever the backend returned (SQLite: 0/1, text dates)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def _summed(rows, width: int, flag: bool = True) -> dict[tuple, tuple[int, ...]]:
    """{key: values} with the key the first columns and the values the last `width`, all-zero keys dropped;
    `flag`: the key's last column is the `closed` flag (the till's keys end with the method instead)."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0] * width)
    for row in rows:
        key = tuple(_key_value(v) for v in row[:-width])
        if flag:
            key = (*key[:-1], bool(key[-1]))  # `closed` is last
        total = sums[key]
        for i, value in enumerate(row[-width:]):
            total[i] += int(value or 0)
    return {key: tuple(values) for key, values in sums.items() if any(values)}


def _month(day: date) -> date:
    return day.replace(day=1)


def _flagged(rollup: Rollup) -> bool:
    return rollup.keys[-1] == "closed"


def _daily(rollup: Rollup) -> dict[tuple, tuple[int, ...]]:
    t = rollup.table
    return _summed(db.session.execute(select(*(t.c[k] for k in rollup.keys), *(t.c[v] for v in rollup.values))),
                   len(rollup.values), _flagged(rollup))


def assert_versions_are_event_counts() -> None:
    events = (select(OrderEvent.order_id, func.count().label("n")).group_by(OrderEvent.order_id)).subquery()
    wrong = db.session.execute(
        select(Order.id, Order.version, events.c.n).outerjoin(events, events.c.order_id == Order.id)
        .where(Order.version != func.coalesce(events.c.n, 0))).all()
    assert wrong == [], f"orders whose version is not their number of events (id, version, events): {wrong[:10]}"


def assert_order_totals_match_rows() -> None:
    """Each order's stored money figures are what pricing its rows gives, and its paid, tip and refund
    totals the sums of its payments and refunds."""
    sums = {
        "paid_total_cents": select(Payment.order_id, func.sum(Payment.amount_cents)).group_by(Payment.order_id),
        "tip_total_cents": select(Payment.order_id, func.sum(Payment.tip_cents)).group_by(Payment.order_id),
        "refund_total_cents": select(Refund.order_id, func.sum(Refund.amount_cents)).group_by(Refund.order_id),
        "item_count": select(OrderItem.order_id, func.sum(OrderItem.quantity))
        .where(OrderItem.voided.is_(False)).group_by(OrderItem.order_id),
    }
    found = {name: dict(db.session.execute(stmt).all()) for name, stmt in sums.items()}
    for order in db.session.scalars(select(Order)):
        for name, by_order in found.items():
            assert getattr(order, name) == int(by_order.get(order.id) or 0), (order.id, name)


def assert_rollups_match_rows(names: tuple[str, ...] | None = None) -> None:
    """Every rollup's daily rows sum, per key, to what `flask reports rebuild` computes from the raw rows,
    and its monthly rows plus the unfolded daily rows to the daily rows per month (the till's rollups
    included: every payment and refund, on the business date it was made). `names`: only those rollups."""
    dated = (Order.business_date, Refund.business_date, Payment.business_date)
    first = min(filter(None, (db.session.scalar(select(func.min(c))) for c in dated)), default=None)
    last = max(filter(None, (db.session.scalar(select(func.max(c))) for c in dated)), default=None)
    for rollup in ROLLUPS:
        if names is not None and rollup.name not in names:
            continue
        daily = _daily(rollup)
        expected = (_summed(db.session.execute(rollup_source(rollup.name, first, last)), len(rollup.values),
                            _flagged(rollup))
                    if first is not None else {})
        assert daily == expected, f"{rollup.name}: rollups {len(daily)} keys, raw rows {len(expected)} keys, " \
                                  f"differing {sorted(set(daily.items()) ^ set(expected.items()))[:5]}"
        _assert_monthly(rollup)


def _assert_monthly(rollup: Rollup) -> None:
    d, m, width = rollup.table, rollup.monthly, len(rollup.values)
    per_month: dict[tuple, list[int]] = defaultdict(lambda: [0] * width)
    folded: dict[tuple, list[int]] = defaultdict(lambda: [0] * width)
    for row in db.session.execute(select(d.c.business_date, *(d.c[k] for k in rollup.monthly_keys), d.c.folded,
                                         *(d.c[v] for v in rollup.values))):
        key = (_month(row[0]), *(_key_value(v) for v in row[1:1 + len(rollup.monthly_keys)]))
        if _flagged(rollup):
            key = (*key[:-1], bool(key[-1]))
        for i, value in enumerate(row[-width:]):
            per_month[key][i] += value
            if row[1 + len(rollup.monthly_keys)]:
                folded[key][i] += value
    monthly = _summed(db.session.execute(select(m.c.month, *(m.c[k] for k in rollup.monthly_keys),
                                                *(m.c[v] for v in rollup.values))), width, _flagged(rollup))
    assert monthly == {k: tuple(v) for k, v in folded.items() if any(v)}, f"{rollup.name}: monthly rows"


def assert_every_order_consistent() -> None:
    """All of the above, for every order in the database."""
    db.session.expire_all()
    assert_versions_are_event_counts()
    assert_order_totals_match_rows()
    assert_rollups_match_rows()
