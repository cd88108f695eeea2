"""`flask seed --orders N`: bulk-loaded orders read exactly like the same orders made through the API.

The main test loads a small schedule in bulk (COPY on PostgreSQL), reads every order, its history and
every report through the HTTP API, then empties the database, seeds the same chain again with the same
ids, replays the same plans through the HTTP API (batch create with created_at, void, discounts by the
manager, close with a tip or cancel) and reads everything again: the two must be identical but for
the moments (the replay happens now) and the business dates of the payments (the till's day).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select, text

from app.columns import utcnow
from app.database import dialect_name, without_wait_callback
from app.extensions import db
from app.locations.services import ensure_default_location
from app.models import Order, Product, User
from app.money import cents_to_str
from app.orders import pricing
from app.seed import bulk, bulk_world, seed_locations, seed_products, seed_users
from tests.conftest import delete_all_rows
from tests.constants import API
from tests.invariants import assert_every_order_consistent

COUNT, DAYS = 60, 3


def _fresh_ids() -> None:
    """An empty database whose ids start at 1 again, with the default location the migration makes."""
    delete_all_rows()
    with db.engine.begin() as conn:
        if dialect_name() == "postgresql":
            sequences = text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            for (name,) in conn.execute(sequences):
                conn.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))
        elif conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
            conn.execute(text("DELETE FROM sqlite_sequence"))
    ensure_default_location()
    db.session.commit()


def _world():
    locations = seed_locations()
    users = seed_users(locations)
    products = seed_products()
    world = bulk_world(locations, users, products)
    db.session.commit()
    return world


MOMENTS = {"at", "created_at", "updated_at", "closed_at", "cancelled_at", "voided_at", "removed_at", "generated_at"}
# Folios follow the closing order: the bulk load numbers its orders by their closing moments after the load
# (their closed events say null), the replay in the order it closes them now. Both are checked apart
# (test_bulk_folios_are_gapless_in_closing_order).
NUMBERS = {"folio"}


def _timeless(value, key: str | None = None):
    """The JSON without moments and folios, and without the payments' business dates (the day the till took
    them)."""
    if isinstance(value, dict):
        return {k: _timeless(v, k) for k, v in value.items()
                if k not in MOMENTS | NUMBERS and not (key == "payments" and k == "business_date")}
    if isinstance(value, list):
        return [_timeless(v, key) for v in value]
    return value


def _read_everything(client, factory, start, end) -> dict:
    admin = factory.headers(db.session.scalar(select(User).where(User.role == "admin")))
    ids = db.session.scalars(select(Order.id).order_by(Order.id)).all()
    orders = [client.get(f"{API}/orders/{order_id}", headers=admin) for order_id in ids]
    events = [client.get(f"{API}/orders/{order_id}/events?limit=100", headers=admin) for order_id in ids]
    span = f"start_date={start}&end_date={end}"
    reports = {path: client.get(f"{API}/reports/{path}", headers=admin) for path in (
        f"products?{span}", f"waiters?{span}", f"sales?{span}", f"sales?{span}&granularity=hour",
        f"locations?{span}", f"payments?{span}", f"products?{span}&status=closed", f"waiters?{span}&location_id=2")}
    for answer in (*orders, *events, *reports.values()):
        assert answer.status_code == 200, answer.get_json()
    return _timeless({"orders": [a.get_json() for a in orders], "events": [a.get_json() for a in events],
                      "reports": {path: a.get_json() for path, a in reports.items()}})


def _replay(client, factory, world, plan: bulk.Plan) -> None:
    """The plan's story through the HTTP API, as the waiter and the location's manager."""
    story = plan.ticket
    waiter = factory.headers(db.session.get(User, plan.waiter_id))
    manager = factory.headers(db.session.get(User, world.places[story.location_id].manager_id))
    items = [{"product_id": line.dish.id, "quantity": line.quantity,
              **({"modifiers": [{"name": n, "price": cents_to_str(p)} for n, p in line.modifiers]}
                 if line.modifiers else {})} for line in story.lines]
    body = {"orders": [{"client_order_id": plan.client_order_id, "customer_name": story.customer_name,
                        "table": story.table, "location_id": story.location_id,
                        "created_at": plan.created_at.isoformat(), "items": items}]}
    answer = client.post(f"{API}/orders/batch", json=body, headers=waiter)
    assert answer.status_code == 200 and answer.get_json()["results"][0]["status"] == "created", answer.get_json()
    order_id = answer.get_json()["results"][0]["id"]
    item_ids = [line["id"] for line in client.get(f"{API}/orders/{order_id}", headers=waiter).get_json()["items"]]
    if story.void is not None:
        assert client.delete(f"{API}/orders/{order_id}/items/{item_ids[story.void]}", headers=waiter).status_code == 200
    for discount in story.discounts:
        payload = {"reason": discount.reason}
        if discount.line is not None:
            payload["item_id"] = item_ids[discount.line]
        if discount.percent_thousandths is not None:
            payload["percent"] = str(Decimal(discount.percent_thousandths) / 1000)
        else:
            payload["amount"] = cents_to_str(discount.amount_cents)
        answer = client.post(f"{API}/orders/{order_id}/discounts", json=payload, headers=manager)
        assert answer.status_code in (200, 201), answer.get_json()
    if story.outcome == "closed":
        total = int(Decimal(client.get(f"{API}/orders/{order_id}", headers=waiter).get_json()["total"]) * 100)
        tip = pricing.round_half_even(total * story.tip_percent, 100)
        payload = {"payment_method": story.method, **({"tip": cents_to_str(tip)} if tip else {})}
        answer = client.post(f"{API}/orders/{order_id}/close", json=payload, headers=waiter)
        assert answer.status_code == 200, answer.get_json()
    elif story.outcome == "cancelled":
        answer = client.post(f"{API}/orders/{order_id}/cancel", json={"reason": bulk.CANCEL_REASON}, headers=waiter)
        assert answer.status_code == 200, answer.get_json()


def test_bulk_orders_read_exactly_like_the_same_orders_made_through_the_api(app, client, factory):
    _fresh_ids()
    world = _world()
    now = utcnow()
    start, end = (now - timedelta(days=DAYS + 1)).date(), (now + timedelta(days=1)).date()
    with without_wait_callback():
        assert bulk.load(world, COUNT, DAYS, now) == COUNT
    loaded = _read_everything(client, factory, start, end)
    assert_every_order_consistent()

    _fresh_ids()
    assert _world() == world  # the same chain with the same ids
    for plan in bulk.as_plans(bulk.schedule(world, COUNT, DAYS, now)):
        _replay(client, factory, world, plan)
    replayed = _read_everything(client, factory, start, end)

    assert len(loaded["orders"]) == COUNT
    stories = {(o["status"], bool(o["discounts"]), any(i["voided"] for i in o["items"]),
                any(i["modifiers"] for i in o["items"])) for o in loaded["orders"]}
    assert {s[0] for s in stories} == {"open", "closed", "cancelled"}  # the schedule covers every story
    assert any(s[1] for s in stories) and any(s[2] for s in stories) and any(s[3] for s in stories)
    for bulk_order, api_order in zip(loaded["orders"], replayed["orders"], strict=True):
        assert bulk_order == api_order
    assert loaded["events"] == replayed["events"]
    for path, report in loaded["reports"].items():
        assert report == replayed["reports"][path], path
    assert loaded["reports"][f"products?start_date={start}&end_date={end}"]["data"]


def test_the_command_loads_once_with_a_progress_bar(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "--orders", "40", "--days", "5"])
    assert result.exit_code == 0, result.output
    assert "40 orders over 5 days" in result.output and "loaded 40 orders" in result.output
    assert db.session.scalar(select(func.count()).select_from(Order)) == 40
    assert_every_order_consistent()  # version == number of events, totals and rollups match the rows
    again = runner.invoke(args=["seed", "--orders", "40"])
    assert again.exit_code == 1 and "already loaded" in again.output
    assert db.session.scalar(select(func.count()).select_from(Order)) == 40
    assert runner.invoke(args=["seed", "--orders", "0"]).exit_code == 2  # at least one order


def test_sequences_move_past_the_loaded_ids(app, client, factory):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "--orders", "30", "--days", "2"]).exit_code == 0
    waiter = db.session.scalar(select(User).where(User.role == "waiter").order_by(User.id))
    product_id = db.session.scalar(select(func.min(Product.id)))
    answer = client.post(f"{API}/orders", headers=factory.headers(waiter), json={
        "customer_name": "Después", "location_id": waiter.locations[0].id,
        "items": [{"product_id": product_id, "quantity": 1}]})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["id"] == db.session.scalar(select(func.max(Order.id)))


def test_bulk_folios_are_gapless_in_closing_order(app):
    """Every closed bulk order has a folio, 1..n per location in closing order; the counter is past them."""
    from app.counters import current
    from app.models import Location

    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "--orders", "40", "--days", "3"]).exit_code == 0
    for location in db.session.scalars(select(Location)).all():
        closed = db.session.execute(select(Order.folio).where(Order.location_id == location.id,
                                                              Order.status == "closed")
                                    .order_by(Order.closed_at, Order.id)).scalars().all()
        assert closed == list(range(1, len(closed) + 1))
        assert current(location.id, "folio") == len(closed)
    assert db.session.scalar(select(func.count()).select_from(Order).where(
        Order.status != "closed", Order.folio.is_not(None))) == 0
