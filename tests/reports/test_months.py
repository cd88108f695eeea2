"""Whole months are read from the monthly folds: exact across compaction, late changes and rebuilds.

Orders here are backdated months through the ORM driver (the API only backdates 7 days): this
tests the rollup mechanics, not the order endpoints.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.business_time import today
from app.extensions import db
from app.figures.periods import next_month, split_months
from app.models import OrderItem, ProductMonthly, WaiterMonthly
from app.reports import maintenance
from tests.reports import oracle
from tests.reports.orderkit import Line


@pytest.mark.parametrize("start, end, edges, whole", [
    ("2025-11-22", "2026-11-21", [("2025-11-22", "2025-11-30"), ("2026-11-01", "2026-11-21")],
     ("2025-12-01", "2026-10-01")),
    ("2026-11-01", "2026-11-30", [], ("2026-11-01", "2026-11-01")),
    ("2026-02-01", "2026-02-28", [], ("2026-02-01", "2026-02-01")),
    ("2026-11-02", "2026-11-30", [("2026-11-02", "2026-11-30")], None),
    ("2026-11-01", "2026-11-29", [("2026-11-01", "2026-11-29")], None),
    ("2026-12-31", "2027-01-01", [("2026-12-31", "2027-01-01")], None),
    ("2026-01-01", "2026-12-31", [], ("2026-01-01", "2026-12-01")),
])
def test_split_months(start, end, edges, whole):
    d = date.fromisoformat
    assert split_months(d(start), d(end)) == (
        [(d(a), d(b)) for a, b in edges], (d(whole[0]), d(whole[1])) if whole else None)


@pytest.fixture
def season(kit, dishes, waiters):
    """An order every 3 days for 100 days, for two waiters."""
    now = datetime.now(UTC)
    ids = kit.batch(waiters[0], [([Line(dishes[d % 3].id, 1 + d % 4), Line(dishes[0].id, 1)], now - timedelta(days=d))
                                 for d in range(0, 100, 3)])
    ids += kit.batch(waiters[1], [([Line(dishes[1].id, 2)], now - timedelta(days=d)) for d in range(1, 100, 7)])
    return ids


def ranges() -> list[tuple[date, date]]:
    """Whole months, partial months, spans with edges on both sides, a year."""
    t = today()
    first = (t - timedelta(days=100)).replace(day=1)
    result = [(t - timedelta(days=364), t), (first, next_month(t) - timedelta(days=1)),
              (first + timedelta(days=5), t - timedelta(days=3))]
    month = first
    while month <= t:
        result.append((month, next_month(month) - timedelta(days=1)))
        month = next_month(month)
    return result


def assert_exact(report, manager, waiter) -> None:
    lines = oracle.load_lines()
    for start, end in ranges():
        for status in (None, "closed"):
            for name, expected in (("products", oracle.products), ("waiters", oracle.waiters),
                                   ("sales", oracle.sales)):
                got = report(manager, name, start_date=start, end_date=end, status=status).json
                want = expected(lines, start, end, None, status)
                assert {k: got[k] for k in want} == want, (name, start, end, status)
            mine = report(manager, "waiters", start_date=start, end_date=end, waiter_id=waiter.id).json
            want = oracle.waiters(lines, start, end, waiter.id)
            assert {k: mine[k] for k in want} == want
    db.session.commit()  # maintenance starts its own transactions


def test_months_stay_exact_through_compaction_late_changes_and_rebuilds(season, kit, dishes, waiters, manager,
                                                                         report):
    assert_exact(report, manager, waiters[0])  # nothing folded yet: whole months read the daily rows
    maintenance.compact()
    assert db.session.scalar(select(func.count()).select_from(ProductMonthly)) > 0
    assert_exact(report, manager, waiters[0])

    # late changes to folded months: a cancel, a void, an append, a close
    kit.cancel(season[-1])
    kit.void(season[5], db.session.scalar(select(OrderItem.id).where(OrderItem.order_id == season[5])))
    kit.append(season[10], [Line(dishes[2].id, 3)])
    kit.close(season[20])
    assert_exact(report, manager, waiters[0])

    # rebuild a range that cuts months in the middle, over folded and unfolded rows
    maintenance.rebuild(today() - timedelta(days=75), today() - timedelta(days=20))
    db.session.commit()
    assert_exact(report, manager, waiters[0])
    maintenance.compact()
    assert_exact(report, manager, waiters[0])
    # compaction leaves one monthly row per key
    keys = db.session.execute(select(WaiterMonthly.month, WaiterMonthly.waiter_id, WaiterMonthly.closed,
                                     func.count()).group_by(WaiterMonthly.month, WaiterMonthly.waiter_id,
                                                            WaiterMonthly.closed)).all()
    assert keys and all(n == 1 for *_, n in keys)
