"""GET /users: filters and keyset pagination."""

from __future__ import annotations

import base64
import json

import pytest

from app.extensions import db
from tests.constants import USERS
from tests.helpers import assert_problem


@pytest.fixture
def staff(factory):
    return factory.headers(factory.make_user("manager", email="boss@example.com", name="Marta Boss"))


def ids(resp) -> list[int]:
    return [u["id"] for u in resp.json["data"]]


def all_pages(client, headers, query: str = "", limit: int = 3) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        url = f"{USERS}?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200, resp.json
        pages.append(ids(resp))
        cursor = resp.json["next_cursor"]
        if cursor is None:
            return pages


def test_list_shape_and_newest_first(client, factory, staff):
    made = [factory.make_user() for _ in range(3)]
    resp = client.get(USERS, headers=staff)
    assert resp.status_code == 200
    assert set(resp.json) == {"data", "next_cursor"} and resp.json["next_cursor"] is None
    everyone = [u["id"] for u in resp.json["data"]]
    assert everyone[:3] == [u.id for u in reversed(made)]
    assert set(resp.json["data"][0]) == {"id", "email", "name", "role", "active", "has_pin", "location_ids",
                                         "created_at"}


def test_pages_cover_everything_once_in_order(client, factory, staff):
    for _ in range(7):
        factory.make_user()
    pages = all_pages(client, staff, limit=3)
    assert [len(p) for p in pages] == [3, 3, 2]
    flat = [i for page in pages for i in page]
    assert len(flat) == len(set(flat)) == 8
    assert flat == sorted(flat, reverse=True)  # created in id order, so newest first is id desc


def test_rows_inserted_between_pages_cause_no_duplicates_or_gaps(client, factory, staff):
    for _ in range(5):
        factory.make_user()
    first = client.get(f"{USERS}?limit=3", headers=staff).json
    factory.make_user()  # newer than everything: it belongs before page one, never in page two
    second = client.get(f"{USERS}?limit=3&cursor={first['next_cursor']}", headers=staff).json
    seen = [u["id"] for u in first["data"] + second["data"]]
    assert len(seen) == len(set(seen)) == 6
    assert second["next_cursor"] is None


def test_same_timestamp_ties_are_broken_by_id(client, factory, staff):
    users = [factory.make_user() for _ in range(4)]
    same = users[0].created_at
    for user in users:
        user.created_at = same
    db.session.commit()
    flat = [i for page in all_pages(client, staff, limit=2) for i in page]
    assert len(flat) == len(set(flat)) == 5


def test_filters(client, factory, staff):
    waiter = factory.make_user("waiter", email="luis@example.com", name="Luis Pérez")
    inactive = factory.make_user("waiter", email="old@example.com", name="Old Timer", active=False)
    admin = factory.make_user("admin", email="root@example.com", name="Root 100%")
    assert set(ids(client.get(f"{USERS}?role=waiter", headers=staff))) == {waiter.id, inactive.id}
    assert ids(client.get(f"{USERS}?role=admin", headers=staff)) == [admin.id]
    assert ids(client.get(f"{USERS}?active=false", headers=staff)) == [inactive.id]
    assert inactive.id not in ids(client.get(f"{USERS}?active=true", headers=staff))
    assert ids(client.get(f"{USERS}?role=waiter&active=true", headers=staff)) == [waiter.id]
    assert ids(client.get(f"{USERS}?q=LUIS", headers=staff)) == [waiter.id]  # name or email, any case
    assert ids(client.get(f"{USERS}?q=old@EXAMPLE", headers=staff)) == [inactive.id]
    assert ids(client.get(f"{USERS}?q=%20timer%20", headers=staff)) == [inactive.id]  # trimmed
    assert ids(client.get(f"{USERS}?q=100%25", headers=staff)) == [admin.id]  # % is literal
    assert ids(client.get(f"{USERS}?q=_", headers=staff)) == []  # _ is literal too
    assert ids(client.get(f"{USERS}?q=nobody", headers=staff)) == []


def test_filters_combine_with_pagination(client, factory, staff):
    wanted = [factory.make_user("waiter", name=f"Mesero {n}") for n in range(5)]
    factory.make_user("waiter", name="Someone else")
    flat = [i for page in all_pages(client, staff, query="&q=mesero", limit=2) for i in page]
    assert flat == [u.id for u in reversed(wanted)]


def test_default_limit_is_50(client, factory, staff):
    for _ in range(51):
        factory.make_user()
    resp = client.get(USERS, headers=staff)
    assert len(resp.json["data"]) == 50 and resp.json["next_cursor"]
    assert len(client.get(f"{USERS}?limit=200", headers=staff).json["data"]) == 52


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "limit=-1", "role=chef", "active=maybe",
                                   "q=", "q=" + "x" * 121])
def test_bad_query_parameters_are_422(client, staff, query):
    body = assert_problem(client.get(f"{USERS}?{query}", headers=staff), 422, "validation_error")
    assert query.split("=")[0] in body["errors"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor!", "abc", _b64(b"not json"), _b64(b"{}"), _b64(b"[1]"), _b64(json.dumps([1, 2, 3]).encode()),
     _b64(json.dumps(["2026-01-01T00:00:00Z", "7"]).encode()), _b64(json.dumps(["yesterday", 7]).encode()),
     _b64(json.dumps(["2026-01-01T00:00:00", 7]).encode()), _b64(json.dumps(["2026-01-01T00:00:00Z", True]).encode()),
     _b64(b"\xff\xfe")],
)
def test_malformed_cursor_is_400(client, staff, cursor):
    assert_problem(client.get(f"{USERS}?cursor={cursor}", headers=staff), 400, "invalid_cursor")
