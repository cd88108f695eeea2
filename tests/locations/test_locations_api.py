"""/api/v1/locations: every field, rule, role and error code of the contract."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Location
from tests.helpers import UTC_Z, assert_problem
from tests.locations.conftest import LOCATIONS, member


def count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Location))


def test_the_default_location_comes_from_the_business_clock(client, factory, main):
    body = client.get(f"{LOCATIONS}/{main.id}", headers=factory.role_headers("admin")).json
    assert body == {
        "id": main.id, "name": "Main", "timezone": "UTC", "day_starts_at": "00:00", "tax_rate": "0",
        "prices_include_tax": False, "active": True, "default": True, "variance_tolerance": "0.00",
        "created_at": body["created_at"], "updated_at": body["updated_at"],
    }
    assert UTC_Z.match(body["created_at"])


def test_create_answers_the_location_with_defaults(client, factory):
    resp = client.post(LOCATIONS, json={"name": "  Polanco ", "timezone": "America/Mexico_City"},
                       headers=factory.role_headers("admin"))
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert resp.headers["Location"] == f"{LOCATIONS}/{body['id']}"
    assert {k: body[k] for k in ("name", "timezone", "day_starts_at", "tax_rate", "prices_include_tax", "active",
                                 "default")} == {
        "name": "Polanco", "timezone": "America/Mexico_City", "day_starts_at": "00:00", "tax_rate": "0",
        "prices_include_tax": False, "active": True, "default": False}


@pytest.mark.parametrize(("sent", "answered"), [
    ("16", "16"), (16, "16"), ("8.5", "8.5"), ("8.50", "8.5"), ("12.125", "12.125"), ("0", "0"), (0, "0"),
    ("100", "100"), ("100.000", "100"), ("0.001", "0.001"),
])
def test_tax_rate_is_answered_without_trailing_zeros(client, factory, sent, answered):
    resp = client.post(LOCATIONS, json={"name": f"Tax {sent!r}", "timezone": "UTC", "tax_rate": sent,
                                        "prices_include_tax": True}, headers=factory.role_headers("admin"))
    assert resp.status_code == 201, resp.json
    assert resp.json["tax_rate"] == answered and resp.json["prices_include_tax"] is True


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "X", "timezone": "Mars/Olympus"}, "timezone"),
    ({"name": "X", "timezone": "mexico city"}, "timezone"),
    ({"name": "X", "timezone": ""}, "timezone"),
    # Host aliases, not places: business dates would follow the server's clock (issue 22).
    ({"name": "X", "timezone": "localtime"}, "timezone"),
    ({"name": "X", "timezone": "Factory"}, "timezone"),
    ({"name": "X", "timezone": "posixrules"}, "timezone"),
    ({"name": "X", "timezone": "posix/America/Mexico_City"}, "timezone"),
    ({"name": "X", "timezone": "right/UTC"}, "timezone"),
    ({"name": "X"}, "timezone"),
    ({"timezone": "UTC"}, "name"),
    ({"name": "   ", "timezone": "UTC"}, "name"),
    ({"name": "X", "timezone": "UTC", "day_starts_at": "4:00"}, "day_starts_at"),
    ({"name": "X", "timezone": "UTC", "day_starts_at": "24:00"}, "day_starts_at"),
    ({"name": "X", "timezone": "UTC", "day_starts_at": "04:60"}, "day_starts_at"),
    ({"name": "X", "timezone": "UTC", "day_starts_at": "04:00:00"}, "day_starts_at"),
    ({"name": "X", "timezone": "UTC", "day_starts_at": 400}, "day_starts_at"),
    ({"name": "X", "timezone": "UTC", "tax_rate": "-1"}, "tax_rate"),
    ({"name": "X", "timezone": "UTC", "tax_rate": -1}, "tax_rate"),
    ({"name": "X", "timezone": "UTC", "tax_rate": "100.001"}, "tax_rate"),
    ({"name": "X", "timezone": "UTC", "tax_rate": 101}, "tax_rate"),
    ({"name": "X", "timezone": "UTC", "tax_rate": "8.1234"}, "tax_rate"),
    ({"name": "X", "timezone": "UTC", "tax_rate": "1e1"}, "tax_rate"),
    ({"name": "X", "timezone": "UTC", "tax_rate": True}, "tax_rate"),
    ({"name": "X", "timezone": "UTC", "tax_rate": "16%"}, "tax_rate"),
    ({"name": "X", "timezone": "UTC", "prices_include_tax": "maybe"}, "prices_include_tax"),
    ({"name": "X", "timezone": "UTC", "active": False}, "active"),  # POST takes no active
    ({"name": "X", "timezone": "UTC", "id": 9}, "id"),
    ({"name": "X", "timezone": "UTC", "default": True}, "default"),
])
def test_bad_input_is_422_on_the_field_and_writes_nothing(client, factory, body, field):
    headers = factory.role_headers("admin")
    before = count()
    body_ = assert_problem(client.post(LOCATIONS, json=body, headers=headers), 422, "validation_error")
    assert field in body_["errors"], body_
    assert count() == before


def test_tax_rate_with_more_than_three_decimals_says_so(client, factory):
    body = client.post(LOCATIONS, json={"name": "X", "timezone": "UTC", "tax_rate": "8.1234"},
                       headers=factory.role_headers("admin")).json
    assert body["errors"] == {"tax_rate": ["Must have at most three decimal places."]}


@pytest.mark.parametrize("clash", ["Centro", " centro ", "CENTRO"])
def test_duplicate_names_are_409(client, factory, clash):
    headers = factory.role_headers("admin")
    assert client.post(LOCATIONS, json={"name": "Centro", "timezone": "UTC"}, headers=headers).status_code == 201
    before = count()
    assert_problem(client.post(LOCATIONS, json={"name": clash, "timezone": "UTC"}, headers=headers),
                   409, "duplicate_location")
    assert count() == before


def test_renaming_onto_another_location_is_409(client, factory, main, tokyo):
    resp = client.patch(f"{LOCATIONS}/{tokyo.id}", json={"name": " main"}, headers=factory.role_headers("admin"))
    assert_problem(resp, 409, "duplicate_location")
    db.session.rollback()
    assert db.session.get(Location, tokyo.id).name == "Tokyo"


def test_patch_changes_any_field(client, factory, tokyo):
    headers = factory.role_headers("admin")
    resp = client.patch(f"{LOCATIONS}/{tokyo.id}", json={"tax_rate": 8.5, "day_starts_at": "03:30", "active": False,
                                                         "timezone": "Asia/Seoul", "name": "Seoul"}, headers=headers)
    assert resp.status_code == 200, resp.json
    assert {k: resp.json[k] for k in ("name", "timezone", "day_starts_at", "tax_rate", "active")} == {
        "name": "Seoul", "timezone": "Asia/Seoul", "day_starts_at": "03:30", "tax_rate": "8.5", "active": False}
    # the same name in another case is the location itself, not a duplicate
    assert client.patch(f"{LOCATIONS}/{tokyo.id}", json={"name": "SEOUL"}, headers=headers).status_code == 200


@pytest.mark.parametrize(("body", "field"), [({}, "_schema"), ({"timezone": "Nowhere/Land"}, "timezone"),
                                             ({"tax_rate": "100.5"}, "tax_rate"), ({"default": True}, "default"),
                                             ({"day_starts_at": "7"}, "day_starts_at")])
def test_bad_patches_are_422(client, factory, tokyo, body, field):
    resp = client.patch(f"{LOCATIONS}/{tokyo.id}", json=body, headers=factory.role_headers("admin"))
    assert field in assert_problem(resp, 422, "validation_error")["errors"]


def test_patch_of_an_unknown_location_is_404(client, factory):
    assert_problem(client.patch(f"{LOCATIONS}/999999", json={"name": "x"}, headers=factory.role_headers("admin")),
                   404, "not_found")


def test_only_admins_create_and_change(client, factory, main):
    for role in ("waiter", "manager"):
        headers = factory.headers(member(factory, role, main))
        assert_problem(client.post(LOCATIONS, json={"name": "Y", "timezone": "UTC"}, headers=headers), 403, "forbidden")
        assert_problem(client.patch(f"{LOCATIONS}/{main.id}", json={"name": "Y"}, headers=headers), 403, "forbidden")


def test_members_see_their_locations_admins_all(client, factory, main, tokyo):
    lonely = Location(name="Closed one", timezone="UTC", active=False)
    db.session.add(lonely)
    db.session.commit()
    manager = member(factory, "manager", tokyo, lonely)
    ids = [row["id"] for row in client.get(LOCATIONS, headers=factory.headers(manager)).json["data"]]
    assert ids == [tokyo.id, lonely.id]
    active = client.get(LOCATIONS, query_string={"active": "false"}, headers=factory.headers(manager)).json["data"]
    assert [row["id"] for row in active] == [lonely.id]
    everything = client.get(LOCATIONS, headers=factory.role_headers("admin")).json
    assert [row["id"] for row in everything["data"]] == [main.id, tokyo.id, lonely.id]
    assert everything["next_cursor"] is None
    assert client.get(f"{LOCATIONS}/{tokyo.id}", headers=factory.headers(manager)).status_code == 200
    assert_problem(client.get(f"{LOCATIONS}/{main.id}", headers=factory.headers(manager)), 404, "not_found")
    assert_problem(client.get(f"{LOCATIONS}/999999", headers=factory.role_headers("admin")), 404, "not_found")


def test_unknown_list_parameters_are_422(client, factory):
    resp = client.get(LOCATIONS, query_string={"colour": "red"}, headers=factory.role_headers("admin"))
    assert assert_problem(resp, 422, "validation_error")["errors"] == {"colour": ["Unknown field."]}
