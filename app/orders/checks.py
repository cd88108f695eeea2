"""The bridge between stored orders and the pure pricing function (app/orders/pricing.py).

Every money figure an order stores or a calculation answers comes from `pricing.price_check`
through this module, and every refunded amount from `pricing.refund_part`: nothing else adds up
a check. Percentages are stored as integer thousandths of a percent (16% = 16000), exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from app.errors import Conflict, ErrorCode
from app.models import Discount, Location, Order, OrderItem
from app.orders import pricing
from app.orders.lines import Line
from app.percent import from_thousandths, to_thousandths


class TotalBelowPaid(Conflict):
    code, detail = ErrorCode.TOTAL_BELOW_PAID, "The change would bring the order's total below what has been paid."


def percent_from_thousandths(value: int | None) -> Decimal | None:
    """16000 -> Decimal("16"); None stays None."""
    return None if value is None else from_thousandths(value)


def thousandths_from_percent(percent: Decimal | None) -> int | None:
    """Decimal("12.125") -> 12125; None stays None."""
    return None if percent is None else to_thousandths(percent)


def _modifier_prices(modifiers: Iterable[dict[str, Any]]) -> tuple[int, ...]:
    return tuple(int(m["price_cents"]) for m in modifiers)


def line_input(key: int, line: Line | OrderItem) -> pricing.LineInput:
    """The pricing view of a stored or new line (its unit price already includes its modifiers)."""
    modifier_prices = _modifier_prices(line.modifiers or ())
    return pricing.LineInput(
        key=key,
        base_price=line.unit_price_cents - sum(modifier_prices),
        quantity=line.quantity,
        modifier_prices=modifier_prices,
        tax_rate=from_thousandths(line.tax_rate_thousandths or 0),
        voided=line.voided,
    )


def discount_input(discount: Discount, key_of: dict[int, int]) -> pricing.DiscountInput:
    return pricing.DiscountInput(
        item=None if discount.item_id is None else key_of[discount.item_id],
        percent=percent_from_thousandths(discount.percent_thousandths),
        amount=discount.amount_cents,
        split_share=discount.split_share_cents,
    )


def with_tax_rates(lines: Sequence[Line], order_rate: int) -> list[Line]:
    """Each line's rate snapshot: its product's, else the order's."""
    return [
        line if line.tax_rate_thousandths is not None else replace(line, tax_rate_thousandths=order_rate)
        for line in lines
    ]


def price_lines(
    lines: Sequence[Line], discounts: Sequence[pricing.DiscountInput], prices_include_tax: bool
) -> tuple[list[Line], pricing.CheckFigures]:
    """Price not-yet-stored lines (keys are their indexes) with `discounts`: the lines with their
    discount/tax/net filled in, and the check's figures."""
    figures = pricing.price_check(
        [line_input(i, line) for i, line in enumerate(lines)], list(discounts), prices_include_tax
    )
    priced = [
        replace(line, discount_cents=f.discount, tax_cents=f.tax, net_cents=f.net)
        for line, f in zip(lines, figures.lines, strict=True)
    ]
    return priced, figures


def order_totals(figures: pricing.CheckFigures) -> dict[str, int]:
    """The order's columns that pricing decides."""
    return {
        "subtotal_cents": figures.subtotal,
        "discount_total_cents": figures.discount_total,
        "tax_total_cents": figures.tax_total,
        "total_cents": figures.total,
    }


def reprice(order: Order) -> pricing.CheckFigures:
    """Price the stored order again (after lines or discounts changed) and store every figure."""
    # Keys are positions: the lines are in id order, so ties go to the lower item id (and the
    # seed can price lines not flushed yet).
    discounts = order.active_discounts
    key_of = {item.id: index for index, item in enumerate(order.items)}
    figures = pricing.price_check(
        [line_input(index, item) for index, item in enumerate(order.items)],
        [discount_input(d, key_of) for d in discounts],
        order.prices_include_tax,
    )
    for item, f in zip(order.items, figures.lines, strict=True):
        item.discount_cents, item.tax_cents, item.net_cents = f.discount, f.tax, f.net
    for discount, applied in zip(discounts, figures.applied, strict=True):
        discount.applied_cents = applied
    for column, value in order_totals(figures).items():
        setattr(order, column, value)
    order.item_count = sum(item.quantity for item in order.items if not item.voided)
    return figures


def reprice_not_below_paid(order: Order) -> pricing.CheckFigures:
    """reprice(), refusing (409 total_below_paid) a change that leaves the total below what was paid."""
    figures = reprice(order)
    if order.total_cents < order.paid_total_cents:
        raise TotalBelowPaid()
    return figures


def refunded_so_far(order: Order) -> dict[int, pricing.Refunded]:
    """Per line id: what the order's refunds have returned of it."""
    done: dict[int, pricing.Refunded] = {}
    for refund in order.refunds:
        for part in refund.items:
            done[part.item_id] = done.get(part.item_id, pricing.Refunded()) + pricing.Refunded(
                part.quantity, part.amount_cents, part.tax_cents
            )
    return done


def refund_line(item: OrderItem, units: int, before: pricing.Refunded) -> pricing.Refunded:
    """What refunding `units` of `item` returns now (the last unit takes the remainder)."""
    return pricing.refund_part(item.net_cents, item.tax_cents, item.quantity, units, before)


def payment_method_of(payments: Iterable[Any], close_method: str | None) -> str | None:
    """The method of the payments, "mixed" when they differ; with none, the method given to close."""
    methods = {p.method for p in payments}
    if not methods:
        return close_method
    return methods.pop() if len(methods) == 1 else "mixed"


def calculate(location: Location, lines: Sequence[Line], discounts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every money field a new order at `location` with these lines and discounts would have (a dry run)."""
    rate, prices_include_tax = location.tax_rate_thousandths, location.prices_include_tax
    inputs = [
        pricing.DiscountInput(item=d.get("item_index"), percent=d.get("percent"), amount=d.get("amount"))
        for d in discounts
    ]
    priced, figures = price_lines(with_tax_rates(lines, rate), inputs, prices_include_tax)
    return {
        **order_totals(figures),
        "item_count": sum(line.quantity for line in priced),
        "tip_total_cents": 0,
        "paid_total_cents": 0,
        "refund_total_cents": 0,
        "balance_due_cents": figures.total,
        "items": priced,
        "discounts": [
            {"item_index": d.get("item_index"), "percent": d.get("percent"), "amount_cents": d.get("amount"),
             "applied_cents": applied, "reason": d.get("reason")}
            for d, applied in zip(discounts, figures.applied, strict=True)
        ],
    }
