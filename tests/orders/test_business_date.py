"""business_date: the local date of created_at with the day starting at BUSINESS_DAY_STARTS_AT, stored once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.business_time import business_date, local_hour, today
from app.extensions import db
from app.models import Order
from tests.conftest import set_business_clock
from tests.constants import ORDERS
from tests.helpers import assert_problem


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def business_config(app):
    """Set BUSINESS_TIMEZONE / BUSINESS_DAY_STARTS_AT for one test; the session-scoped app gets them back."""
    keys = ("BUSINESS_TIMEZONE", "BUSINESS_DAY_STARTS_AT")
    saved = {key: app.config[key] for key in keys}

    def configure(timezone: str, starts_at: str) -> None:
        set_business_clock(app, timezone, starts_at)  # v1.1: the default location's clock too

    try:
        yield configure
    finally:
        app.config.update(saved)


@pytest.fixture
def waiter_headers(factory):
    return factory.headers(factory.make_user("waiter"))


@pytest.fixture
def product(factory):
    return factory.make_product(price="10.00")


@pytest.fixture
def at(monkeypatch):
    """Freeze the clock that POST /orders stamps created_at with."""

    def freeze(moment: datetime) -> None:
        monkeypatch.setattr("app.orders.services.utcnow", lambda: moment)

    return freeze


def create(client, headers, product, **extra):
    resp = client.post(ORDERS, json={"customer_name": "Ana", "items": [{"product_id": product.id, "quantity": 1}],
                                           **extra}, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json


# --- the function itself ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "tz", "starts", "expected"),
    [
        # UTC, midnight start
        ("2026-11-21T00:00:00", "UTC", "00:00", "2026-11-21"),
        ("2026-11-21T23:59:59", "UTC", "00:00", "2026-11-21"),
        # the cutoff: 01:30 local with a 04:00 start is the previous day; 04:00 exactly is the same day
        ("2026-11-21T01:30:00", "UTC", "04:00", "2026-11-20"),
        ("2026-11-21T03:59:59", "UTC", "04:00", "2026-11-20"),
        ("2026-11-21T04:00:00", "UTC", "04:00", "2026-11-21"),
        # Mexico City is UTC-6 all year: 01:30 local = 07:30Z
        ("2026-11-21T07:30:00", "America/Mexico_City", "04:00", "2026-11-20"),
        ("2026-11-21T09:59:59", "America/Mexico_City", "04:00", "2026-11-20"),
        ("2026-11-21T10:00:00", "America/Mexico_City", "04:00", "2026-11-21"),
        ("2026-11-22T05:59:59", "America/Mexico_City", "00:00", "2026-11-21"),  # 23:59:59 local
        ("2026-11-22T06:00:00", "America/Mexico_City", "00:00", "2026-11-22"),
        # New York springs forward on 2026-03-08: 02:00 EST -> 03:00 EDT at 07:00Z
        ("2026-03-08T06:59:59", "America/New_York", "04:00", "2026-03-07"),  # 01:59:59 EST
        ("2026-03-08T07:00:00", "America/New_York", "04:00", "2026-03-07"),  # 03:00 EDT
        ("2026-03-08T07:59:59", "America/New_York", "04:00", "2026-03-07"),  # 03:59:59 EDT
        ("2026-03-08T08:00:00", "America/New_York", "04:00", "2026-03-08"),  # 04:00 EDT
        ("2026-03-08T04:59:59", "America/New_York", "00:00", "2026-03-07"),  # 23:59:59 EST
        ("2026-03-08T05:00:00", "America/New_York", "00:00", "2026-03-08"),
        # a day start inside the skipped hour begins when the clock jumps past it
        ("2026-03-08T06:59:59", "America/New_York", "02:30", "2026-03-07"),
        ("2026-03-08T07:00:00", "America/New_York", "02:30", "2026-03-08"),
        # New York falls back on 2026-11-01: 02:00 EDT -> 01:00 EST at 06:00Z; 01:30 happens twice
        ("2026-11-01T05:30:00", "America/New_York", "04:00", "2026-10-31"),  # 01:30 EDT
        ("2026-11-01T06:30:00", "America/New_York", "04:00", "2026-10-31"),  # 01:30 EST
        ("2026-11-01T08:59:59", "America/New_York", "04:00", "2026-10-31"),  # 03:59:59 EST (9 h after 04:00 EDT)
        ("2026-11-01T09:00:00", "America/New_York", "04:00", "2026-11-01"),  # 04:00 EST
        ("2026-11-02T08:59:59", "America/New_York", "04:00", "2026-11-01"),
        ("2026-11-02T09:00:00", "America/New_York", "04:00", "2026-11-02"),
        # Madrid: 2026-03-29 02:00 CET -> 03:00 CEST at 01:00Z; 2026-10-25 03:00 CEST -> 02:00 CET at 01:00Z
        ("2026-03-29T01:59:59", "Europe/Madrid", "04:00", "2026-03-28"),  # 03:59:59 CEST
        ("2026-03-29T02:00:00", "Europe/Madrid", "04:00", "2026-03-29"),  # 04:00 CEST
        ("2026-03-28T02:59:59", "Europe/Madrid", "04:00", "2026-03-27"),  # 03:59:59 CET the day before
        ("2026-10-25T02:59:59", "Europe/Madrid", "04:00", "2026-10-24"),  # 03:59:59 CET
        ("2026-10-25T03:00:00", "Europe/Madrid", "04:00", "2026-10-25"),  # 04:00 CET
        ("2026-10-24T22:00:00", "Europe/Madrid", "00:00", "2026-10-25"),  # 00:00 CEST
        ("2026-10-24T21:59:59", "Europe/Madrid", "00:00", "2026-10-24"),
    ],
)
def test_business_date_function(moment, tz, starts, expected):
    assert business_date(utc(moment), tz, starts) == date.fromisoformat(expected)


def test_business_date_reads_the_config(app, business_config):
    business_config("America/Mexico_City", "04:00")
    assert business_date(utc("2026-11-21T07:30:00")) == date(2026, 11, 20)
    assert local_hour(utc("2026-11-21T07:30:00")) == datetime(2026, 11, 21, 1, 0)
    business_config("UTC", "00:00")
    assert business_date(utc("2026-11-21T07:30:00")) == date(2026, 11, 21)


@pytest.mark.parametrize(
    ("tz", "starts", "day"),
    [("America/New_York", "04:00", date(2026, 3, 8)), ("America/New_York", "04:00", date(2026, 11, 1)),
     ("Europe/Madrid", "04:00", date(2026, 3, 29)), ("Europe/Madrid", "00:00", date(2026, 10, 25)),
     ("America/Mexico_City", "04:00", date(2026, 4, 5))],
)
def test_business_date_never_goes_backwards_across_a_dst_day(tz, starts, day):
    """Minute by minute over 3 days around the change: dates only step forward, by one day at a time."""
    moment = datetime.combine(day - timedelta(days=1), time(0), tzinfo=UTC)
    previous = business_date(moment, tz, starts)
    for _ in range(3 * 24 * 60):
        moment += timedelta(minutes=1)
        current = business_date(moment, tz, starts)
        assert current - previous in (timedelta(0), timedelta(days=1)), moment
        previous = current


def test_day_start_inside_the_repeated_hour_is_monotonic():
    # New York 2026-11-01: 01:00-02:00 happens twice. With a 01:30 start the business day 11-01 begins at
    # the first 01:30 (05:30Z); 01:10 EST (06:10Z) comes 40 minutes later and must not fall back to 10-31.
    assert business_date(utc("2026-11-01T05:30:00"), "America/New_York", "01:30") == date(2026, 11, 1)
    assert business_date(utc("2026-11-01T06:10:00"), "America/New_York", "01:30") == date(2026, 11, 1)


# --- through the API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "tz", "starts", "expected"),
    [
        ("2026-11-21T07:30:00", "America/Mexico_City", "04:00", "2026-11-20"),
        ("2026-11-21T10:00:00", "America/Mexico_City", "04:00", "2026-11-21"),
        ("2026-03-08T07:30:00", "America/New_York", "04:00", "2026-03-07"),
        ("2026-03-08T08:00:00", "America/New_York", "04:00", "2026-03-08"),
        ("2026-11-01T06:30:00", "America/New_York", "04:00", "2026-10-31"),
        ("2026-10-25T03:00:00", "Europe/Madrid", "04:00", "2026-10-25"),
    ],
)
def test_create_stamps_business_date(client, business_config, at, waiter_headers, product, moment, tz, starts,
                                     expected):
    business_config(tz, starts)
    at(utc(moment))
    order = create(client, waiter_headers, product)
    assert order["created_at"] == f"{moment}Z"
    assert order["business_date"] == expected
    assert client.get(f"{ORDERS}/{order['id']}", headers=waiter_headers).json["business_date"] == expected
    db.session.rollback()
    stored = db.session.scalar(select(Order.business_date).where(Order.id == order["id"]))
    assert stored == date.fromisoformat(expected)


def test_business_date_is_stored_not_recomputed(client, business_config, at, waiter_headers, product):
    business_config("America/Mexico_City", "04:00")
    at(utc("2026-11-21T07:30:00"))  # 01:30 local: business day 11-20, UTC date 11-21
    order = create(client, waiter_headers, product)
    business_config("Asia/Tokyo", "00:00")  # a later configuration change never rewrites stored dates
    assert client.get(f"{ORDERS}/{order['id']}", headers=waiter_headers).json["business_date"] == "2026-11-20"
    listed = client.get(f"{ORDERS}?start_date=2026-11-20&end_date=2026-11-20", headers=waiter_headers).json
    assert [o["id"] for o in listed["data"]] == [order["id"]]
    assert client.get(f"{ORDERS}?start_date=2026-11-21", headers=waiter_headers).json["data"] == []


def local_moment(tz: str, day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@pytest.mark.parametrize("offset_form", [False, True])
def test_batch_created_at_in_the_past_sets_business_date(client, business_config, waiter_headers, product,
                                                          offset_form):
    tz = "America/Mexico_City"
    business_config(tz, "04:00")
    day = datetime.now(UTC).astimezone(ZoneInfo(tz)).date() - timedelta(days=2)
    cases = {  # local wall clock on `day` -> business date
        "before-cutoff": (time(1, 30), day - timedelta(days=1)),
        "just-before": (time(3, 59, 59), day - timedelta(days=1)),
        "at-cutoff": (time(4, 0), day),
        "evening": (time(23, 0), day),
    }
    orders = []
    for cid, (clock, _) in cases.items():
        moment = local_moment(tz, day, clock)
        created_at = (moment.astimezone(ZoneInfo(tz)).isoformat() if offset_form
                      else moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
        orders.append({"client_order_id": cid, "customer_name": "Ana", "created_at": created_at,
                       "items": [{"product_id": product.id, "quantity": 1}]})
    before = today()
    orders.append({"client_order_id": "now", "customer_name": "Ana",
                   "items": [{"product_id": product.id, "quantity": 1}]})

    resp = client.post(f"{ORDERS}/batch", json={"orders": orders}, headers=waiter_headers)

    after = today()
    assert resp.status_code == 200
    results = resp.json["results"]
    assert [r["status"] for r in results] == ["created"] * 5, results
    for result in results:
        got = client.get(f"{ORDERS}/{result['id']}", headers=waiter_headers).json
        if result["client_order_id"] == "now":
            assert got["business_date"] in (before.isoformat(), after.isoformat())
            continue
        clock, expected = cases[result["client_order_id"]]
        assert got["business_date"] == expected.isoformat(), result["client_order_id"]
        assert got["created_at"] == local_moment(tz, day, clock).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_list_filters_on_business_date_inclusively(client, business_config, at, waiter_headers, product):
    business_config("America/New_York", "04:00")
    ids: dict[str, int] = {}
    # Around the spring-forward: 03:30 EDT on 03-08 (07:30Z) is still business day 03-07.
    for label, moment in {
        "d06": "2026-03-06T15:00:00",
        "d07": "2026-03-07T20:00:00",
        "d07-late": "2026-03-08T07:30:00",
        "d08": "2026-03-08T08:00:00",
        "d09": "2026-03-09T16:00:00",
    }.items():
        at(utc(moment))
        ids[label] = create(client, waiter_headers, product)["id"]

    def listed(query: str) -> set[int]:
        resp = client.get(f"{ORDERS}?{query}", headers=waiter_headers)
        assert resp.status_code == 200, resp.json
        return {o["id"] for o in resp.json["data"]}

    assert listed("start_date=2026-03-07&end_date=2026-03-07") == {ids["d07"], ids["d07-late"]}
    assert listed("start_date=2026-03-08&end_date=2026-03-08") == {ids["d08"]}
    assert listed("start_date=2026-03-07&end_date=2026-03-08") == {ids["d07"], ids["d07-late"], ids["d08"]}
    assert listed("start_date=2026-03-08") == {ids["d08"], ids["d09"]}
    assert listed("end_date=2026-03-06") == {ids["d06"]}
    assert listed("start_date=2026-03-10") == set()
    assert listed("start_date=2026-03-01&end_date=2026-03-31") == set(ids.values())
    backwards = client.get(f"{ORDERS}?start_date=2026-03-09&end_date=2026-03-07", headers=waiter_headers)
    assert_problem(backwards, 422, "validation_error")  # API.md: start_date > end_date is 422
