"""Webhooks: CRUD (admins), secrets, URL validation, and delivery by the worker's round to a real receiver
(signatures checked with an independent implementation of the Standard Webhooks spec)."""

from __future__ import annotations

import base64
import threading
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.feed.delivery import TIMEOUT_SECONDS, Outcome, post
from app.feed.worker import Worker
from app.models import FeedEvent, Webhook, WebhookDelivery
from tests.constants import ORDERS
from tests.feed.conftest import WEBHOOKS
from tests.feed.receiver import receiving, verify
from tests.helpers import assert_problem

PUBLIC = "https://93.184.215.14/hook"


@pytest.fixture
def private_ok(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_SCHEDULE", (0.0, 0.0))


def make(client, headers, **body):
    resp = client.post(WEBHOOKS, headers=headers, json={"types": ["order.*"], **body})
    assert resp.status_code == 201, resp.json
    return resp.json


def rounds(n: int = 3) -> None:
    """Run worker rounds until idle (at most `n` busy ones)."""
    worker = Worker()
    for _ in range(n):
        if not worker.run_once():
            return


def test_create_shows_the_secret_once(client, factory, admin):
    boss = factory.headers(admin)
    hook = make(client, boss, url=PUBLIC, description="Accounting")
    assert hook["secret"].startswith("whsec_") and len(base64.b64decode(hook["secret"][6:])) == 24
    assert hook["active"] is True and hook["location_ids"] == [] and hook["description"] == "Accounting"
    got = client.get(f"{WEBHOOKS}/{hook['id']}", headers=boss).json
    assert "secret" not in got and got["url"] == PUBLIC
    listed = client.get(WEBHOOKS, headers=boss).json["data"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    patched = client.patch(f"{WEBHOOKS}/{hook['id']}", headers=boss, json={"types": ["*"], "active": False})
    assert patched.status_code == 200 and patched.json["types"] == ["*"] and "secret" not in patched.json
    rotated = client.post(f"{WEBHOOKS}/{hook['id']}/rotate-secret", headers=boss).json
    assert rotated["secret"] != hook["secret"] and rotated["secret"].startswith("whsec_")
    assert client.delete(f"{WEBHOOKS}/{hook['id']}", headers=boss).status_code == 204
    assert_problem(client.get(f"{WEBHOOKS}/{hook['id']}", headers=boss), 404, "not_found")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8080/x", "http://10.1.2.3/", "http://192.168.0.1/",
    "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://[fe80::1]/",
    "http://100.64.0.1/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://224.0.0.1/",
    "ftp://93.184.215.14/", "93.184.215.14/hook", "https://user:pw@93.184.215.14/", "https:///nohost",
])
def test_non_public_or_malformed_urls_are_422_on_url(client, factory, admin, url):
    body = assert_problem(client.post(WEBHOOKS, headers=factory.headers(admin),
                                      json={"url": url, "types": ["*"]}), 422, "validation_error")
    assert list(body["errors"]) == ["url"]


def test_production_wants_https_unless_private_urls_are_allowed(app, client, factory, admin, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    boss = factory.headers(admin)
    assert_problem(client.post(WEBHOOKS, headers=boss, json={"url": "http://93.184.215.14/", "types": ["*"]}),
                   422, "validation_error")
    make(client, boss, url="https://93.184.215.14/")
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)
    make(client, boss, url="http://127.0.0.1:9/")


@pytest.mark.parametrize(("body", "field"), [
    ({"url": PUBLIC, "types": []}, "types"),
    ({"url": PUBLIC, "types": ["order"]}, "types"),
    ({"url": PUBLIC, "types": ["order.*.*"]}, "types"),
    ({"url": PUBLIC, "types": "order.*"}, "types"),
    ({"url": PUBLIC, "types": ["*"], "location_ids": [999999]}, "location_ids"),
    ({"url": PUBLIC, "types": ["*"], "location_ids": ["1"]}, "location_ids.0"),
    ({"url": PUBLIC, "types": ["*"], "secret": "whsec_x"}, "secret"),
    ({"url": PUBLIC, "types": ["*"], "active": False}, "active"),
    ({"types": ["*"]}, "url"),
    ({"url": 5, "types": ["*"]}, "url"),
])
def test_bad_bodies_are_422_and_write_nothing(client, factory, admin, body, field):
    problem = assert_problem(client.post(WEBHOOKS, headers=factory.headers(admin), json=body), 422, "validation_error")
    assert field in problem["errors"], problem
    assert db.session.scalar(select(Webhook.id)) is None


