"""app/money.py and app/percent.py, exactly (pure: no app, no database). `make mutation` runs these
against mutants of both modules: every branch and boundary below is one a mutant would move."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.money import CENT, MAX_UNIT_PRICE, PLAIN_DECIMAL, cents_to_str, to_cents
from app.percent import (
    HUNDRED,
    MAX_PERCENT_LENGTH,
    PERCENT_SCALE,
    PLACES,
    from_thousandths,
    parse_percent,
    percent_str,
    thousandths_to_str,
    to_thousandths,
)


def test_the_constants_are_the_documented_ones():
    assert Decimal("0.01") == CENT and str(CENT) == "0.01"
    assert Decimal("999999.99") == MAX_UNIT_PRICE
    assert HUNDRED == 100 and PLACES == 3 and PERCENT_SCALE == 1000 and MAX_PERCENT_LENGTH == 16


@pytest.mark.parametrize(("cents", "text"), [
    (0, "0.00"), (1, "0.01"), (9, "0.09"), (10, "0.10"), (99, "0.99"), (100, "1.00"), (101, "1.01"),
    (1250, "12.50"), (-1, "-0.01"), (-1250, "-12.50"), (-100, "-1.00"), (99999999, "999999.99"),
    (10**20 + 7, "1000000000000000000.07"), (True, "0.01"),
])
def test_cents_to_str_is_exact(cents, text):
    assert cents_to_str(cents) == text


@pytest.mark.parametrize(("amount", "cents"), [
    ("0", 0), ("0.01", 1), ("0.1", 10), ("12.5", 1250), ("12.50", 1250), ("999999.99", 99999999),
    ("-3.07", -307), ("1E+2", 10000),
])
def test_to_cents_is_exact(amount, cents):
    got = to_cents(Decimal(amount))
    assert got == cents and type(got) is int


@pytest.mark.parametrize("text", ["0", "12", "12.5", "-3.07", "007.250"])
def test_plain_decimals(text):
    assert PLAIN_DECIMAL.fullmatch(text)


@pytest.mark.parametrize("text", ["", "-", ".5", "5.", "1e3", "+1", " 1", "1 ", "1.2.3", "١٢", "--1", "1-"])
def test_not_plain_decimals(text):
    assert not PLAIN_DECIMAL.fullmatch(text)


@pytest.mark.parametrize(("percent", "text"), [
    ("16.000", "16"), ("16", "16"), ("8.50", "8.5"), ("12.125", "12.125"), ("0", "0"), ("100", "100"),
    ("100.000", "100"), ("0.500", "0.5"), ("10", "10"), ("1E+1", "10"), ("0.001", "0.001"),
])
def test_percent_str_has_no_trailing_zeros_and_no_exponent(percent, text):
    assert percent_str(Decimal(percent)) == text


@pytest.mark.parametrize(("value", "expected"), [
    ("16", Decimal("16")), (16, Decimal("16")), ("12.125", Decimal("12.125")), ("100", Decimal("100")),
    ("0.001", Decimal("0.001")), (Decimal("7.5"), Decimal("7.5")), ("100.000", Decimal("100")),
    ("0" * 13 + "1.5", Decimal("1.5")),  # 16 characters: the longest accepted
])
def test_parse_percent_accepts(value, expected):
    got = parse_percent(value, allow_zero=False)
    assert got == expected and isinstance(got, Decimal)


NOT_A_PERCENTAGE = 'Must be a percentage such as "16" or "12.125".'


@pytest.mark.parametrize("value", [
    True, False, None, 1.5, [], {}, "", "abc", "1e2", "NaN", "Infinity", "+5", " 5", "5.",
    "0" * 14 + "1.5",  # 17 characters
    Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"),
])
def test_parse_percent_refuses_what_is_not_a_percentage(value):
    with pytest.raises(ValueError) as error:
        parse_percent(value, allow_zero=True)
    assert str(error.value) == NOT_A_PERCENTAGE


@pytest.mark.parametrize("value", ["12.1255", "12.1250", "0.0001", Decimal("1.0000")])
def test_parse_percent_allows_three_places_as_written(value):
    with pytest.raises(ValueError) as error:
        parse_percent(value, allow_zero=True)
    assert str(error.value) == "Must have at most three decimal places."


@pytest.mark.parametrize("value", ["100.001", "101", 101, "-1", "-0.001", -1])
def test_parse_percent_range(value):
    for allow_zero, message in ((True, "Must be between 0 and 100."),
                                (False, "Must be greater than 0 and at most 100.")):
        with pytest.raises(ValueError) as error:
            parse_percent(value, allow_zero=allow_zero)
        assert str(error.value) == message


@pytest.mark.parametrize("zero", ["0", 0, "0.000", Decimal("0")])
def test_zero_only_where_allowed(zero):
    assert parse_percent(zero, allow_zero=True) == 0
    with pytest.raises(ValueError) as error:
        parse_percent(zero, allow_zero=False)
    assert str(error.value) == "Must be greater than 0 and at most 100."


def test_a_long_integer_percentage_is_still_a_percentage_message():
    with pytest.raises(ValueError) as error:
        parse_percent(10**30, allow_zero=True)
    assert str(error.value) == "Must be between 0 and 100."


@pytest.mark.parametrize(("percent", "thousandths", "text"), [
    ("12.125", 12125, "12.125"), ("16", 16000, "16"), ("8.5", 8500, "8.5"), ("0", 0, "0"),
    ("100", 100000, "100"), ("0.001", 1, "0.001"),
])
def test_thousandths_round_trip(percent, thousandths, text):
    got = to_thousandths(Decimal(percent))
    assert got == thousandths and type(got) is int
    assert from_thousandths(thousandths) == Decimal(percent)
    assert thousandths_to_str(thousandths) == text
    assert "E" not in thousandths_to_str(thousandths)
