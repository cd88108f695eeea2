"""Drawer races on PostgreSQL with real threads over real HTTP (a live server, one connection each)."""

from __future__ import annotations

from collections import Counter

import pytest

from app.columns import utcnow
from tests.helpers import all_at_once, http_json, serving

API = "/api/v1"


@pytest.fixture
def http(app, postgres_only):
    with serving(app) as server:
        port = server.port
        yield port


def call(port: int, factory, user, method: str, path: str, body=None, **headers):
    """A request to run on a thread: the token is made now, in the test's app context."""
    auth = factory.headers(user)
    return lambda: http_json(port, method, API + path, body, {**auth, **headers})


def test_20_concurrent_order_closes_get_folios_1_to_20(http, factory, till, waiter):
    orders = [till.order(waiter) for _ in range(20)]
    answers = all_at_once([call(http, factory, waiter, "POST", f"/orders/{o['id']}/close",
                                            {"payment_method": "card"}) for o in orders])
    assert [status for status, _ in answers] == [200] * 20
    assert sorted(body["folio"] for _, body in answers) == list(range(1, 21))


def test_concurrent_session_closes_of_different_drawers_get_z_numbers_without_gaps(http, factory, till, manager):
    users = [factory.make_user("waiter") for _ in range(8)]
    sessions = [till.open(user, till.drawer(manager, f"Caja {n}")["id"], "0") for n, user in enumerate(users)]
    answers = all_at_once([call(http, factory, u, "POST", f"/drawer-sessions/{s['id']}/close",
                                                 {"counted_cash": "0.00"}, **{"If-Match": '"1"'})
                           for s, u in zip(sessions, users, strict=True)])
    assert [status for status, _ in answers] == [200] * 8
    assert sorted(body["z_number"] for _, body in answers) == list(range(1, 9))


def test_two_closes_of_one_session_one_wins(http, factory, till, manager, admin):
    session = till.open(manager, till.drawer(manager)["id"], "0")
    answers = all_at_once([call(http, factory, u, "POST", f"/drawer-sessions/{session['id']}/close",
                                            {"counted_cash": "0.00"}, **{"If-Match": '"1"'})
                           for u in (manager, admin)])
    statuses = sorted(status for status, _ in answers)
    assert statuses[0] == 200 and statuses[1] in (409, 412), answers  # API.md: "one 200, the other 412 or 409"
    refused = next(body for status, body in answers if status != 200)
    assert refused["code"] in ("drawer_session_closed", "precondition_failed")


@pytest.mark.parametrize("rounds", [6])
def test_a_cash_payment_racing_the_close_is_in_the_z_or_refused(http, factory, till, manager, waiter, rounds):
    for n in range(rounds):
        session = till.open(manager, till.drawer(manager, f"Caja {n}")["id"], "0")
        order = till.order(waiter, 1)  # 25.00
        version = session["version"]
        answers = all_at_once([
            call(http, factory, waiter, "POST", f"/orders/{order['id']}/payments",
                                 {"method": "cash", "amount": "25.00", "drawer_session_id": session["id"]}),
            call(http, factory, manager, "POST", f"/drawer-sessions/{session['id']}/close",
                                   {"counted_cash": "25.00", "reason": "race"}, **{"If-Match": "*"}),
        ])
        (paid, paid_body), (closed, closed_body) = answers
        assert closed == 200, closed_body
        in_z = closed_body["figures"]["cash_sales"] == "25.00"
        if paid == 201:
            assert in_z, "a payment that succeeded must be in the Z"
        else:
            assert (paid, paid_body["code"]) == (409, "drawer_session_closed")
            assert not in_z
        assert version == 1


def test_two_concurrent_day_closes_one_201_one_409(http, factory, till, manager, admin):
    day = utcnow().date().isoformat()
    path = f"/locations/{till.location.id}/days/{day}/close"
    answers = all_at_once([call(http, factory, u, "POST", path) for u in (manager, admin)])
    assert Counter(status for status, _ in answers) == {201: 1, 409: 1}
    assert next(body for status, body in answers if status == 409)["code"] == "business_day_closed"


def test_orders_racing_the_day_close_never_land_in_the_closed_day(http, factory, till, manager, waiter):
    day = utcnow().date().isoformat()
    body = {"customer_name": "x", "items": [{"product_id": till.taco.id, "quantity": 1}]}
    calls = [call(http, factory, waiter, "POST", "/orders", body) for _ in range(6)]
    calls.append(call(http, factory, manager, "POST", f"/locations/{till.location.id}/days/{day}/close"))
    answers = all_at_once(calls)
    created = [b for s, b in answers[:-1] if s == 201]
    refused = [b for s, b in answers[:-1] if s != 201]
    assert all(b["code"] == "business_day_closed" for b in refused)
    closing, closing_body = answers[-1]
    if closing == 201:  # the close won: whatever got in was before it, and was open: impossible
        assert created == [], "an open order was created in a day that closed"
    else:
        assert (closing, closing_body["code"]) == (409, "orders_open")
