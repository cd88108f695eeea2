"""What one order contributes to each rollup (app/figures/rollups.py `contribution`), figure by figure,
from the definitions in its docstring (pure: in-memory rows, no database). `make mutation` runs these
against its mutants."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pytest

from app.figures.rollups import EMPTY, PRODUCT_VALUES, SALES_VALUES, Contribution, contribution
from app.models import Order, OrderItem, Payment, Refund, RefundItem

DAY, LATER = date(2026, 11, 21), date(2026, 11, 23)
HOUR, LATER_HOUR = datetime(2026, 11, 21, 20), datetime(2026, 11, 23, 13)
LOC, WAITER = 3, 7


def line(id_, product, quantity, unit, *, discount=0, tax=0, voided=False, net=None) -> OrderItem:
    gross = quantity * unit
    return OrderItem(id=id_, product_id=product, quantity=quantity, unit_price_cents=unit, voided=voided,
                     product_name="x", discount_cents=discount, tax_cents=tax,
                     net_cents=gross - discount - tax if net is None else net)


def make(status="open", items=(), tips=(), refunds=()) -> Order:
    return Order(status=status, waiter_id=WAITER, location_id=LOC, business_date=DAY, local_hour=HOUR,
                 items=list(items), payments=[Payment(method="card", amount_cents=0, tip_cents=t, business_date=DAY)
                                              for t in tips],
                 refunds=list(refunds))


def refund(*parts, when=LATER, hour=LATER_HOUR) -> Refund:
    """parts: (item_id, quantity, amount, tax); the refund's amount and tax are their sums."""
    items = [RefundItem(item_id=i, quantity=q, amount_cents=a, tax_cents=t) for i, q, a, t in parts]
    return Refund(amount_cents=sum(p[2] for p in parts), tax_cents=sum(p[3] for p in parts), tip_cents=0,
                  method="cash", reason="x", business_date=when, local_hour=hour, items=items)


def as_dicts(c: Contribution) -> tuple[dict, dict, dict]:
    return ({k: dict(zip(PRODUCT_VALUES, v, strict=True)) for k, v in c.products},
            {k: dict(zip(SALES_VALUES, v, strict=True)) for k, v in c.waiters},
            {k: dict(zip(SALES_VALUES, v, strict=True)) for k, v in c.hours})


def product(quantity=0, revenue=0, orders=0, gross=0, discount=0, tax=0, refund=0, refunded=0) -> dict:
    return {"quantity": quantity, "revenue_cents": revenue, "orders": orders, "gross_cents": gross,
            "discount_cents": discount, "tax_cents": tax, "refund_cents": refund, "quantity_refunded": refunded}


def sales(orders=0, items=0, revenue=0, gross=0, discount=0, tax=0, refund=0, tips=0) -> dict:
    return {"orders": orders, "items": items, "revenue_cents": revenue, "gross_cents": gross,
            "discount_cents": discount, "tax_cents": tax, "refund_cents": refund, "tip_cents": tips}


def test_every_figure_of_lines_discounts_tax_and_tips():
    order = make(items=[line(1, 10, 2, 2500, discount=500, tax=600), line(2, 20, 1, 2550, tax=352),
                        line(3, 10, 3, 1000, discount=300, tax=100), line(4, 30, 5, 100, voided=True)],
                 tips=[1000, 250])
    products, waiters, hours = as_dicts(contribution(order))
    assert products == {
        (DAY, LOC, 10, False): product(quantity=5, revenue=3900 + 2600, orders=1, gross=8000, discount=800, tax=700),
        (DAY, LOC, 20, False): product(quantity=1, revenue=2198, orders=1, gross=2550, tax=352),
    }
    figures = sales(orders=1, items=6, revenue=3900 + 2600 + 2198, gross=10550, discount=800, tax=1052, tips=1250)
    assert waiters == {(DAY, LOC, WAITER, False): figures}
    assert hours == {(DAY, LOC, HOUR, False): figures}
    assert [key for key, _ in contribution(order).products] == sorted(products)


def test_a_closed_order_goes_to_the_closed_bucket():
    c = contribution(make("closed", items=[line(1, 10, 1, 900)]))
    assert [key[-1] for key, _ in (*c.products, *c.waiters, *c.hours)] == [True, True, True]
    assert as_dicts(c)[1] == {(DAY, LOC, WAITER, True): sales(orders=1, items=1, revenue=900, gross=900)}


