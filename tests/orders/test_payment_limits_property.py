"""Money limits that agree (issue 22, API.md v1.2 details): a payment's amount is bounded by the order's
balance_due alone, not by the per-unit 999,999.99; `tendered` (cash) is at least amount + tip and at most
99,999,999.99. Checked against a brute-force reading of that text over random amounts, on both backends."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.constants import ORDERS

CENT = Decimal("0.01")
amounts = st.integers(min_value=1, max_value=10**11).map(lambda cents: Decimal(cents) * CENT)


def expected(balance: Decimal, amount: Decimal, tip: Decimal, tendered: Decimal | None) -> tuple[int, str | None]:
    """API.md, read literally: (status, the field a 422 names)."""
    if tendered is not None and (tendered < amount + tip or tendered > Decimal("99999999.99")):
        return 422, "tendered"
    if amount > balance:
        return 422, "amount"
    return 201, None


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quantity=st.integers(min_value=1, max_value=999), amount=amounts,
       tip=st.integers(min_value=0, max_value=10**6).map(lambda cents: Decimal(cents) * CENT),
       tendered_extra=st.one_of(st.none(), st.integers(min_value=-10**4, max_value=10**10)))
def test_a_payment_is_bounded_by_the_balance_and_tendered_by_99_999_999_99(client, factory, quantity, amount, tip,
                                                                          tendered_extra):
    waiter = factory.make_user("waiter")
    headers = factory.headers(waiter)
    order = client.post(ORDERS, headers=headers, json={"customer_name": "Boda", "items": [
        {"product_name": "Banquete", "unit_price": "999999.99", "quantity": quantity}]}).json
    balance = Decimal(order["balance_due"])
    tendered = None if tendered_extra is None else amount + tip + Decimal(tendered_extra) * CENT
    body = {"method": "cash", "amount": str(amount), "tip": str(tip)}
    if tendered is not None:
        body["tendered"] = str(tendered)
    resp = client.post(f"{ORDERS}/{order['id']}/payments", headers=headers, json=body)
    status, field = expected(balance, amount, tip, tendered)
    assert resp.status_code == status, (body, balance, resp.json)
    if field:
        assert field in resp.json["errors"], resp.json
    else:
        [payment] = resp.json["payments"]
        assert Decimal(payment["amount"]) == amount
        assert resp.json["balance_due"] == f"{balance - amount:.2f}"
        if tendered is not None:
            assert Decimal(payment["change"]) == tendered - amount - tip
