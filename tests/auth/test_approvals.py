"""Manager approvals (API.md v1.2 "Manager approvals"): PINs, POST /auth/approvals, X-Approval-Token on
discounts, refunds and the cancel of a closed order, and the token's single use under concurrency."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.auth import approvals
from app.columns import utcnow
from app.extensions import db
from app.models import ApprovalToken, Location, User
from tests.constants import API, ME, ORDERS, PASSWORD, USERS
from tests.helpers import all_at_once, assert_problem, http_json, serving

APPROVALS = f"{API}/auth/approvals"
MY_PIN = f"{ME}/pin"
PIN = "4821"


@pytest.fixture
def admin(factory):
    return factory.make_user("admin", name="Alma")


@pytest.fixture
def manager(factory, client, admin):
    user = factory.make_user("manager", name="Marta")
    resp = client.patch(f"{USERS}/{user.id}", json={"pin": PIN}, headers=factory.headers(admin))
    assert resp.status_code == 200 and resp.json["has_pin"] is True
    return user


@pytest.fixture
def waiter(factory):
    return factory.make_user("waiter", name="Luis")


@pytest.fixture
def taco(factory):
    return factory.make_product("Taco", "25.00")


def place(client, factory, user, taco, quantity=4):
    resp = client.post(ORDERS, json={"customer_name": "Ana", "items": [{"product_id": taco.id, "quantity": quantity}]},
                       headers=factory.headers(user))
    assert resp.status_code == 201, resp.json
    return resp.json


def ask(client, factory, caller, approver_id, action="discount", pin=PIN, **body):
    return client.post(APPROVALS, json={"approver_id": approver_id, "pin": pin, "action": action, **body},
                       headers=factory.headers(caller))


def token_for(client, factory, caller, approver, action="discount", **body) -> str:
    resp = ask(client, factory, caller, approver.id, action, **body)
    assert resp.status_code == 201, resp.json
    return resp.json["approval_token"]


# -- PINs ------------------------------------------------------------------------------------------------


def test_admin_sets_and_clears_a_pin_never_answered(client, factory, admin, manager):
    got = client.get(f"{USERS}/{manager.id}", headers=factory.headers(admin)).json
    assert got["has_pin"] is True and "pin" not in got and "pin_hash" not in got
    db.session.expire_all()
    stored = db.session.get(User, manager.id).pin_hash
    assert stored.startswith("$argon2id$") and PIN not in stored
    resp = client.patch(f"{USERS}/{manager.id}", json={"pin": None}, headers=factory.headers(admin))
    assert resp.status_code == 200 and resp.json["has_pin"] is False


@pytest.mark.parametrize("pin", [4821, "482", "123456789", "48 21", "４８２１", "٤٨٢١", "48a1", "", True, ["4821"],
                                 "48\x0021"])
def test_a_pin_is_four_to_eight_ascii_digits_as_a_string(client, factory, admin, manager, pin):
    resp = client.patch(f"{USERS}/{manager.id}", json={"pin": pin}, headers=factory.headers(admin))
    assert "pin" in assert_problem(resp, 422, "validation_error")["errors"]


def test_a_waiter_cannot_have_a_pin(client, factory, admin, waiter):
    resp = client.patch(f"{USERS}/{waiter.id}", json={"pin": "1234"}, headers=factory.headers(admin))
    assert "pin" in assert_problem(resp, 422, "validation_error")["errors"]
    resp = client.put(MY_PIN, json={"current_password": PASSWORD, "pin": "1234"}, headers=factory.headers(waiter))
    assert "pin" in assert_problem(resp, 422, "validation_error")["errors"]
    assert db.session.get(User, waiter.id).pin_hash is None


def test_demoting_a_manager_to_waiter_drops_the_pin(client, factory, admin, manager):
    resp = client.patch(f"{USERS}/{manager.id}", json={"role": "waiter"}, headers=factory.headers(admin))
    assert resp.status_code == 200 and resp.json["has_pin"] is False


def test_own_pin_needs_the_current_password(client, factory, admin):
    boss = factory.make_user("manager")
    resp = client.put(MY_PIN, json={"current_password": "nope nope", "pin": "123456"}, headers=factory.headers(boss))
    assert "current_password" in assert_problem(resp, 422, "validation_error")["errors"]
    assert client.get(ME, headers=factory.headers(boss)).json["has_pin"] is False
    resp = client.put(MY_PIN, json={"current_password": PASSWORD, "pin": "123456"}, headers=factory.headers(boss))
    assert resp.status_code == 204 and resp.get_data() == b""
    assert client.get(ME, headers=factory.headers(boss)).json["has_pin"] is True
    resp = client.put(MY_PIN, json={"current_password": PASSWORD, "pin": None}, headers=factory.headers(boss))
    assert resp.status_code == 204
    assert client.get(ME, headers=factory.headers(boss)).json["has_pin"] is False


@pytest.mark.parametrize("body", [{"pin": "1234"}, {"current_password": PASSWORD}, {"current_password": PASSWORD,
                                  "pin": "1234", "extra": 1}, {"current_password": 5, "pin": "1234"}])
def test_own_pin_bad_bodies(client, factory, body):
    boss = factory.make_user("manager")
    assert_problem(client.put(MY_PIN, json=body, headers=factory.headers(boss)), 422, "validation_error")
    assert db.session.get(User, boss.id).pin_hash is None


# -- asking for a token ----------------------------------------------------------------------------------


def test_a_token_answer(client, factory, manager, waiter, taco):
    order = place(client, factory, waiter, taco)
    resp = ask(client, factory, waiter, manager.id, "discount", order_id=order["id"], max_amount="20.00")
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert set(body) == {"approval_token", "action", "approver", "order_id", "drawer_session_id", "max_amount",
                         "expires_at"}
    assert body["approver"] == {"id": manager.id, "name": "Marta"}
    assert (body["action"], body["order_id"], body["drawer_session_id"], body["max_amount"]) == \
        ("discount", order["id"], None, "20.00")
    row = db.session.scalar(select(ApprovalToken))
    assert row.token_hash == approvals.digest(body["approval_token"]) and body["approval_token"] not in row.token_hash
    lifetime = row.expires_at - row.created_at
    assert timedelta(seconds=119) <= lifetime <= timedelta(seconds=121)


def test_denied_alike_for_wrong_pin_non_approver_unknown_or_foreign_approver(client, factory, admin, manager,
                                                                             waiter, taco):
    order = place(client, factory, waiter, taco)
    no_pin = factory.make_user("manager")
    away = Location(name="Away", timezone="UTC", day_starts_at="00:00")
    db.session.add(away)
    db.session.commit()
    foreign = factory.make_user("manager")
    client.patch(f"{USERS}/{foreign.id}", json={"pin": PIN, "location_ids": [away.id]}, headers=factory.headers(admin))
    inactive = factory.make_user("manager")
    client.patch(f"{USERS}/{inactive.id}", json={"pin": PIN, "active": False}, headers=factory.headers(admin))
    bodies = []
    for approver_id, pin in ((manager.id, "0000"), (waiter.id, PIN), (no_pin.id, PIN), (999999, PIN),
                             (foreign.id, PIN), (inactive.id, PIN)):
        resp = ask(client, factory, waiter, approver_id, order_id=order["id"], pin=pin)
        body = assert_problem(resp, 403, "approval_denied")
        bodies.append({k: body.get(k) for k in ("type", "title", "status", "code", "detail", "errors")})
    assert all(body == bodies[0] for body in bodies)
    assert db.session.scalar(select(ApprovalToken)) is None


def test_an_admin_approves_anywhere(client, factory, admin, waiter, taco):
    client.patch(f"{USERS}/{admin.id}", json={"pin": "87654321"}, headers=factory.headers(admin))
    order = place(client, factory, waiter, taco)
    resp = ask(client, factory, waiter, admin.id, order_id=order["id"], pin="87654321")
    assert resp.status_code == 201


def test_an_order_the_caller_may_not_see_is_404(client, factory, manager, waiter, taco):
    theirs = place(client, factory, factory.make_user("waiter"), taco)
    assert_problem(ask(client, factory, waiter, manager.id, order_id=theirs["id"]), 404, "not_found")
    assert_problem(ask(client, factory, waiter, manager.id, order_id=123456), 404, "not_found")
    # no drawer sessions exist on this branch: any session id is unknown
    assert_problem(ask(client, factory, waiter, manager.id, "pay_out", drawer_session_id=1), 404, "not_found")


@pytest.mark.parametrize("body,field", [
    ({"action": "discount"}, "order_id"),
    ({"action": "pay_out"}, "drawer_session_id"),
    ({"action": "discount", "order_id": 1, "drawer_session_id": 1}, "drawer_session_id"),
    ({"action": "dance", "order_id": 1}, "action"),
    ({"action": "discount", "order_id": "1"}, "order_id"),
    ({"action": "discount", "order_id": 2**63}, "order_id"),  # beyond a 64-bit id
    ({"action": "discount", "order_id": 1, "max_amount": "1e400"}, "max_amount"),
    ({"action": "discount", "order_id": 1, "max_amount": "-1"}, "max_amount"),
    ({"action": "discount", "order_id": 1, "surprise": True}, "surprise"),
    ({"action": "discount\x00", "order_id": 1}, "action"),
])
def test_bad_approval_bodies(client, factory, manager, waiter, body, field):
    resp = client.post(APPROVALS, json={"approver_id": manager.id, "pin": PIN, **body}, headers=factory.headers(waiter))
    assert field in assert_problem(resp, 422, "validation_error")["errors"]


def test_failed_pins_are_throttled_per_approver_like_logins(client, factory, manager, waiter, taco):
    order = place(client, factory, waiter, taco)
    for _ in range(5):
        assert_problem(ask(client, factory, waiter, manager.id, order_id=order["id"], pin="0000"), 403,
                       "approval_denied")
    resp = ask(client, factory, waiter, manager.id, order_id=order["id"], pin="0000")
    assert_problem(resp, 429, "rate_limited")
    assert int(resp.headers["Retry-After"]) >= 1
    assert_problem(ask(client, factory, waiter, manager.id, order_id=order["id"]), 429, "rate_limited")
    # another approver is not held back
    other = factory.make_user("manager")
    client.patch(f"{USERS}/{other.id}", json={"pin": "1111"}, headers=factory.headers(factory.make_user("admin")))
    assert ask(client, factory, waiter, other.id, order_id=order["id"], pin="1111").status_code == 201


# -- using a token ---------------------------------------------------------------------------------------


def discount(client, factory, user, order_id, token=None, **body):
    headers = factory.headers(user, **({"X-Approval-Token": token} if token else {}))
    return client.post(f"{ORDERS}/{order_id}/discounts", json={"percent": "10", "reason": "Regular", **body},
                       headers=headers)


def test_a_waiter_discounts_with_a_token_once_and_the_event_names_the_approver(client, factory, manager, waiter,
                                                                              taco):
    order = place(client, factory, waiter, taco)
    assert_problem(discount(client, factory, waiter, order["id"]), 403, "forbidden")
    token = token_for(client, factory, waiter, manager, order_id=order["id"], max_amount="10.00")
    resp = discount(client, factory, waiter, order["id"], token)
    assert resp.status_code == 201, resp.json
    assert resp.json["discount_total"] == "10.00" and resp.json["version"] == 2
    assert_problem(discount(client, factory, waiter, order["id"], token), 403, "approval_invalid")
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=factory.headers(waiter)).json["data"]
    assert [e["type"] for e in events] == ["created", "discount_added"]
    assert events[0]["approved_by"] is None
    assert events[1]["approved_by"] == {"id": manager.id, "name": "Marta"}
    assert events[1]["actor"]["id"] == waiter.id


def test_a_manager_acting_directly_needs_no_token(client, factory, manager, waiter, taco):
    order = place(client, factory, waiter, taco)
    assert discount(client, factory, manager, order["id"]).status_code == 201
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=factory.headers(manager)).json["data"]
    assert events[-1]["approved_by"] is None


def test_mismatched_tokens_are_invalid_and_stay_usable(client, factory, manager, waiter, taco):
    first, second = place(client, factory, waiter, taco), place(client, factory, waiter, taco)
    token = token_for(client, factory, waiter, manager, order_id=first["id"], max_amount="5.00")
    # another order, a larger amount, an unknown token: 403 approval_invalid, nothing written
    assert_problem(discount(client, factory, waiter, second["id"], token), 403, "approval_invalid")
    assert_problem(discount(client, factory, waiter, first["id"], token), 403, "approval_invalid")  # 10.00 > 5.00
    assert_problem(discount(client, factory, waiter, first["id"], "not-a-token"), 403, "approval_invalid")
    # a request refused for another reason leaves it usable
    resp = discount(client, factory, waiter, first["id"], token, item_id=999999)
    assert_problem(resp, 422, "validation_error")
    got = client.get(f"{ORDERS}/{first['id']}", headers=factory.headers(waiter)).json
    assert got["version"] == 1 and got["discounts"] == []
    assert discount(client, factory, waiter, first["id"], token, percent="5").status_code == 201  # 5.00 <= 5.00


def test_a_token_for_another_action_is_invalid(client, factory, manager, waiter, taco):
    order = place(client, factory, waiter, taco)
    token = token_for(client, factory, waiter, manager, "refund", order_id=order["id"])
    assert_problem(discount(client, factory, waiter, order["id"], token), 403, "approval_invalid")


def test_an_expired_token_is_invalid(client, factory, manager, waiter, taco):
    order = place(client, factory, waiter, taco)
    token = token_for(client, factory, waiter, manager, order_id=order["id"])
    db.session.execute(update(ApprovalToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert_problem(discount(client, factory, waiter, order["id"], token), 403, "approval_invalid")


def test_a_token_dies_with_its_approvers_rights(client, factory, admin, manager, waiter, taco):
    order = place(client, factory, waiter, taco)
    token = token_for(client, factory, waiter, manager, order_id=order["id"])
    client.patch(f"{USERS}/{manager.id}", json={"active": False}, headers=factory.headers(admin))
    assert_problem(discount(client, factory, waiter, order["id"], token), 403, "approval_invalid")


def test_the_token_is_not_tied_to_who_asked(client, factory, manager, waiter, taco):
    order = place(client, factory, waiter, taco)
    token = token_for(client, factory, manager, manager, order_id=order["id"])
    assert discount(client, factory, waiter, order["id"], token).status_code == 201


def test_removing_a_discount_with_a_token(client, factory, manager, waiter, taco):
    order = place(client, factory, waiter, taco)
    added = discount(client, factory, manager, order["id"]).json
    did = added["discounts"][0]["id"]
    url = f"{ORDERS}/{order['id']}/discounts/{did}"
    assert_problem(client.delete(url, headers=factory.headers(waiter)), 403, "forbidden")
    token = token_for(client, factory, waiter, manager, order_id=order["id"])
    resp = client.delete(url, headers=factory.headers(waiter, **{"X-Approval-Token": token}))
    assert resp.status_code == 200 and resp.json["discount_total"] == "0.00"


def close(client, factory, user, order_id):
    resp = client.post(f"{ORDERS}/{order_id}/close", json={"payment_method": "cash"}, headers=factory.headers(user))
    assert resp.status_code == 200, resp.json


def test_a_waiter_refunds_with_a_token_bounded_by_max_amount(client, factory, manager, waiter, taco):
    order = place(client, factory, waiter, taco)
    close(client, factory, waiter, order["id"])
    item_id = order["items"][0]["id"]
    url = f"{ORDERS}/{order['id']}/refunds"

    def refund(quantity, token=None):
        return client.post(url, json={"items": [{"item_id": item_id, "quantity": quantity}], "reason": "Cold"},
                           headers=factory.headers(waiter, **({"X-Approval-Token": token} if token else {})))

    assert_problem(refund(1), 403, "forbidden")
    token = token_for(client, factory, waiter, manager, "refund", order_id=order["id"], max_amount="25.00")
    assert_problem(refund(2, token), 403, "approval_invalid")  # 50.00 > 25.00
    resp = refund(1, token)
    assert resp.status_code == 201 and resp.json["refund_total"] == "25.00"
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=factory.headers(waiter)).json["data"]
    assert events[-1]["type"] == "refunded" and events[-1]["approved_by"]["id"] == manager.id


def test_a_waiter_cancels_a_closed_order_with_a_token(client, factory, manager, waiter, taco):
    order = place(client, factory, waiter, taco)
    close(client, factory, waiter, order["id"])
    url = f"{ORDERS}/{order['id']}/cancel"
    assert_problem(client.post(url, json={"reason": "Wrong table"}, headers=factory.headers(waiter)), 403, "forbidden")
    token = token_for(client, factory, waiter, manager, "cancel_closed_order", order_id=order["id"])
    approved = factory.headers(waiter, **{"X-Approval-Token": token})
    resp = client.post(url, json={"reason": "Wrong table"}, headers=approved)
    assert resp.status_code == 200 and resp.json["status"] == "cancelled"
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=factory.headers(waiter)).json["data"]
    assert events[-1]["type"] == "cancelled" and events[-1]["approved_by"]["id"] == manager.id


def test_a_token_lets_a_waiter_act_only_on_orders_they_see(client, factory, manager, waiter, taco):
    theirs = place(client, factory, factory.make_user("waiter"), taco)
    token = token_for(client, factory, manager, manager, order_id=theirs["id"])
    assert_problem(discount(client, factory, waiter, theirs["id"], token), 404, "not_found")


# -- single use under concurrency (PostgreSQL, real threads over HTTP) -----------------------------------


def test_twenty_concurrent_uses_of_one_token_exactly_one_succeeds(app, postgres_only, client, factory, manager,
                                                                    waiter, taco):
    order = place(client, factory, waiter, taco)
    token = token_for(client, factory, waiter, manager, order_id=order["id"])
    headers = factory.headers(waiter, **{"X-Approval-Token": token})
    body = {"percent": "1", "reason": "Race"}
    with serving(app) as server:
        port = server.port
        calls = [lambda: http_json(port, "POST", f"{ORDERS}/{order['id']}/discounts", body, headers)[0]] * 20
        counts = Counter(all_at_once(calls))
    assert counts == Counter({201: 1, 403: 19})
    db.session.expire_all()
    got = client.get(f"{ORDERS}/{order['id']}", headers=factory.headers(waiter)).json
    assert got["version"] == 2 and len(got["discounts"]) == 1


def test_twenty_concurrent_use_token_calls_in_separate_transactions(app, postgres_only, client, factory, manager,
                                                                      waiter, taco):
    """The conditional UPDATE alone (no order row lock in front of it) gives exactly one success."""
    order = place(client, factory, waiter, taco)
    token = token_for(client, factory, waiter, manager, order_id=order["id"])
    location_id = order["location_id"]

    def use():
        with app.app_context():
            try:
                approvals.use_token(token, "discount", location_id=location_id, order_id=order["id"],
                                    drawer_session_id=None, amount_cents=100)
                db.session.commit()
                return "used"
            except approvals.ApprovalInvalid:
                db.session.rollback()
                return "invalid"
            finally:
                db.session.remove()

    assert Counter(all_at_once([use] * 20)) == Counter({"used": 1, "invalid": 19})
