"""Random checks and refunds against a brute-force reading of API.md's pricing text.

Pure: no app, no database. The brute force below is written from API.md alone, with Fraction
arithmetic and Python's own half-to-even round(), so it shares no helper with app.orders.pricing.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.orders.pricing import DiscountInput, LineInput, Refunded, price_check, refund_part, split_line_discounts

RATES = [Decimal("16"), Decimal("8"), Decimal("0"), Decimal("12.125")]
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Small pools make equal lines (ties in sharing) and exact halves likely; wide ranges find the rest.
prices = st.one_of(st.sampled_from([0, 1, 5, 25, 2500, 2550, 14000]), st.integers(0, 99_999_999))
rates = st.one_of(st.sampled_from(RATES), st.decimals(0, 100, places=3, allow_nan=False, allow_infinity=False))
percents = st.one_of(
    st.sampled_from([Decimal("10"), Decimal("50"), Decimal("100"), Decimal("12.5"), Decimal("33.333")]),
    st.decimals(Decimal("0.001"), 100, places=3, allow_nan=False, allow_infinity=False),
)
amounts = st.one_of(st.sampled_from([1, 3, 100, 1000]), st.integers(1, 99_999_999))


@st.composite
def checks(draw):
    """(lines, discounts, prices_include_tax): 1-50 lines with distinct keys in any order, 0-8 discounts."""
    count = draw(st.integers(1, 50))
    keys = draw(st.lists(st.integers(1, 10**6), min_size=count, max_size=count, unique=True))
    lines = [
        LineInput(
            key=key,
            base_price=draw(prices),
            quantity=draw(st.one_of(st.integers(1, 3), st.integers(1, 999))),
            modifier_prices=tuple(draw(st.lists(prices, max_size=20))),
            tax_rate=draw(rates),
            voided=draw(st.integers(0, 5)) == 0,
        )
        for key in keys
    ]
    discounts = draw(st.lists(discount_of(keys), max_size=8))
    return lines, discounts, draw(st.booleans())


def discount_of(keys):
    item = st.one_of(st.none(), st.sampled_from(keys))
    return st.one_of(
        st.builds(DiscountInput, item=item, percent=percents),
        st.builds(DiscountInput, item=item, amount=amounts),
    )


def brute_force(lines, discounts, inclusive):
    """API.md's text, step by step: returns ({key: (unit_price, line_total, discount, tax, net)}, applied, order)."""
    live = [line for line in lines if not line.voided]
    line_total = {line.key: (line.base_price + sum(line.modifier_prices)) * line.quantity for line in lines}
    off = {line.key: 0 for line in live}
    applied = {}
    # 1. Line discounts, oldest first, each capped at what its line has left.
    for position, d in enumerate(discounts):
        if d.item is None:
            continue
        if d.item not in off:  # a voided line takes no part
            applied[position] = 0
            continue
        gross = line_total[d.item]
        wanted = d.amount if d.percent is None else round(Fraction(gross) * Fraction(d.percent) / 100)
        applied[position] = min(wanted, gross - off[d.item])
        off[d.item] += applied[position]
    # 2. Order discounts, oldest first, against what is left; shared by largest remainder.
    for position, d in enumerate(discounts):
        if d.item is not None:
            continue
        left = {key: line_total[key] - off[key] for key in off}
        everything = sum(left.values())
        taken = min(d.amount, everything) if d.percent is None else round(everything * Fraction(d.percent) / 100)
        applied[position] = taken
        if everything == 0:
            continue
        exact = {key: Fraction(taken) * left[key] / everything for key in left}
        floors = {key: math.floor(exact[key]) for key in exact}
        ranked = sorted(exact, key=lambda key: (-(exact[key] - floors[key]), key))
        for rank, key in enumerate(ranked):
            off[key] += floors[key] + (1 if rank < taken - sum(floors.values()) else 0)
    # 3. Taxes per line on gross - discount.
    result = {}
    for line in lines:
        unit = line.base_price + sum(line.modifier_prices)
        if line.voided:
            result[line.key] = (unit, line_total[line.key], 0, 0, 0)
            continue
        amount = line_total[line.key] - off[line.key]
        rate = Fraction(line.tax_rate)
        tax = round(amount * rate / (100 + rate)) if inclusive else round(amount * rate / 100)
        net = amount - tax if inclusive else amount
        result[line.key] = (unit, line_total[line.key], off[line.key], tax, net)
    subtotal = sum(line_total[line.key] for line in live)
    discount_total = sum(off.values())
    tax_total = sum(figures[3] for figures in result.values())
    total = subtotal - discount_total + (0 if inclusive else tax_total)
    return result, [applied[i] for i in range(len(discounts))], (subtotal, discount_total, tax_total, total)


