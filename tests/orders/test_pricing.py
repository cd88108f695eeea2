"""Hand-computed checks and refunds (pure: no app, no database), the docstring's worked example first."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.orders.pricing import (
    DiscountInput,
    LineInput,
    Refunded,
    balance_due,
    change,
    price_check,
    refund_part,
    round_half_even,
    share,
    split_line_discounts,
)
from app.percent import parse_percent, percent_str

IVA = Decimal("16")


def figures(priced):
    return [(f.key, f.unit_price, f.line_total, f.discount, f.tax, f.net) for f in priced.lines]


def order(priced):
    return priced.subtotal, priced.discount_total, priced.tax_total, priced.total


def test_the_worked_example_of_pricing_py_and_the_readme():
    """3 tacos, an agua and a mole, IVA 16% included, 10.00 off the order."""
    lines = [
        LineInput(key=1, base_price=2500, quantity=3, tax_rate=IVA),
        LineInput(key=2, base_price=2550, quantity=1, tax_rate=IVA),
        LineInput(key=3, base_price=14000, quantity=1, tax_rate=IVA),
    ]
    priced = price_check(lines, [DiscountInput(amount=1000)], prices_include_tax=True)

    # Shares 311.85 -> 312 (the largest remainder takes the cent), 106.03 -> 106, 582.12 -> 582.
    assert figures(priced) == [
        (1, 2500, 7500, 312, 991, 6197),  # 7188 x 16 / 116 = 991.45
        (2, 2550, 2550, 106, 337, 2107),  # 2444 x 16 / 116 = 337.10
        (3, 14000, 14000, 582, 1851, 11567),  # 13418 x 16 / 116 = 1850.76
    ]
    assert priced.applied == (1000,)
    assert order(priced) == (24050, 1000, 3179, 23050)


def test_an_order_discount_split_three_ways_gives_the_tied_cent_to_the_lower_key():
    lines = [LineInput(key=key, base_price=2500, quantity=1) for key in (30, 10, 20)]
    priced = price_check(lines, [DiscountInput(amount=1000)], prices_include_tax=False)
    # 333.33 each: floors add up to 999, the cent left goes to the lowest key however the lines are listed.
    assert {f.key: f.discount for f in priced.lines} == {10: 334, 20: 333, 30: 333}
    assert order(priced) == (7500, 1000, 0, 6500)


def test_a_three_way_split_with_two_cents_of_remainder():
    lines = [LineInput(1, 1000, 1), LineInput(2, 1000, 1), LineInput(3, 1001, 1)]
    # 7% of 3001 = 210.07 -> 210; shares 69.977, 69.977, 70.047: floors 69 + 69 + 70 = 208.
    priced = price_check(lines, [DiscountInput(percent=Decimal(7))], prices_include_tax=False)
    assert [f.discount for f in priced.lines] == [70, 70, 70]
    assert priced.applied == (210,)


def test_half_cents_round_to_even():
    lines = [LineInput(1, 25, 1), LineInput(2, 35, 1), LineInput(3, 50, 1, tax_rate=Decimal(1)),
             LineInput(4, 150, 1, tax_rate=Decimal(1))]
    discounts = [DiscountInput(item=1, percent=Decimal(10)), DiscountInput(item=2, percent=Decimal(10))]
    priced = price_check(lines, discounts, prices_include_tax=False)
    assert priced.applied == (2, 4)  # 2.5 -> 2, 3.5 -> 4
    assert [f.tax for f in priced.lines] == [0, 0, 0, 2]  # 0.5 -> 0, 1.5 -> 2
    assert round_half_even(5, 2) == 2 and round_half_even(7, 2) == 4 and round_half_even(-5, 2) == -2


def test_a_discount_larger_than_the_check_takes_the_check_and_no_more():
    lines = [LineInput(1, 2500, 2, tax_rate=IVA), LineInput(2, 1000, 1, tax_rate=IVA)]
    discounts = [DiscountInput(item=2, amount=5000), DiscountInput(amount=99_999_999), DiscountInput(amount=100)]
    priced = price_check(lines, discounts, prices_include_tax=False)
    assert priced.applied == (1000, 5000, 0)  # the line's is capped at its gross, the order's at what is left
    assert figures(priced) == [(1, 2500, 5000, 5000, 0, 0), (2, 1000, 1000, 1000, 0, 0)]
    assert order(priced) == (6000, 6000, 0, 0)


def test_line_discounts_come_before_order_discounts_whatever_their_age():
    lines = [LineInput(1, 1000, 1), LineInput(2, 1000, 1)]
    discounts = [DiscountInput(percent=Decimal(50)), DiscountInput(item=1, amount=1000)]
    priced = price_check(lines, discounts, prices_include_tax=False)
    # The line discount empties line 1 first; half of what is left (10.00) all comes off line 2.
    assert priced.applied == (500, 1000)
    assert [f.discount for f in priced.lines] == [1000, 500]


def test_exclusive_tax_is_added_and_modifiers_are_part_of_the_unit_price():
    lines = [LineInput(1, 2500, 2, modifier_prices=(250, 0, 100), tax_rate=Decimal("12.125"))]
    priced = price_check(lines, [DiscountInput(item=1, percent=Decimal("8.5"))], prices_include_tax=False)
    # unit 28.50, gross 57.00; 8.5% of it is 484.5 cents -> 484 (half to even)
    assert priced.applied == (484,)
    # tax on 5216 at 12.125%: 632.44 -> 632
    assert figures(priced) == [(1, 2850, 5700, 484, 632, 5216)]
    assert order(priced) == (5700, 484, 632, 5848)


def test_a_voided_line_takes_no_part():
    lines = [LineInput(1, 1000, 1, tax_rate=IVA), LineInput(2, 3000, 1, tax_rate=IVA, voided=True)]
    discounts = [DiscountInput(item=2, amount=500), DiscountInput(amount=300)]
    priced = price_check(lines, discounts, prices_include_tax=True)
    assert priced.applied == (0, 300)
    assert figures(priced) == [(1, 1000, 1000, 300, 97, 603), (2, 3000, 3000, 0, 0, 0)]
    assert order(priced) == (1000, 300, 97, 700)


def test_a_v1_check_prices_as_v1():
    lines = [LineInput(1, 2500, 3), LineInput(2, 2550, 1), LineInput(3, 999, 2, voided=True)]
    priced = price_check(lines, [], prices_include_tax=False)
    assert order(priced) == (10050, 0, 0, 10050)
    assert [f.net for f in priced.lines] == [7500, 2550, 0]


def test_bad_discounts_are_refused():
    with pytest.raises(ValueError):
        DiscountInput(item=1)
    with pytest.raises(ValueError):
        DiscountInput(percent=Decimal(5), amount=5)
    for bad in ({"percent": Decimal(0)}, {"percent": Decimal("100.001")}, {"amount": 0}, {"amount": -1}):
        with pytest.raises(ValueError):
            DiscountInput(**bad)
    with pytest.raises(ValueError):
        price_check([LineInput(1, 100, 1)], [DiscountInput(item=2, amount=5)], prices_include_tax=False)


def test_a_split_shares_each_line_percentage_exactly_oldest_first():
    # docs/tables.md: 4 x 8.29 with three 5 % discounts (1.66 each), one unit moved to the new part.
    shares = split_line_discounts([166, 166, 166], {1: 2487, 2: 829})
    assert shares == [{1: 125, 2: 41}, {1: 124, 2: 42}, {1: 125, 2: 41}]
    assert [sum(s.values()) for s in shares] == [166, 166, 166]
    assert split_line_discounts([5], {1: 10, 2: 10}) == [{1: 3, 2: 2}]  # the tied cent stays
    assert split_line_discounts([], {1: 10}) == []


def test_a_split_share_replaces_the_rounded_percentage():
    lines = [LineInput(1, 829, 3)]  # 24.87: 5 % rounds to 1.24
    assert price_check(lines, [DiscountInput(item=1, percent=Decimal(5))], False).lines[0].discount == 124
    shared = price_check(lines, [DiscountInput(item=1, percent=Decimal(5), split_share=125)], False)
    assert shared.lines[0].discount == 125
    assert price_check(lines, [DiscountInput(item=1, percent=Decimal(5), split_share=0)], False).lines[0].discount == 0


@pytest.mark.parametrize("bad", [
    {"item": None, "percent": Decimal(5), "split_share": 1},
    {"item": 1, "amount": 5, "split_share": 1},
    {"item": 1, "percent": Decimal(5), "split_share": -1},
])
def test_a_split_share_belongs_to_a_line_percentage_and_is_not_negative(bad):
    with pytest.raises(ValueError, match="^a split share belongs to a line percentage discount and is not negative$"):
        DiscountInput(**bad)


def test_a_line_refunded_in_three_parts_returns_exactly_what_the_guest_paid():
    # 3 x 33.00 with 10% off and IVA 16% included: paid 89.10, of which tax 12.29, net 76.81.
    line = price_check([LineInput(1, 3300, 3, tax_rate=IVA)], [DiscountInput(percent=Decimal(10))], True).lines[0]
    assert (line.net, line.tax) == (7681, 1229)
    first = refund_part(line.net, line.tax, 3, 1)
    assert (first.amount, first.tax) == (2970, 410)  # 8910 / 3 = 2970, 1229 / 3 = 409.67
    second = refund_part(line.net, line.tax, 3, 1, first)
    last = refund_part(line.net, line.tax, 3, 1, first + second)
    assert (last.amount, last.tax) == (2970, 409)  # what is left
    assert (first + second + last) == Refunded(3, 8910, 1229)


def test_a_refund_never_returns_more_than_is_left():
    # 10 units that cost 7 cents in all: each unit rounds to 1 cent, so the eighth has nothing left.
    parts, before = [], Refunded()
    for _ in range(10):
        part = refund_part(7, 0, 10, 1, before)
        parts.append(part.amount)
        before = before + part
    assert parts == [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    with pytest.raises(ValueError):
        refund_part(7, 0, 10, 1, before)


def test_cancelling_refunds_everything_left_at_once():
    before = refund_part(7681, 1229, 3, 1)
    rest = refund_part(7681, 1229, 3, 2, before)
    assert (rest.amount, rest.tax) == (8910 - 2970, 1229 - 410)


def test_balance_and_change():
    assert balance_due(10000, 4000) == 6000
    assert balance_due(10000, 12000) == 0
    assert change(50000, 23050, 3000) == 23950
    assert change(None, 23050, 0) is None


@pytest.mark.parametrize(
    ("sent", "shown"),
    [("16", "16"), ("16.000", "16"), ("8.5", "8.5"), (Decimal("8.50"), "8.5"), ("12.125", "12.125"),
     (Decimal("1E+2"), "100"), (100, "100"), ("0.001", "0.001")],
)
def test_percentages_are_answered_without_trailing_zeros(sent, shown):
    assert percent_str(parse_percent(sent, allow_zero=False)) == shown


@pytest.mark.parametrize(
    ("sent", "allow_zero", "message"),
    [("0", False, "greater than 0"), ("100.001", False, "greater than 0"), ("-1", True, "between 0 and 100"),
     ("12.1255", False, "three decimal places"), ("12.1250", False, "three decimal places"),
     ("1e2", False, "percentage"), ("NaN", False, "percentage"), (True, False, "percentage"),
     (1.5, False, "percentage"), ("", False, "percentage")],
)
def test_bad_percentages_are_refused(sent, allow_zero, message):
    with pytest.raises(ValueError, match=message):
        parse_percent(sent, allow_zero=allow_zero)


def test_a_tax_rate_may_be_zero():
    assert parse_percent("0", allow_zero=True) == 0
    assert percent_str(parse_percent(0, allow_zero=True)) == "0"


def test_refund_part_refuses_no_units_and_more_than_is_left():
    first = refund_part(900, 100, 3, 2)
    with pytest.raises(ValueError, match="^cannot refund 0 of 3 refundable units$"):
        refund_part(900, 100, 3, 0)
    with pytest.raises(ValueError, match="^cannot refund 2 of 1 refundable units$"):
        refund_part(900, 100, 3, 2, first)
    with pytest.raises(ValueError, match="^cannot refund -1 of 3 refundable units$"):
        refund_part(900, 100, 3, -1)
    assert refund_part(900, 100, 3, 1, first) == Refunded(1, 1000 - first.amount, 100 - first.tax)


def test_share_gives_the_leftover_cents_to_the_largest_remainders_then_to_lower_keys():
    assert share(1, {1: 1, 2: 2}) == {1: 0, 2: 1}  # remainders 1/3 and 2/3
    assert share(2, {3: 1, 1: 1, 2: 1}) == {1: 1, 2: 1, 3: 0}  # a tie: lower keys first
    assert share(10, {5: 3, 4: 3, 9: 4}) == {4: 3, 5: 3, 9: 4}
    assert share(7, {1: 0, 2: 0}) == {1: 0, 2: 0}
    assert share(0, {1: 5, 2: 5}) == {1: 0, 2: 0}
    assert share(5, {8: 1, 2: 3, 6: 2}) == {2: 2, 6: 2, 8: 1}  # exact 2.5, 1.67, 0.83: the .83 and .67 round up


def test_a_check_answers_the_figures_of_one_line_by_key():
    priced = price_check([LineInput(7, 1000, 1), LineInput(3, 250, 2)], [], prices_include_tax=False)
    assert priced.line(3).line_total == 500 and priced.line(3).key == 3
    assert priced.line(7).line_total == 1000


@pytest.mark.parametrize(("net", "tax", "quantity", "first", "then", "expected"), [
    (0, 1, 2, 1, 1, (Refunded(1, 0, 0), Refunded(1, 1, 1))),  # 0.5 rounds to even; the last unit takes the rest
    (0, 1, 3, 2, 1, (Refunded(2, 1, 1), Refunded(1, 0, 0))),
    (1, 1, 3, 2, 1, (Refunded(2, 1, 1), Refunded(1, 1, 0))),
    (1, 1, 3, 1, 1, (Refunded(1, 1, 0), Refunded(1, 1, 1))),  # the net is gone: the second cent is tax
    (0, 0, 2, 1, 1, (Refunded(1, 0, 0), Refunded(1, 0, 0))),
    (900, 100, 4, 1, 2, (Refunded(1, 250, 25), Refunded(2, 500, 50))),
])
def test_refunds_of_a_few_cents_in_parts(net, tax, quantity, first, then, expected):
    one = refund_part(net, tax, quantity, first)
    two = refund_part(net, tax, quantity, then, one)
    assert (one, two) == expected
    assert two.amount + one.amount <= net + tax and two.tax + one.tax <= tax


def test_discount_inputs_are_checked_with_a_reason():
    with pytest.raises(ValueError, match=r"^a discount has exactly one of percent and amount$"):
        DiscountInput(item=1)
    with pytest.raises(ValueError, match=r"^a discount takes a percent in \(0, 100\] or an amount above 0$"):
        DiscountInput(amount=0)
    with pytest.raises(ValueError, match=r"^discount on unknown line 2$"):
        price_check([LineInput(1, 100, 1)], [DiscountInput(item=2, amount=5)], prices_include_tax=False)
    # the edges that are allowed
    assert DiscountInput(percent=Decimal("0.5")).percent == Decimal("0.5")
    assert DiscountInput(percent=Decimal(100)).percent == 100
    assert DiscountInput(amount=1).amount == 1


def test_two_discounts_on_one_line_take_at_most_the_line():
    twice = [DiscountInput(item=1, amount=600), DiscountInput(item=1, amount=600)]
    priced = price_check([LineInput(1, 1000, 1), LineInput(2, 500, 1)], twice, prices_include_tax=False)
    assert priced.applied == (600, 400)
    assert priced.line(1).discount == 1000 and priced.line(2).discount == 0
    assert priced.total == 500
