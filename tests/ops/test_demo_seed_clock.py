"""The demo seed run minutes after a location's business day started: today's orders (some still open)
belong to today's business date, not yesterday's. CI once ran the seed at 04:16 in Monterrey (day start
04:00) and left open orders on the previous business day, which no API-made order can be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.business_time import business_date
from app.columns import clock_at
from app.extensions import db
from app.models import Location, Order
from app.seed import seed_locations, seed_products, seed_users, staff_by_location
from app.seed.demo import seed_orders

MONTERREY_DAY_START = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # 04:00 in Monterrey (UTC-6, no DST)


@pytest.mark.parametrize("minutes", [3])
def test_orders_seeded_just_after_the_day_started_are_on_todays_business_date(app, minutes):
    now = MONTERREY_DAY_START + timedelta(minutes=minutes)
    with clock_at(now):
        users = seed_users(seed_locations())
        seed_orders(staff_by_location(users), seed_products(), count=200)
    open_orders = db.session.scalars(select(Order).where(Order.status == "open")).all()
    monterrey = db.session.scalar(select(Location).where(Location.name == "Monterrey"))
    assert any(order.location_id == monterrey.id for order in open_orders)  # the case this test is about
    for order in db.session.scalars(select(Order)):
        location = db.session.get(Location, order.location_id)
        today = business_date(now, location.timezone, location.day_starts_at)
        assert order.created_at <= now
        if order.status == "open":
            assert order.business_date == today, (order.id, location.name)
        else:
            assert order.business_date <= today
