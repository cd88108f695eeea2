"""The drawer's money against an independent computation written from API.md's text (both backends).

Each example runs a random evening at a fresh location through the JSON API: orders paid in cash, by
card or split, with tips; partial refunds; cancels of closed orders; movements. Then:
- `expected_cash` = opening_float + cash_sales + cash_tips - cash_refunds + pay_in - pay_out - safe_drop
  - tip_out, summed here from the payments and refunds the orders show on the session and the
  movements sent;
- the Z's `by_method` equals `/reports/payments` for the same payments and refunds;
- a cancel after close of a cash order moves expected cash by exactly what its refund gave back;
- the day close's figures equal `/reports/locations` and `/reports/payments` for that location and date.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import Location

API = "/api/v1"
CENT = Decimal("0.01")


def c(value: str) -> int:
    return int(Decimal(value) * 100)


def s(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(CENT))


order_st = st.fixed_dictionaries({
    "quantity": st.integers(1, 4),
    "tip": st.integers(0, 2000),
    "how": st.sampled_from(["cash", "card", "split"]),
    "after": st.sampled_from(["none", "refund_cash", "refund_card", "cancel"]),
})
movement_st = st.tuples(st.sampled_from(["pay_in", "pay_out", "safe_drop", "tip_out"]), st.integers(1, 50000))
evening_st = st.fixed_dictionaries({
    "float": st.integers(0, 200000),
    "tax": st.sampled_from(["0", "16"]),
    "include": st.booleans(),
    "orders": st.lists(order_st, min_size=1, max_size=5),
    "movements": st.lists(movement_st, max_size=4),
})


def independent(opening: int, orders: list[dict], session_id: int, movements: list[tuple[str, int]]) -> dict:
    """The figures from API.md's words, from the orders' own payments and refunds on the session."""
    f = dict.fromkeys(("cash_sales", "cash_tips", "cash_refunds", "pay_in", "pay_out", "safe_drop", "tip_out"), 0)
    methods: dict[str, dict[str, int]] = {}
    for order in orders:
        for p in order["payments"]:
            if p["drawer_session_id"] != session_id:
                continue
            row = methods.setdefault(p["method"], {"payments": 0, "amount": 0, "tips": 0, "refunds": 0})
            row["payments"] += 1
            row["amount"] += c(p["amount"])
            row["tips"] += c(p["tip"])
            if p["method"] == "cash":
                f["cash_sales"] += c(p["amount"])
                f["cash_tips"] += c(p["tip"])
        for r in order["refunds"]:
            if r["drawer_session_id"] != session_id:
                continue
            row = methods.setdefault(r["method"], {"payments": 0, "amount": 0, "tips": 0, "refunds": 0})
            row["refunds"] += c(r["amount"]) + c(r["tip"])
            if r["method"] == "cash":
                f["cash_refunds"] += c(r["amount"]) + c(r["tip"])
    for kind, amount in movements:
        f[kind] += amount
    f["expected_cash"] = (opening + f["cash_sales"] + f["cash_tips"] - f["cash_refunds"] + f["pay_in"]
                          - f["pay_out"] - f["safe_drop"] - f["tip_out"])
    money = {k: s(v) for k, v in f.items()}
    by_method = [{"method": m, "payments": r["payments"], "amount": s(r["amount"]), "tips": s(r["tips"]),
                  "refunds": s(r["refunds"])} for m, r in sorted(methods.items())]
    return {**money, "by_method": by_method}


@settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(evening=evening_st)
def test_a_random_evening_adds_up(client, factory, till, evening):
    admin = factory.make_user("admin")
    location = Location(name=f"P {uuid.uuid4().hex[:8]}", timezone="UTC",
                        tax_rate_thousandths=int(evening["tax"]) * 1000, prices_include_tax=evening["include"])
    db.session.add(location)
    db.session.commit()
    manager = factory.make_user("manager")
    manager.locations = [location]
    db.session.commit()
    drawer = till.drawer(manager, location_id=location.id)
    session = till.open(manager, drawer["id"], s(evening["float"]))
    sid = session["id"]
    sent_movements: list[tuple[str, int]] = []
    for kind, amount in evening["movements"]:
        till.move(manager, sid, kind, s(amount))
        sent_movements.append((kind, amount))
    finals = []
    for plan in evening["orders"]:
        order = till.order(manager, plan["quantity"], location_id=location.id)
        if plan["how"] == "split" and c(order["total"]) >= 2:
            half = s(c(order["total"]) // 2)
            till.pay(manager, order["id"], "card", half, tip=s(plan["tip"]))
            order = till.close_order(manager, order["id"], payment_method="cash")
        else:
            order = till.close_order(manager, order["id"], payment_method="card" if plan["how"] == "card" else "cash",
                                     tip=s(plan["tip"]))
        if plan["after"].startswith("refund"):
            order = till.call("POST", f"/orders/{order['id']}/refunds", manager,
                              {"items": [{"item_id": order["items"][0]["id"], "quantity": 1}], "reason": "p",
                               "method": plan["after"].removeprefix("refund_")}, 201).json
        elif plan["after"] == "cancel":
            before = c(till.x(manager, sid)["figures"]["expected_cash"])
            order = till.call("POST", f"/orders/{order['id']}/cancel", manager, {"reason": "p"}, 200).json
            after = c(till.x(manager, sid)["figures"]["expected_cash"])
            refund = order["refunds"][-1]
            given_back = c(refund["amount"]) + c(refund["tip"]) if refund["method"] == "cash" else 0
            assert before - after == given_back
        finals.append(order)
    x = till.x(manager, sid)
    want = independent(evening["float"], finals, sid, sent_movements)
    got = {k: v for k, v in x["figures"].items() if k not in ("orders", "first_folio", "last_folio")}
    assert got == want
    assert x["figures"]["orders"] == len(finals)
    folios = [o["folio"] for o in finals]
    assert (x["figures"]["first_folio"], x["figures"]["last_folio"]) == (min(folios), max(folios))
    expected = c(x["figures"]["expected_cash"])  # may be negative (more paid out than taken): count 0 then
    closed = till.close(manager, sid, s(max(expected, 0)), version=x["version"], reason="property")
    assert closed["variance"] == s(max(expected, 0) - expected)
    # the Z's by_method is what /reports/payments shows for the same payments and refunds
    z = till.call("GET", f"/drawer-sessions/{sid}/z", manager, status=200).json
    report = till.call("GET", f"/reports/payments?location_id={location.id}", manager, status=200).json
    assert [{k: row[k] for k in ("method", "payments", "amount", "tips", "refunds")} for row in report["data"]] \
        == z["figures"]["by_method"]
    # the day close's figures are the reports' for that location and date
    day = z["opened_at"][:10]
    closed_day = till.call("POST", f"/locations/{location.id}/days/{day}/close", admin, status=201).json
    sales = till.call("GET", f"/reports/locations?location_id={location.id}&start_date={day}&end_date={day}",
                      admin, status=200).json["totals"]
    for name in ("orders", "gross", "discounts", "refunds", "revenue", "tax", "tips"):
        assert closed_day[name] == sales[name], name
    till_rows = till.call("GET", f"/reports/payments?location_id={location.id}&start_date={day}&end_date={day}",
                          admin, status=200).json["data"]
    assert closed_day["by_method"] == till_rows
    assert closed_day["sessions"] == [closed["z_number"]]
    assert (closed_day["first_folio"], closed_day["last_folio"]) == (min(folios), max(folios))
