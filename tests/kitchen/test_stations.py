"""Stations: who configures them, their validation, duplicate routes, one default per location."""

from __future__ import annotations

import pytest

from tests.constants import API
from tests.kitchen.conftest import line


def test_station_answer(kit):
    resp = kit.station({"name": "  Fríos ", "categories": ["Ensaladas"], "product_ids": [kit.soup.id],
                        "alert_minutes": 20})
    assert resp.status_code == 201, resp.json
    assert resp.json == {"id": resp.json["id"], "location_id": kit.location.id, "name": "Fríos",
                         "categories": ["Ensaladas"], "product_ids": [kit.soup.id], "default": False,
                         "alert_minutes": 20, "active": True}
    assert resp.headers["Location"].endswith(f"/api/v1/stations/{resp.json['id']}")
    listed = kit.client.get(f"{API}/locations/{kit.location.id}/stations", headers=kit.h())
    assert [s["name"] for s in listed.json["data"]] == ["Parrilla", "Barra", "Fríos"]
    assert kit.grill["alert_minutes"] == 10 and kit.bar["alert_minutes"] == 15


def test_only_managers_and_admins_configure(kit):
    assert kit.station({"name": "X"}, user=kit.waiter).status_code == 403
    assert kit.client.patch(f"{API}/stations/{kit.grill['id']}", json={"name": "Y"},
                            headers=kit.h()).status_code == 403
    admin = kit.factory.make_user("admin")
    assert kit.station({"name": "Z"}, user=admin).status_code == 201


@pytest.mark.parametrize(("body", "field"), [
    ({"name": ""}, "name"),
    ({"name": "X", "alert_minutes": 0}, "alert_minutes"),
    ({"name": "X", "alert_minutes": 241}, "alert_minutes"),
    ({"name": "X", "alert_minutes": "5"}, "alert_minutes"),
    ({"name": "X", "default": "yes"}, "default"),
    ({"name": "X", "categories": "Tacos"}, "categories"),
    ({"name": "X", "categories": ["a", "A"]}, "categories"),
    ({"name": "X", "product_ids": ["1"]}, "product_ids.0"),
    ({"name": "X", "product_ids": [999999]}, "product_ids.0"),
    ({"name": "X", "id": 5}, "id"),
    ({"name": "X", "queue_version": 5}, "queue_version"),
    ({"categories": []}, "name"),
])
def test_bad_input_is_422(kit, body, field):
    resp = kit.station(body)
    assert resp.status_code == 422, resp.json
    assert field in resp.json["errors"], resp.json


def test_duplicate_routes_are_409(kit):
    taken_category = kit.station({"name": "Otra", "categories": [" TACOS "]})
    assert taken_category.status_code == 409 and taken_category.json["code"] == "duplicate_route"
    taken_product = kit.station({"name": "Otra", "product_ids": [kit.margarita.id]})
    assert taken_product.status_code == 409 and taken_product.json["code"] == "duplicate_route"
    patch = kit.client.patch(f"{API}/stations/{kit.bar['id']}", json={"categories": ["Tacos"]},
                             headers=kit.h(kit.manager))
    assert patch.status_code == 409 and patch.json["code"] == "duplicate_route"
    # A station may keep its own routes when it is changed.
    same = kit.client.patch(f"{API}/stations/{kit.grill['id']}", json={"categories": ["Tacos", "Carnes"]},
                            headers=kit.h(kit.manager))
    assert same.status_code == 200 and same.json["categories"] == ["Tacos", "Carnes"]
    # Freed routes can be taken.
    kit.client.patch(f"{API}/stations/{kit.grill['id']}", json={"categories": []}, headers=kit.h(kit.manager))
    assert kit.station({"name": "Otra", "categories": ["tacos"]}).status_code == 201


def test_one_default_per_location(kit):
    first = kit.station({"name": "Cocina", "default": True}).json
    second = kit.station({"name": "Cocina 2", "default": True}).json
    listed = kit.client.get(f"{API}/locations/{kit.location.id}/stations", headers=kit.h()).json["data"]
    assert [s["id"] for s in listed if s["default"]] == [second["id"]]
    back = kit.client.patch(f"{API}/stations/{first['id']}", json={"default": True}, headers=kit.h(kit.manager))
    assert back.status_code == 200 and back.json["default"] is True
    listed = kit.client.get(f"{API}/locations/{kit.location.id}/stations", headers=kit.h()).json["data"]
    assert [s["id"] for s in listed if s["default"]] == [first["id"]]


def test_routing_is_read_when_sent_and_inactive_stations_receive_nothing(kit):
    order = kit.order([line(kit.taco, course=2)])
    kit.client.patch(f"{API}/stations/{kit.grill['id']}", json={"active": False}, headers=kit.h(kit.manager))
    cocina = kit.station({"name": "Cocina", "default": True}).json
    kit.client.post(f"{API}/orders/{order['id']}/fire", json={}, headers=kit.h())
    assert len(kit.queue(cocina)) == 1  # fired after the change: the routing of the moment


def test_empty_patch_is_422(kit):
    resp = kit.client.patch(f"{API}/stations/{kit.grill['id']}", json={}, headers=kit.h(kit.manager))
    assert resp.status_code == 422
