"""The cash drawer over HTTP (API.md v1.2 "The cash drawer"): every rule and error code."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.columns import utcnow
from app.extensions import db
from app.models import DrawerSession, Location, Order
from tests.cash.conftest import cents
from tests.helpers import assert_problem


def test_location_without_drawers_takes_cash_as_in_v11(till, waiter):
    order = till.order(waiter)
    closed = till.close_order(waiter, order["id"], payment_method="cash")
    assert closed["payments"][0]["drawer_session_id"] is None
    assert closed["folio"] == 1


def test_open_session_rules(till, manager, waiter, waiter2):
    drawer = till.drawer(manager)
    assert drawer["open_session"] is None and drawer["location_id"] == till.location.id
    session = till.open(waiter, drawer["id"], "1500.00")
    assert session["status"] == "open" and session["version"] == 1 and session["opening_float"] == "1500.00"
    assert session["figures"] is None and session["variance"] is None  # the waiter counts blind
    # one open session per drawer
    assert_problem(till.call("POST", f"/drawers/{drawer['id']}/sessions", waiter2, {"opening_float": "0"}), 409,
                   "drawer_session_open")
    # one per user, on any drawer
    other = till.drawer(manager, "Caja 2")
    assert_problem(till.call("POST", f"/drawers/{other['id']}/sessions", waiter, {"opening_float": "0"}), 409,
                   "drawer_session_open")
    listed = till.call("GET", f"/locations/{till.location.id}/drawers", waiter, status=200).json["data"]
    assert [d["open_session"]["id"] if d["open_session"] else None for d in listed] == [session["id"], None]
    assert listed[0]["open_session"]["figures"] is None
    mine = till.call("GET", f"/locations/{till.location.id}/drawers", manager, status=200).json["data"]
    assert mine[0]["open_session"]["figures"]["expected_cash"] == "1500.00"


def test_cash_binding_rule(till, manager, waiter, waiter2, admin):
    drawer = till.drawer(manager)
    order = till.order(waiter, 4)  # 100.00
    # a location with a drawer and no open session: 409 and nothing written
    assert_problem(till.call("POST", f"/orders/{order['id']}/payments", waiter, {"method": "cash", "amount": "10"}),
                   409, "no_open_drawer_session")
    assert till.call("GET", f"/orders/{order['id']}", waiter, status=200).json["version"] == 1
    assert_problem(till.call("POST", f"/orders/{order['id']}/close", waiter, {"payment_method": "cash"}),
                   409, "no_open_drawer_session")
    # card needs none and records none
    paid = till.pay(waiter, order["id"], "card", "10.00")
    assert paid["payments"][0]["drawer_session_id"] is None
    # the location's only open session takes the cash of someone with none
    s1 = till.open(waiter2, drawer["id"])
    paid = till.pay(waiter, order["id"], "cash", "10.00", tip="1.00")
    assert paid["payments"][-1]["drawer_session_id"] == s1["id"]
    # several open, none of the caller's: 422 on drawer_session_id
    s2 = till.open(manager, till.drawer(manager, "Caja 2")["id"])
    resp = till.call("POST", f"/orders/{order['id']}/payments", waiter, {"method": "cash", "amount": "10"})
    assert assert_problem(resp, 422, "validation_error")["errors"]["drawer_session_id"]
    # naming one works
    paid = till.pay(waiter, order["id"], "cash", "10.00", drawer_session_id=s2["id"])
    assert paid["payments"][-1]["drawer_session_id"] == s2["id"]
    # the caller's own open session comes first
    paid = till.pay(manager, order["id"], "cash", "10.00")
    assert paid["payments"][-1]["drawer_session_id"] == s2["id"]
    # a card payment records the caller's open session, and raises its version
    before = till.x(admin, s2["id"])["version"]
    paid = till.pay(manager, order["id"], "card", "5.00")
    assert paid["payments"][-1]["drawer_session_id"] == s2["id"]
    assert till.x(admin, s2["id"])["version"] == before + 1
    # unknown session: 422; closed: 409
    resp = till.call("POST", f"/orders/{order['id']}/payments", waiter,
                     {"method": "cash", "amount": "1", "drawer_session_id": 999999})
    assert assert_problem(resp, 422, "validation_error")["errors"]["drawer_session_id"]
    till.close(manager, s1["id"], "520.00", reason="count")
    resp = till.call("POST", f"/orders/{order['id']}/payments", waiter,
                     {"method": "cash", "amount": "1", "drawer_session_id": s1["id"]})
    assert_problem(resp, 409, "drawer_session_closed")
    x1 = till.x(admin, s1["id"])["figures"]
    assert (x1["cash_sales"], x1["cash_tips"], x1["expected_cash"]) == ("10.00", "1.00", "511.00")


def test_another_locations_session_is_422_in_a_body_and_404_in_a_path(till, manager, admin, waiter):
    other = Location(name="Roma", timezone="UTC")
    db.session.add(other)
    db.session.commit()
    theirs = till.drawer(admin, "Roma 1", location_id=other.id)
    s = till.open(admin, theirs["id"])
    order = till.order(waiter)
    till.drawer(manager)
    till.open(manager, till.drawer(manager, "Caja 2")["id"])
    resp = till.call("POST", f"/orders/{order['id']}/payments", waiter,
                     {"method": "cash", "amount": "1", "drawer_session_id": s["id"]})
    assert assert_problem(resp, 422, "validation_error")["errors"]["drawer_session_id"]
    for path in (f"/drawer-sessions/{s['id']}", f"/drawer-sessions/{s['id']}/x"):
        assert_problem(till.call("GET", path, manager), 404, "not_found")
    assert_problem(till.call("POST", f"/drawers/{theirs['id']}/sessions", manager, {"opening_float": "1"}), 404,
                   "not_found")
    assert_problem(till.call("GET", f"/locations/{other.id}/drawers", manager), 404, "not_found")
    assert_problem(till.call("POST", f"/locations/{other.id}/drawers", manager, {"name": "x"}), 404, "not_found")
    assert_problem(till.call("POST", f"/drawer-sessions/{s['id']}/movements", manager,
                             {"type": "pay_in", "amount": "1", "reason": "x"}), 404, "not_found")


def test_movements_x_blind_and_versions(till, manager, waiter, admin):
    drawer = till.drawer(manager)
    s = till.open(waiter, drawer["id"], "1000.00")
    order = till.order(waiter, 4)
    till.close_order(waiter, order["id"], payment_method="cash", tip="10.00")  # 100 + 10 tip
    till.move(waiter, s["id"], "pay_in", "50.00")
    till.move(waiter, s["id"], "safe_drop", "300.00")
    till.move(waiter, s["id"], "tip_out", "10.00")
    assert_problem(till.call("POST", f"/drawer-sessions/{s['id']}/movements", waiter,
                             {"type": "pay_out", "amount": "20", "reason": "ice"}), 403, "approval_required")
    movement = till.move(manager, s["id"], "pay_out", "20.00")
    assert movement["approved_by"] is None and movement["created_by"]["id"] == manager.id
    x = till.x(manager, s["id"])
    f = x["figures"]
    assert f == {"cash_sales": "100.00", "cash_tips": "10.00", "cash_refunds": "0.00", "pay_in": "50.00",
                 "pay_out": "20.00", "safe_drop": "300.00", "tip_out": "10.00", "expected_cash": "830.00",
                 "by_method": [{"method": "cash", "payments": 1, "amount": "100.00", "tips": "10.00",
                                "refunds": "0.00"}],
                 "orders": 1, "first_folio": 1, "last_folio": 1}
    assert x["version"] == 1 + 1 + 4  # opened, one payment, four movements
    assert_problem(till.call("GET", f"/drawer-sessions/{s['id']}/x", waiter), 403, "forbidden")
    seen = till.session(waiter, s["id"])
    assert seen["figures"] is None and seen["variance"] is None
    assert till.session(manager, s["id"])["figures"] == f


def test_movement_bad_input(till, manager):
    s = till.open(manager, till.drawer(manager)["id"])
    path = f"/drawer-sessions/{s['id']}/movements"
    for body in ({"type": "pay_in", "amount": "0", "reason": "x"}, {"type": "pay_in", "amount": "-1", "reason": "x"},
                 {"type": "pay_in", "amount": "1000000.00", "reason": "x"}, {"type": "pay_in", "amount": "1"},
                 {"type": "pay_in", "amount": "1", "reason": ""}, {"type": "loan", "amount": "1", "reason": "x"},
                 {"type": "pay_in", "amount": "1", "reason": "x", "id": 3}, {"type": "pay_in", "amount": "1.001",
                                                                              "reason": "x"}):
        assert_problem(till.call("POST", path, manager, body), 422, "validation_error")
    assert till.x(manager, s["id"])["version"] == 1
    assert_problem(till.call("POST", f"/drawers/{s['drawer_id']}/sessions", manager, {"opening_float": "-1"}), 422,
                   "validation_error")
    assert_problem(till.call("POST", f"/locations/{till.location.id}/drawers", manager, {"name": ""}), 422,
                   "validation_error")
    assert_problem(till.call("POST", "/drawers/999999/sessions", manager, {"opening_float": "1"}), 404, "not_found")


def test_close_if_match_variance_tolerance_and_z(till, manager, waiter, admin):
    s = till.open(waiter, till.drawer(manager)["id"], "500.00")
    order = till.order(waiter, 2)
    till.close_order(waiter, order["id"], payment_method="cash")  # 50.00
    path = f"/drawer-sessions/{s['id']}/close"
    assert_problem(till.call("POST", path, waiter, {"counted_cash": "550.00"}), 428, "precondition_required")
    assert_problem(till.call("POST", path, waiter, {"counted_cash": "550.00"}, **{"If-Match": '"1"'}), 412,
                   "precondition_failed")
    # over the tolerance (0.00): a reason is required, and a waiter needs approval
    resp = till.call("POST", path, waiter, {"counted_cash": "549.00"}, **{"If-Match": '"2"'})
    message = assert_problem(resp, 422, "validation_error")["errors"]["reason"][0]
    assert "1.00" not in message and "550" not in message  # blind: never by how much
    assert_problem(till.call("POST", path, waiter, {"counted_cash": "549.00", "reason": "short"},
                             **{"If-Match": '"2"'}), 403, "approval_required")
    # raise the tolerance (admins): within it, a waiter closes alone
    till.call("PATCH", f"/locations/{till.location.id}", admin, {"variance_tolerance": "1.00"}, 200)
    closed = till.close(waiter, s["id"], "549.00", version=2)
    assert closed["status"] == "closed" and closed["z_number"] == 1 and closed["version"] == 3
    assert closed["variance"] == "-1.00" and closed["counted_cash"] == "549.00"
    assert closed["figures"]["expected_cash"] == "550.00"  # shown to the waiter once closed
    assert closed["closed_by"]["id"] == waiter.id and closed["approved_by"] is None
    assert_problem(till.call("POST", path, manager, {"counted_cash": "1"}, **{"If-Match": '"3"'}), 409,
                   "drawer_session_closed")
    assert_problem(till.call("POST", f"/drawer-sessions/{s['id']}/movements", manager,
                             {"type": "pay_in", "amount": "1", "reason": "x"}), 409, "drawer_session_closed")
    z = till.call("GET", f"/drawer-sessions/{s['id']}/z", waiter, status=200).json
    assert z["location_name"] == till.location.name and z["drawer_name"] == "Caja 1" and z["z_number"] == 1
    assert till.x(manager, s["id"])["figures"] == z["figures"]
    # a second session closes as Z #2 (a manager alone, with a reason above the tolerance)
    s2 = till.open(manager, till.drawer(manager, "Caja 2")["id"], "0")
    closed2 = till.close(manager, s2["id"], "10.00", reason="found a bill")
    assert closed2["z_number"] == 2 and closed2["variance"] == "10.00" and closed2["variance_reason"] == "found a bill"


def test_z_needs_a_closed_session_and_answers_csv_and_text(till, manager, waiter):
    s = till.open(manager, till.drawer(manager)["id"], "100.00")
    assert_problem(till.call("GET", f"/drawer-sessions/{s['id']}/z", manager), 409, "drawer_session_open")
    order = till.order(waiter, 1)
    till.pay(manager, order["id"], "card", "10.00", tip="2.00")  # recorded on her session
    till.close_order(waiter, order["id"], payment_method="cash", tip="1.00")  # 15.00 cash + 1 tip
    till.close(manager, s["id"], "116.00")
    resp = till.call("GET", f"/drawer-sessions/{s['id']}/z?format=csv", waiter, status=200)
    assert resp.mimetype == "text/csv"
    rows = [line.split(",") for line in resp.get_data(as_text=True).strip().splitlines()]
    assert rows[0] == ["field", "value"]
    values = dict(rows[1:])
    assert len(values) == len(rows) - 1  # no name twice (cash_tips appears once)
    assert values["z_number"] == "1" and values["opening_float"] == "100.00"
    assert values["cash_sales"] == "15.00" and values["cash_tips"] == "1.00" and values["expected_cash"] == "116.00"
    assert values["card_amount"] == "10.00" and values["card_tips"] == "2.00" and values["card_payments"] == "1"
    assert values["cash_amount"] == "15.00" and values["counted_cash"] == "116.00" and values["variance"] == "0.00"
    text = till.call("GET", f"/drawer-sessions/{s['id']}/z?format=text", waiter, status=200)
    assert text.mimetype == "text/plain"
    lines = text.get_data(as_text=True).splitlines()
    assert all(len(line) <= 42 for line in lines)
    assert any(line.strip() == "Z #1" for line in lines)
    assert any(line.startswith("Expected cash") and line.endswith("116.00") and len(line) == 42 for line in lines)
    assert_problem(till.call("GET", f"/drawer-sessions/{s['id']}/z?format=pdf", waiter), 422, "validation_error")


def test_refunds_and_cancel_of_a_cash_order(till, manager, waiter):
    order = till.order(waiter, 4)  # 100.00
    till.drawer(manager)
    s = till.open(manager, till.drawer(manager, "Caja 2")["id"], "0")
    closed = till.close_order(waiter, order["id"], payment_method="cash", tip="5.00")
    item_id = closed["items"][0]["id"]
    refunded = till.call("POST", f"/orders/{order['id']}/refunds", manager,
                         {"items": [{"item_id": item_id, "quantity": 1}], "reason": "cold"}, 201).json
    assert refunded["refunds"][0]["drawer_session_id"] == s["id"] and refunded["refunds"][0]["method"] == "cash"
    cancelled = till.call("POST", f"/orders/{order['id']}/cancel", manager, {"reason": "oops"}, 200).json
    assert cancelled["folio"] == closed["folio"] == 1  # never reused
    f = till.x(manager, s["id"])["figures"]
    assert f["cash_refunds"] == "105.00" and f["expected_cash"] == "0.00"  # 25 + 75 + the 5 tip
    assert f["by_method"] == [{"method": "cash", "payments": 1, "amount": "100.00", "tips": "5.00",
                               "refunds": "105.00"}]
    # with no open session, the cancel of a closed cash order is refused and writes nothing
    till.close(manager, s["id"], "0.00")
    other = till.order(waiter, 1)
    s2 = till.open(manager, till.drawer(manager, "Caja 3")["id"], "0")
    till.close_order(waiter, other["id"], payment_method="cash")
    till.close(manager, s2["id"], "25.00")
    assert_problem(till.call("POST", f"/orders/{other['id']}/cancel", manager, {"reason": "x"}), 409,
                   "no_open_drawer_session")
    assert till.call("GET", f"/orders/{other['id']}", manager, status=200).json["status"] == "closed"


def test_folios_gapless_in_closing_order_per_location(till, waiter, manager):
    orders = [till.order(waiter) for _ in range(3)]
    for n, order in enumerate(reversed(orders), start=1):
        closed = till.close_order(waiter, order["id"], payment_method="card")
        assert closed["folio"] == n
        events = till.call("GET", f"/orders/{order['id']}/events", waiter, status=200).json["data"]
        assert events[-1]["type"] == "closed" and events[-1]["data"]["folio"] == n
    assert till.order(waiter)["folio"] is None


def test_day_close(till, manager, waiter, admin, app):
    today = till.call("GET", f"/locations/{till.location.id}", manager, status=200).json  # the location exists
    assert today["variance_tolerance"] == "0.00"
    day = db.session.scalar(select(Order.business_date).limit(1)) if False else utcnow().date()  # UTC location
    path = f"/locations/{till.location.id}/days/{day.isoformat()}"
    assert_problem(till.call("GET", path, manager), 404, "not_found")
    assert_problem(till.call("POST", path + "/close", waiter), 403, "forbidden")
    assert_problem(till.call("POST", f"/locations/{till.location.id}/days/"
                             f"{(day + timedelta(days=1)).isoformat()}/close", manager), 422, "validation_error")
    assert_problem(till.call("POST", f"/locations/{till.location.id}/days/2026-13-01/close", manager), 422,
                   "validation_error")
    s = till.open(manager, till.drawer(manager)["id"], "100.00")
    order = till.order(waiter, 2)
    assert_problem(till.call("POST", path + "/close", manager), 409, "drawer_session_open")
    till.close(manager, s["id"], "100.00")
    assert_problem(till.call("POST", path + "/close", manager), 409, "orders_open")
    s2 = till.open(manager, till.drawer(manager, "Caja 2")["id"], "0")
    till.close_order(waiter, order["id"], payment_method="cash", tip="3.00")
    till.close(manager, s2["id"], "53.00")
    closed = till.call("POST", path + "/close", manager, status=201).json
    assert closed["sessions"] == [1, 2] and closed["orders"] == 1 and closed["gross"] == "50.00"
    assert closed["revenue"] == "50.00" and closed["tips"] == "3.00" and closed["first_folio"] == 1
    assert closed["by_method"] == [{"method": "cash", "payments": 1, "amount": "50.00", "tips": "3.00",
                                    "refunds": "0.00", "net": "53.00"}]
    assert closed["closed_by"]["id"] == manager.id and closed["business_date"] == day.isoformat()
    assert till.call("GET", path, waiter, status=200).json == closed
    assert_problem(till.call("POST", path + "/close", admin), 409, "business_day_closed")
    # no order is created or synced into a closed date
    body = {"customer_name": "x", "items": [{"product_id": till.taco.id, "quantity": 1}]}
    assert_problem(till.call("POST", "/orders", waiter, body), 409, "business_day_closed")
    # the closed day is the answer even for a repeated client_order_id (the INSERT that checks both)
    db.session.execute(update(Order).where(Order.id == order["id"]).values(client_order_id="closed-day-1"))
    db.session.commit()
    repeated = {**body, "client_order_id": "closed-day-1"}
    assert_problem(till.call("POST", "/orders", waiter, repeated), 409, "business_day_closed")
    batch = till.call("POST", "/orders/batch", waiter, {"orders": [{**body, "client_order_id": "b-1"}]}, 200).json
    result = batch["results"][0] if "results" in batch else batch["data"][0]
    assert result["status"] == "rejected" and result["error"]["code"] == "business_day_closed"
    # refunds and cancellations of its orders still land on the day they are made
    s3 = till.open(manager, till.drawer(manager, "Caja 3")["id"], "0")
    till.call("POST", f"/orders/{order['id']}/cancel", manager, {"reason": "late"}, 200)
    assert till.x(manager, s3["id"])["figures"]["cash_refunds"] == "53.00"
    assert db.session.scalar(select(DrawerSession.id).where(DrawerSession.id == s3["id"])) == s3["id"]
    assert cents(closed["gross"]) == 5000


def test_list_sessions(till, manager, waiter):
    a = till.open(waiter, till.drawer(manager)["id"], "10.00")
    b = till.open(manager, till.drawer(manager, "Caja 2")["id"], "0")
    till.close(manager, b["id"], "0.00")
    path = f"/locations/{till.location.id}/drawer-sessions"
    assert [s["id"] for s in till.call("GET", path, manager, status=200).json["data"]] == [b["id"], a["id"]]
    closed = till.call("GET", path + "?status=closed", waiter, status=200).json["data"]
    assert [s["z_number"] for s in closed] == [1]
    mine = till.call("GET", path + "?status=open", waiter, status=200).json["data"]
    assert mine[0]["figures"] is None  # blind
    day = a["opened_at"][:10]
    assert len(till.call("GET", path + f"?business_date={day}", manager, status=200).json["data"]) == 2
    assert_problem(till.call("GET", path + "?status=maybe", manager), 422, "validation_error")


def test_a_bad_approval_token_writes_nothing(till, manager, waiter):
    s = till.open(waiter, till.drawer(manager)["id"], "100.00")
    resp = till.call("POST", f"/drawer-sessions/{s['id']}/movements", waiter,
                     {"type": "pay_out", "amount": "20.00", "reason": "ice"}, **{"X-Approval-Token": "made-up"})
    assert_problem(resp, 403, "approval_invalid")
    resp = till.call("POST", f"/drawer-sessions/{s['id']}/close", waiter, {"counted_cash": "0.00", "reason": "x"},
                     **{"If-Match": '"1"', "X-Approval-Token": "made-up"})
    assert_problem(resp, 403, "approval_invalid")
    x = till.x(manager, s["id"])
    assert x["version"] == 1 and x["status"] == "open" and x["figures"]["pay_out"] == "0.00"


def test_idempotent_posts_replay(till, manager, waiter):
    path = f"/locations/{till.location.id}/drawers"
    first = till.call("POST", path, manager, {"name": "Caja"}, 201, **{"Idempotency-Key": "k1"})
    again = till.call("POST", path, manager, {"name": "Caja"}, 201, **{"Idempotency-Key": "k1"})
    assert again.json == first.json and again.headers.get("Idempotent-Replayed") == "true"
    s = till.open(manager, first.json["id"], "0")
    body = {"type": "pay_in", "amount": "5.00", "reason": "change"}
    one = till.call("POST", f"/drawer-sessions/{s['id']}/movements", manager, body, 201, **{"Idempotency-Key": "m"})
    two = till.call("POST", f"/drawer-sessions/{s['id']}/movements", manager, body, 201, **{"Idempotency-Key": "m"})
    assert one.json["id"] == two.json["id"]
    assert till.x(manager, s["id"])["figures"]["pay_in"] == "5.00"
    assert len(till.call("GET", path, manager, status=200).json["data"]) == 1