def test_delivery_is_signed_per_spec_and_carries_the_feed_event(app, client, factory, admin, place, waiter, menu,
                                                               private_ok):
    with receiving() as receiver:
        place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])  # before the webhook: not delivered
        hook = make(client, factory.headers(admin), url=receiver.url)
        order = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
        rounds()
        [got] = receiver.wait_for(1)
    event = db.session.scalar(select(FeedEvent).where(FeedEvent.subject_id == order["id"]))
    assert got.headers["webhook-id"] == f"evt_{event.id}"
    assert got.headers["content-type"] == "application/json"
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 30
    assert verify(hook["secret"], got.headers, got.body)
    assert not verify("whsec_" + base64.b64encode(b"x" * 24).decode(), got.headers, got.body)
    feed = client.get("/api/v1/events", headers=factory.headers(admin)).json["data"]
    assert got.json == feed[-1] and got.json["type"] == "order.created"
    [row] = client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=factory.headers(admin)).json["data"]
    assert row["status"] == "delivered" and row["attempts"] == 1 and row["last_status_code"] == 200
    assert row["event_id"] == event.id and row["event_type"] == "order.created" and row["delivered_at"]


def test_rotation_signs_with_both_secrets(app, client, factory, admin, place, waiter, menu, private_ok):
    with receiving() as receiver:
        boss = factory.headers(admin)
        hook = make(client, boss, url=receiver.url)
        new = client.post(f"{WEBHOOKS}/{hook['id']}/rotate-secret", headers=boss).json["secret"]
        place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
        rounds()
        [got] = receiver.wait_for(1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert verify(hook["secret"], got.headers, got.body) and verify(new, got.headers, got.body)


def test_500_then_200_ends_delivered(client, factory, admin, place, waiter, menu, private_ok):
    answers = iter([500, 200])
    with receiving(lambda r: next(answers)) as receiver:
        hook = make(client, factory.headers(admin), url=receiver.url)
        place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
        rounds(5)
        first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    [row] = client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=factory.headers(admin)).json["data"]
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 2, 200)


def test_failing_receiver_is_tried_one_plus_schedule_times_then_failed_and_manual_retry(
        client, factory, admin, place, waiter, menu, private_ok):
    with receiving(lambda r: 503) as receiver:
        boss = factory.headers(admin)
        hook = make(client, boss, url=receiver.url)
        place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
        rounds(6)
        assert len(receiver.wait_for(3)) == 3
        [row] = client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=boss).json["data"]
        assert (row["status"], row["attempts"], row["last_status_code"]) == ("failed", 3, 503)
        assert client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=boss,
                          query_string={"status": "pending"}).json["data"] == []
        receiver.respond = lambda r: 204
        retried = client.post(f"{WEBHOOKS}/{hook['id']}/deliveries/{row['id']}/retry", headers=boss)
        assert retried.status_code == 202 and retried.json["status"] == "pending"
        rounds()
        assert len(receiver.wait_for(4)) == 4
    [row] = client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=boss).json["data"]
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 4, 204)


def test_410_disables_the_webhook_and_fails_its_pending_deliveries(client, factory, admin, place, waiter, menu,
                                                                    private_ok):
    with receiving(lambda r: 410) as receiver:
        boss = factory.headers(admin)
        hook = make(client, boss, url=receiver.url)
        place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
        place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
        rounds()
        assert len(receiver.wait_for(1)) >= 1
    assert client.get(f"{WEBHOOKS}/{hook['id']}", headers=boss).json["active"] is False
    statuses = {d["status"] for d in client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=boss).json["data"]}
    assert statuses == {"failed"}


def test_ping_goes_whatever_the_types(client, factory, admin, private_ok):
    with receiving() as receiver:
        boss = factory.headers(admin)
        hook = make(client, boss, url=receiver.url, types=["drawer_session.*"])
        ping = client.post(f"{WEBHOOKS}/{hook['id']}/ping", headers=boss)
        assert ping.status_code == 202
        rounds()
        [got] = receiver.wait_for(1)
    assert got.headers["webhook-id"] == f"ping_{ping.json['id']}" and got.json["type"] == "webhook.ping"
    assert verify(hook["secret"], got.headers, got.body)


def test_per_subject_order_waits_for_the_earlier_delivery(app, client, factory, admin, place, waiter, menu,
                                                         private_ok, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_SCHEDULE", (3600.0,))
    failing = set()
    with receiving(lambda r: 500 if r.json["subject"]["id"] in failing else 200) as receiver:
        boss = factory.headers(admin)
        make(client, boss, url=receiver.url)
        first = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
        failing.add(first["id"])
        client.post(f"{ORDERS}/{first['id']}/close", headers=factory.headers(waiter), json={"payment_method": "cash"})
        other = place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
        rounds()
        got = receiver.wait_for(2)
    subjects = sorted((r.json["subject"]["id"], r.json["type"]) for r in got)  # two subjects: sent side by side
    assert subjects == [(first["id"], "order.created"), (other["id"], "order.created")]
    waiting = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_type == "order.closed")).one()
    assert waiting.status == "pending" and waiting.attempts == 0


