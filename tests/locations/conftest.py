"""Location fixtures: the default location, a second one in another zone, and staff."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Location
from tests.constants import LOCATIONS

__all__ = ["LOCATIONS", "member"]


@pytest.fixture
def main(app) -> Location:
    """The default location (made like the migration makes it, from the config: UTC in tests)."""
    return db.session.scalar(select(Location).where(Location.is_default))


@pytest.fixture
def tokyo(app) -> Location:
    location = Location(name="Tokyo", timezone="Asia/Tokyo", day_starts_at="05:00", tax_rate_thousandths=10000)
    db.session.add(location)
    db.session.commit()
    return location


def member(factory, role: str, *locations: Location, name: str | None = None):
    """A waiter or manager who belongs to `locations`."""
    user = factory.make_user(role, name=name)
    user.locations = list(locations)
    db.session.commit()
    return user
