"""How a check is priced: one pure function from lines and discounts to every money figure.

Create, append, void, discounts, `POST /orders/calculate`, batch sync and the seed all call
`price_check`, so the tablet's preview and the stored order can never disagree. Integer cents in,
integer cents out; each rounding is half-to-even of an exact fraction, once, where API.md says:

1. line discounts, oldest first: a percentage takes round(gross x percent / 100), an amount itself,
   each capped at what the line has left (a percentage on a line a split divided takes its split share
   instead: see `split_line_discounts`);
2. order discounts, oldest first, against what the lines have left: a percentage takes
   round(left x percent / 100), an amount min(amount, left); each is shared among the lines in
   proportion to what each has left, by largest remainder (ties: lower key first);
3. tax per line on gross - discount: round(amount x rate / 100) where prices exclude tax,
   round(amount x rate / (100 + rate)) where they include it.

Worked example (tests/orders/test_pricing.py keeps it true): IVA 16% included in the prices,
10.00 off the whole order, three lines:

    line                    gross    left  exact share      share   tax      net
    3 x Taco al pastor      75.00   75.00  3.1185...  ->     3.12   9.91    61.97
    1 x Agua de horchata    25.50   25.50  1.0603...  ->     1.06   3.37    21.07
    1 x Mole poblano       140.00  140.00  5.8212...  ->     5.82  18.51   115.67
                           240.50                           10.00  31.79   198.71

The floors (3.11 + 1.06 + 5.82) leave 1 cent over; it goes to the largest remainder (the taco's
.85 of a cent). Each tax is round((gross - share) x 16 / 116): 71.88 -> 9.91. The check:
subtotal 240.50, discount_total 10.00, tax_total 31.79, total 230.50 (tax is inside the prices,
so it is not added); the lines' nets 198.71 + tax 31.79 = 230.50.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-to-even to an integer, exactly (denominator > 0)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


def _of(amount: int, percent: Decimal) -> int:
    """round(amount x percent / 100)."""
    num, den = percent.as_integer_ratio()
    return round_half_even(amount * num, 100 * den)


def _amount(discount: DiscountInput) -> int:
    """The amount of an amount discount (DiscountInput guarantees one of percent and amount)."""
    if discount.amount is None:
        raise ValueError("a discount without a percent has an amount")  # pragma: no mutate (unreachable: for mypy)
    return discount.amount


def line_tax(amount: int, rate: Decimal, prices_include_tax: bool) -> int:
    """The tax in `amount` (a line's gross - discount) at `rate` percent."""
    num, den = rate.as_integer_ratio()
    return round_half_even(amount * num, 100 * den + (num if prices_include_tax else 0))


@dataclass(frozen=True)
class LineInput:
    """A line as stored or sent. `key` orders ties (item id, or the body's index) and names the line."""

    key: int
    base_price: int  # cents: catalogue or ad-hoc price, without modifiers
    quantity: int
    modifier_prices: tuple[int, ...] = ()
    tax_rate: Decimal = ZERO
    voided: bool = False

    @property
    def unit_price(self) -> int:
        return self.base_price + sum(self.modifier_prices)


@dataclass(frozen=True)
class DiscountInput:
    """A discount on the line with key `item` (None: the whole order): a percent or an amount in cents.

    `split_share`: a line percentage on a line a split divided takes these cents (its share of what it
    took of the whole line, see `split_line_discounts`) instead of round(gross x percent / 100)."""

    item: int | None = None
    percent: Decimal | None = None
    amount: int | None = None
    split_share: int | None = None

    def __post_init__(self) -> None:
        # Schemas refuse these first; here they would break "a share never exceeds its line".
        if (self.percent is None) == (self.amount is None):
            raise ValueError("a discount has exactly one of percent and amount")
        if not (0 < self.percent <= 100 if self.percent is not None else self.amount is not None and self.amount > 0):
            raise ValueError("a discount takes a percent in (0, 100] or an amount above 0")
        if self.split_share is not None and (self.item is None or self.percent is None or self.split_share < 0):
            raise ValueError("a split share belongs to a line percentage discount and is not negative")


@dataclass(frozen=True)
class LineFigures:
    """One line's money. A voided line keeps unit_price and line_total and has no discount, tax or net."""

    key: int
    unit_price: int
    line_total: int
    discount: int  # its line discounts plus its shares of order discounts
    tax: int
    net: int  # sales before tax: line_total - discount, less tax where prices include it


@dataclass(frozen=True)
class CheckFigures:
    """Every money figure of a check; `lines` and `applied` follow the input order."""

    lines: tuple[LineFigures, ...]
    applied: tuple[int, ...]  # what each discount takes off now
    subtotal: int
    discount_total: int
    tax_total: int
    total: int  # what the guest owes

    def line(self, key: int) -> LineFigures:
        """The figures of the line with this key."""
        return next(line for line in self.lines if line.key == key)


def share(amount: int, left: dict[int, int]) -> dict[int, int]:
    """Split `amount` (at most sum(left)) in proportion to `left` by largest remainder, ties to lower keys."""
    whole = sum(left.values())
    if whole == 0:
        return dict.fromkeys(left, 0)
    # Each exact share is amount x part / whole: its floor now, and the cents left over go one each
    # to the largest remainders (all over the same `whole`, so the integers compare exactly).
    floors = {key: divmod(amount * part, whole) for key, part in left.items()}
    shares = {key: floor for key, (floor, _) in floors.items()}
    by_remainder = sorted(left, key=lambda key: (-floors[key][1], key))
    for key in by_remainder[: amount - sum(shares.values())]:
        shares[key] += 1
    return shares


def split_line_discounts(applied: list[int], gross: dict[int, int]) -> list[dict[int, int]]:
    """Share a line's percentage discounts between the parts a split makes of it, exactly.

    `applied`: what each of the line's discounts takes off the whole line now, oldest first; `gross`:
    each part's gross by key (the part that stays has the lower key). Oldest first, each discount's
    cents are shared among the parts in proportion to what each part has left (its gross less the
    shares of the discounts before), by largest remainder, ties to the lower key: as an order discount
    is shared among lines. So each discount's shares add up to what it took of the whole line, and no
    part's discounts exceed its gross. Answers each discount's shares by key.
    """
    left = dict(gross)
    shares = []
    for cents in applied:
        parts = share(cents, left)
        for key, part in parts.items():
            left[key] -= part
        shares.append(parts)
    return shares


def price_check(
    lines: list[LineInput], discounts: list[DiscountInput], prices_include_tax: bool
) -> CheckFigures:
    """Price a check: discounts oldest first (line ones, then order ones), then tax per line."""
    live = {line.key: line for line in lines if not line.voided}
    gross = {key: line.unit_price * line.quantity for key, line in live.items()}
    taken = dict.fromkeys(live, 0)
    applied = [0] * len(discounts)
    known = {line.key for line in lines}
    for index, discount in enumerate(discounts):
        if discount.item is None:
            continue
        if discount.item not in known:
            raise ValueError(f"discount on unknown line {discount.item}")
        if discount.item in live:
            key = discount.item
            wanted = (_amount(discount) if discount.percent is None
                      else discount.split_share if discount.split_share is not None
                      else _of(gross[key], discount.percent))
            applied[index] = min(wanted, gross[key] - taken[key])
            taken[key] += applied[index]
    for index, discount in enumerate(discounts):
        if discount.item is not None:
            continue
        left = {key: gross[key] - taken[key] for key in live}
        whole = sum(left.values())
        applied[index] = _of(whole, discount.percent) if discount.percent is not None else min(_amount(discount), whole)
        for key, part in share(applied[index], left).items():
            taken[key] += part
    figures = tuple(_line_figures(line, taken.get(line.key, 0), prices_include_tax) for line in lines)
    subtotal = sum(gross.values())
    discount_total = sum(line.discount for line in figures)
    tax_total = sum(line.tax for line in figures)
    total = subtotal - discount_total + (0 if prices_include_tax else tax_total)
    return CheckFigures(figures, tuple(applied), subtotal, discount_total, tax_total, total)


def _line_figures(line: LineInput, discount: int, prices_include_tax: bool) -> LineFigures:
    line_total = line.unit_price * line.quantity
    if line.voided:
        return LineFigures(line.key, line.unit_price, line_total, 0, 0, 0)
    tax = line_tax(line_total - discount, line.tax_rate, prices_include_tax)
    net = line_total - discount - (tax if prices_include_tax else 0)
    return LineFigures(line.key, line.unit_price, line_total, discount, tax, net)


@dataclass(frozen=True)
class Refunded:
    """Units, amount and tax (cents) returned by refunds of one line: by one refund, or by all so far."""

    quantity: int = 0
    amount: int = 0
    tax: int = 0

    def __add__(self, other: Refunded) -> Refunded:
        return Refunded(self.quantity + other.quantity, self.amount + other.amount, self.tax + other.tax)


def refund_part(net: int, tax: int, quantity: int, units: int, before: Refunded = Refunded()) -> Refunded:
    """What refunding `units` of a line's `quantity` returns, given what refunds returned `before`.

    round((net + tax) x units / quantity) and round(tax x units / quantity); the refund reaching the
    last unit returns exactly what is left. Rounding up one part after another could overshoot on a
    line of a few cents, so each part is also held to what is left of the amount, its tax to what is
    left of the tax and its net to what is left of the net: no refund ever exceeds what the guest paid.
    """
    if not 0 < units <= quantity - before.quantity:
        raise ValueError(f"cannot refund {units} of {quantity - before.quantity} refundable units")
    amount_left, tax_left = net + tax - before.amount, tax - before.tax
    if before.quantity + units == quantity:
        return Refunded(units, amount_left, tax_left)
    amount = min(round_half_even((net + tax) * units, quantity), amount_left)
    part_tax = round_half_even(tax * units, quantity)
    part_tax = max(min(part_tax, tax_left, amount), amount - (amount_left - tax_left), 0)
    return Refunded(units, amount, part_tax)


def balance_due(total: int, paid_total: int) -> int:
    """What the guest still owes: total - paid_total, never negative."""
    return max(total - paid_total, 0)


def change(tendered: int | None, amount: int, tip: int) -> int | None:
    """The cash handed back: tendered - amount - tip (None when nothing was tendered)."""
    return None if tendered is None else tendered - amount - tip