def test_a_receiver_hanging_past_10_seconds_is_retried(client, factory, admin, place, waiter, menu, private_ok):
    calls = []

    def respond(received):
        calls.append(received)
        if len(calls) == 1:
            time.sleep(11)
        return 200

    with receiving(respond) as receiver:
        hook = make(client, factory.headers(admin), url=receiver.url)
        place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
        rounds(4)
        first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    [row] = client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=factory.headers(admin)).json["data"]
    assert row["status"] == "delivered" and row["attempts"] == 2


def test_an_answer_later_than_the_timeout_is_no_answer():
    """The timeout itself, shortened (the real 10 s is the slow test above): a receiver that has not
    answered when it runs out is no answer, and the attempt ends there instead of waiting for it."""
    assert TIMEOUT_SECONDS == 10.0
    release, released = threading.Event(), []

    def respond(received):
        released.append(release.wait(10))  # False: nobody released it, it waited its 10 s out
        return 200

    with receiving(respond) as receiver:
        outcome = post(receiver.url, "{}", {"Content-Type": "application/json"}, private_ok=True, timeout=0.3)
        release.set()  # only once post() has given up
    assert outcome == Outcome(None, "no answer within 0.3 s")
    assert released == [True]  # post() returned while the receiver was still holding its answer


def test_delivery_time_check_refuses_a_name_that_now_resolves_privately(app, client, factory, admin, place, waiter,
                                                                        menu, private_ok, monkeypatch):
    with receiving() as receiver:
        hook = make(client, factory.headers(admin), url=receiver.url)
        monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)  # as if the name was rebound
        place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])
        rounds(1)
        assert receiver.requests == []
    [row] = client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=factory.headers(admin)).json["data"]
    assert row["attempts"] == 1 and row["last_error"].startswith("refused") and row["last_status_code"] is None


def test_webhooks_are_for_admins_only(client, factory, manager):
    assert_problem(client.get(WEBHOOKS, headers=factory.headers(manager)), 403, "forbidden")


def test_location_ids_and_reactivation_choose_what_is_delivered(client, factory, admin, place, waiter, menu, away,
                                                                private_ok):
    with receiving() as receiver:
        boss = factory.headers(admin)
        hook = make(client, boss, url=receiver.url, location_ids=[away.id])
        place(waiter, [{"product_id": menu["taco"].id, "quantity": 1}])  # the default location: not delivered
        wanted = place(admin, [{"product_id": menu["taco"].id, "quantity": 1}], location_id=away.id)
        rounds()
        [got] = receiver.wait_for(1)
        assert got.json["subject"]["id"] == wanted["id"]
        client.patch(f"{WEBHOOKS}/{hook['id']}", headers=boss, json={"active": False})
        place(admin, [{"product_id": menu["taco"].id, "quantity": 1}], location_id=away.id)  # while inactive
        rounds()
        client.patch(f"{WEBHOOKS}/{hook['id']}", headers=boss, json={"active": True})
        later = place(admin, [{"product_id": menu["taco"].id, "quantity": 1}], location_id=away.id)
        rounds()
        got = receiver.wait_for(2)
    assert [r.json["subject"]["id"] for r in got] == [wanted["id"], later["id"]]
    assert client.delete(f"{WEBHOOKS}/{hook['id']}", headers=boss).status_code == 204
    assert db.session.scalar(select(WebhookDelivery.id)) is None


def test_delivery_log_bad_input_and_unknown_ids(client, factory, admin):
    boss = factory.headers(admin)
    hook = make(client, boss, url=PUBLIC)
    assert_problem(client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=boss,
                              query_string={"status": "lost"}), 422, "validation_error")
    assert_problem(client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=boss,
                              query_string={"cursor": "zz"}), 400, "invalid_cursor")
    assert_problem(client.post(f"{WEBHOOKS}/{hook['id']}/deliveries/999999/retry", headers=boss), 404, "not_found")
    assert_problem(client.post(f"{WEBHOOKS}/999999/ping", headers=boss), 404, "not_found")
    assert_problem(client.patch(f"{WEBHOOKS}/{hook['id']}", headers=boss, json={"active": "yes"}),
                   422, "validation_error")
    assert_problem(client.patch(f"{WEBHOOKS}/{hook['id']}", headers=boss, json={"secret": "whsec_x"}),
                   422, "validation_error")
