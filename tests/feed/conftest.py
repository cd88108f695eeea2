"""Feed and webhook fixtures: the order fixtures, an admin and a second location."""

from __future__ import annotations

import uuid

import pytest

from app.extensions import db
from app.models import Location

EVENTS = "/api/v1/events"
WEBHOOKS = "/api/v1/webhooks"


@pytest.fixture
def admin(factory):
    return factory.make_user("admin", name="Root")


@pytest.fixture
def away():
    """A second location no principal but the admin belongs to."""
    location = Location(name=f"Away {uuid.uuid4().hex[:6]}", timezone="UTC", day_starts_at="00:00")
    db.session.add(location)
    db.session.commit()
    return location


def read_all(client, headers, after=None, **params):
    """Every page from `after` until an empty one: (events, last cursor)."""
    events = []
    while True:
        query = {**params, **({"after": after} if after else {})}
        resp = client.get(EVENTS, headers=headers, query_string=query)
        assert resp.status_code == 200, resp.json
        events += resp.json["data"]
        if not resp.json["data"]:
            return events, resp.json["next_cursor"]
        after = resp.json["next_cursor"]