@SETTINGS
@given(checks())
def test_a_check_matches_the_brute_force_and_adds_up(check):
    lines, discounts, inclusive = check
    priced = price_check(lines, discounts, inclusive)

    expected_lines, expected_applied, expected_order = brute_force(lines, discounts, inclusive)
    assert {f.key: (f.unit_price, f.line_total, f.discount, f.tax, f.net) for f in priced.lines} == expected_lines
    assert list(priced.applied) == expected_applied
    assert (priced.subtotal, priced.discount_total, priced.tax_total, priced.total) == expected_order

    assert [f.key for f in priced.lines] == [line.key for line in lines]
    live = [f for f, line in zip(priced.lines, lines, strict=True) if not line.voided]
    assert sum(f.line_total for f in live) == priced.subtotal
    assert sum(f.discount for f in priced.lines) == priced.discount_total == sum(priced.applied)
    assert sum(f.tax for f in priced.lines) == priced.tax_total
    assert sum(f.net + f.tax for f in priced.lines) == priced.total
    assert priced.total == priced.subtotal - priced.discount_total + (0 if inclusive else priced.tax_total)
    for f in priced.lines:
        assert 0 <= f.discount <= f.line_total
        assert f.tax >= 0 and f.net >= 0
    assert all(applied >= 0 for applied in priced.applied)


@SETTINGS
@given(checks(), st.data())
def test_a_priced_line_refunded_in_parts_returns_exactly_what_the_guest_paid(check, data):
    lines, discounts, inclusive = check
    priced = price_check(lines, discounts, inclusive)
    live = [(line, f) for line, f in zip(lines, priced.lines, strict=True) if not line.voided]
    if not live:
        return
    line, figures = data.draw(st.sampled_from(live))
    refund_in_parts(figures.net, figures.tax, line.quantity, data)


@SETTINGS
@given(st.integers(0, 50), st.integers(0, 50), st.integers(1, 60), st.data())
def test_small_lines_of_many_units_never_refund_more_than_they_cost(net, tax, quantity, data):
    refund_in_parts(net, tax, quantity, data)


def refund_in_parts(net: int, tax: int, quantity: int, data) -> None:
    """Refund the line in random parts: each part is API.md's figure (held to what is left), and all add up."""
    paid, before = net + tax, Refunded()
    while before.quantity < quantity:
        units = data.draw(st.integers(1, quantity - before.quantity))
        part = refund_part(net, tax, quantity, units, before)
        last = before.quantity + units == quantity
        text_amount = round(Fraction(paid * units, quantity))
        if not last and text_amount <= paid - before.amount:
            assert part.amount == text_amount
            text_tax = round(Fraction(tax * units, quantity))
            if text_tax <= min(tax - before.tax, part.amount) and part.amount - text_tax <= net - (
                before.amount - before.tax
            ):
                assert part.tax == text_tax
        assert part.quantity == units
        assert 0 <= part.tax <= part.amount
        before = before + part
        assert before.amount <= paid and before.tax <= tax and before.amount - before.tax <= net
    assert (before.amount, before.tax) == (paid, tax)


@SETTINGS
@given(unit=prices, quantity=st.integers(2, 999), rate=rates, include=st.booleans(),
       stacked=st.lists(percents, min_size=1, max_size=6), data=st.data())
def test_a_line_split_in_part_keeps_its_discounts_to_the_cent(unit, quantity, rate, include, stacked, data):
    """API.md (split): "taxes and percentage discounts may round differently by at most one cent per line moved
    in part". A line with stacked percentages is split in two (docs/tables.md: each discount's cents shared in
    proportion to what each part has left, largest remainder, a tie to the part that stays); brute force:
    the candidates around the exact proportion tried, the nearest wins. Each part priced with its shares: the
    discounts add up exactly, no part's discounts exceed its gross, and the taxes differ by at most a cent."""
    moved = data.draw(st.integers(1, quantity - 1))
    whole = price_check([LineInput(1, unit, quantity, tax_rate=rate)],
                        [DiscountInput(item=1, percent=p) for p in stacked], include)
    shares = split_line_discounts(list(whole.applied), {0: unit * (quantity - moved), 1: unit * moved})
    left = [unit * (quantity - moved), unit * moved]
    for applied, share in zip(whole.applied, shares, strict=True):
        exact = Fraction(applied * left[0], sum(left)) if sum(left) else Fraction(0)
        near = range(max(0, math.floor(exact) - 2), min(applied, math.ceil(exact) + 2) + 1)  # the candidates near it
        kept = min(near, key=lambda cents: (abs(cents - exact), -cents))
        assert (share[0], share[1]) == (kept, applied - kept)
        left = [left[0] - kept, left[1] - (applied - kept)]
    assert min(left) >= 0
    parts = [price_check([LineInput(1, unit, units, tax_rate=rate)],
                         [DiscountInput(item=1, percent=p, split_share=share[key])
                          for p, share in zip(stacked, shares, strict=True)], include)
             for key, units in ((0, quantity - moved), (1, moved))]
    assert [list(part.applied) for part in parts] == [[s[key] for s in shares] for key in (0, 1)]
    assert sum(part.discount_total for part in parts) == whole.discount_total
    assert sum(part.subtotal for part in parts) == whole.subtotal
    assert abs(sum(part.tax_total for part in parts) - whole.tax_total) <= 1