@pytest.mark.parametrize("order", [
    None,
    make("cancelled", items=[line(1, 10, 1, 900)], tips=[100]),
    make(items=[line(1, 10, 1, 900, voided=True)]),
    make(),
    make(tips=[0]),
])
def test_what_contributes_nothing_to_the_sales(order):
    c = contribution(order)
    assert (c.products, c.waiters, c.hours) == ((), (), ())
    assert not EMPTY
    # only the till (its own test below) holds what was paid, a cancelled order's and a 0.00 payment included
    paid = order is not None and bool(order.payments)
    assert [key for key, _ in c.payments] == ([(DAY, LOC, "card")] if paid else [])
    assert (c == EMPTY) is (not paid) and bool(c) is paid


def test_the_till_counts_each_payment_and_refund_under_its_method_and_date():
    order = make("cancelled", items=[line(1, 10, 4, 1160, tax=640)], tips=[150, 0],
                 refunds=[refund((1, 1, 1160, 160)), refund((1, 3, 3480, 480), when=DAY)])
    order.payments[0].amount_cents = 4640
    order.refunds[1].tip_cents, order.refunds[1].method = 150, "card"
    till = {key: dict(zip(("payments", "amount", "tips", "refunds", "refunded"), values, strict=True))
            for key, values in contribution(order).payments}
    assert till == {
        (DAY, LOC, "card"): {"payments": 2, "amount": 4640, "tips": 150, "refunds": 1, "refunded": 3480 + 150},
        (LATER, LOC, "cash"): {"payments": 0, "amount": 0, "tips": 0, "refunds": 1, "refunded": 1160},
    }
    assert dict(contribution(order).payment_waiters) == {
        (day, LOC, WAITER, method): values for (day, _, method), values in contribution(order).payments}


def test_a_tip_alone_counts_tips_but_not_an_order():
    products, waiters, hours = as_dicts(contribution(make("closed", items=[line(1, 10, 1, 900, voided=True)],
                                                          tips=[300])))
    assert products == {}
    assert waiters == {(DAY, LOC, WAITER, True): sales(tips=300)}
    assert hours == {(DAY, LOC, HOUR, True): sales(tips=300)}


def test_refunds_count_on_their_own_day_and_hour():
    order = make("closed", items=[line(1, 10, 4, 1160, tax=640), line(2, 20, 1, 500)],
                 refunds=[refund((1, 1, 1160, 160)), refund((1, 2, 2320, 320), (2, 1, 500, 0), when=DAY, hour=HOUR)])
    products, waiters, hours = as_dicts(contribution(order))
    assert products == {
        (DAY, LOC, 10, True): product(quantity=4, revenue=4000 - 2000, orders=1, gross=4640, tax=640 - 320,
                                      refund=2320, refunded=2),
        (DAY, LOC, 20, True): product(quantity=1, revenue=0, orders=1, gross=500, refund=500, refunded=1),
        (LATER, LOC, 10, True): product(revenue=-1000, tax=-160, refund=1160, refunded=1),
    }
    on_the_day = sales(orders=1, items=5, revenue=4500 - 2500, gross=5140, tax=640 - 320, refund=2820)
    later = sales(revenue=-1000, tax=-160, refund=1160)
    assert waiters == {(DAY, LOC, WAITER, True): on_the_day, (LATER, LOC, WAITER, True): later}
    assert hours == {(DAY, LOC, HOUR, True): on_the_day, (LATER, LOC, LATER_HOUR, True): later}


def test_the_contribution_is_a_snapshot():
    order = make(items=[line(1, 10, 1, 900)])
    before = contribution(order)
    order.items.append(line(2, 10, 1, 100))
    order.status = "closed"
    assert before == contribution(make(items=[line(1, 10, 1, 900)]))
    assert before != contribution(order)


def test_a_voided_line_first_does_not_hide_the_lines_after_it():
    order = make(items=[line(1, 30, 5, 100, voided=True), line(2, 10, 1, 900), line(3, 20, 2, 50)])
    products, waiters, _ = as_dicts(contribution(order))
    assert set(products) == {(DAY, LOC, 10, False), (DAY, LOC, 20, False)}
    assert waiters[(DAY, LOC, WAITER, False)] == sales(orders=1, items=3, revenue=1000, gross=1000)


def test_an_order_without_payments_or_refunds_loaded_counts_its_lines():
    """What the bulk seed hands over: an order-like row with its lines only."""
    order = SimpleNamespace(status="closed", waiter_id=WAITER, location_id=LOC, business_date=DAY, local_hour=HOUR,
                            items=[line(1, 10, 2, 450)])
    _, waiters, hours = as_dicts(contribution(order))
    assert waiters == {(DAY, LOC, WAITER, True): sales(orders=1, items=2, revenue=900, gross=900)}
    assert hours == {(DAY, LOC, HOUR, True): sales(orders=1, items=2, revenue=900, gross=900)}
