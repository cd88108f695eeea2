"""`flask seed`: idempotent demo data for a small Mexican chain: three locations, one in another time zone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.business_time import local_time
from app.columns import utcnow
from app.extensions import db
from app.models import Location, Payment, Product, User, location_name_key, normalize_name
from app.seed.shared import HOURS, has_orders_from

# The default location (made by the migration from BUSINESS_TIMEZONE) plus two more: Monterrey shares
# Mexico City's clock, Tijuana is two hours behind it. Menu prices include 16 % / 8 % VAT there.
LOCATIONS = [
    ("Monterrey", "America/Monterrey", "04:00", 16000, True),
    ("Tijuana", "America/Tijuana", "00:00", 8000, True),
]
# email, name, role, location (None: the default location; admins belong to every location)
STAFF = [
    ("admin@comanda.local", "Administrator", "admin", None),
    ("gerente@comanda.local", "Marta Gerente", "manager", None),
    ("luis@comanda.local", "Luis", "waiter", None),
    ("ana@comanda.local", "Ana", "waiter", None),
    ("pedro@comanda.local", "Pedro", "waiter", None),
    ("sofia@comanda.local", "Sofía", "waiter", None),
    ("gerente.mty@comanda.local", "Rosa Gerente", "manager", "Monterrey"),
    ("carlos@comanda.local", "Carlos", "waiter", "Monterrey"),
    ("lucia@comanda.local", "Lucía", "waiter", "Monterrey"),
    ("gerente.tij@comanda.local", "Jorge Gerente", "manager", "Tijuana"),
    ("diana@comanda.local", "Diana", "waiter", "Tijuana"),
    ("emilio@comanda.local", "Emilio", "waiter", "Tijuana"),
]
DEMO_PASSWORD = "comanda-demo"  # noqa: S105 - documented demo password for seeded staff

MENU = [
    ("Taco al pastor", "25.00", "Tacos"), ("Taco de suadero", "25.00", "Tacos"),
    ("Taco de bistec", "28.00", "Tacos"), ("Taco de carnitas", "27.00", "Tacos"),
    ("Taco de barbacoa", "30.00", "Tacos"), ("Taco de pescado", "35.00", "Tacos"),
    ("Gringa", "55.00", "Especialidades"), ("Quesadilla de flor de calabaza", "45.00", "Especialidades"),
    ("Sope de chorizo", "40.00", "Antojitos"), ("Tostada de tinga", "38.00", "Antojitos"),
    ("Enchiladas verdes", "95.00", "Platos fuertes"), ("Enchiladas suizas", "105.00", "Platos fuertes"),
    ("Mole poblano", "140.00", "Platos fuertes"), ("Chiles en nogada", "185.00", "Platos fuertes"),
    ("Pozole rojo", "120.00", "Platos fuertes"), ("Cochinita pibil", "130.00", "Platos fuertes"),
    ("Chilaquiles rojos", "85.00", "Desayunos"), ("Huevos rancheros", "80.00", "Desayunos"),
    ("Guacamole con totopos", "90.00", "Entradas"), ("Queso fundido", "95.00", "Entradas"),
    ("Sopa de tortilla", "70.00", "Entradas"), ("Elote asado", "35.00", "Entradas"),
    ("Agua de horchata", "25.50", "Bebidas"), ("Agua de jamaica", "25.50", "Bebidas"),
    ("Agua de tamarindo", "25.50", "Bebidas"), ("Refresco", "30.00", "Bebidas"),
    ("Cerveza", "45.00", "Bebidas"), ("Michelada", "65.00", "Bebidas"),
    ("Margarita", "95.00", "Bebidas"), ("Café de olla", "35.00", "Bebidas"),
    ("Flan napolitano", "55.00", "Postres"), ("Churros con chocolate", "60.00", "Postres"),
]  # fmt: skip

SEED_PREFIX = "seed-"
DAYS = 30


def seed_locations() -> dict[str | None, Location]:
    """The default location and the seeded ones, by name (None: the default)."""
    from app.locations.services import ensure_default_location

    found: dict[str | None, Location] = {None: ensure_default_location()}
    for name, zone, starts_at, tax, included in LOCATIONS:
        location = db.session.scalar(select(Location).where(Location.name_key == location_name_key(name)))
        if location is None:
            location = Location(name=name, timezone=zone, day_starts_at=starts_at, tax_rate_thousandths=tax,
                                prices_include_tax=included, active=True, is_default=False)
            db.session.add(location)
        found[name] = location
    db.session.flush()
    return found


def seed_users(locations: dict[str | None, Location]) -> list[User]:
    from app.users.services import UserInput, create_user

    users = []
    for email, name, role, where in STAFF:
        user = db.session.scalar(select(User).where(User.email == email))
        users.append(user or create_user(UserInput(email=email, name=name, password=DEMO_PASSWORD, role=role,
                                                   location_ids=[locations[where].id] if role != "admin" else None)))
    return users


def seed_products() -> list[Product]:
    products = []
    for name, price, category in MENU:
        product = db.session.scalar(select(Product).where(Product.name_key == normalize_name(name)))
        if product is None:
            product = Product(name=name, price_cents=int(Decimal(price) * 100), category=category, active=True)
            db.session.add(product)
        products.append(product)
    db.session.flush()
    return products


def _moment(rng: random.Random, day: int, location: Location) -> datetime:
    """A UTC moment `day` days ago at a weighted local hour of the location."""
    hours, weights = zip(*HOURS, strict=True)
    local_now = local_time(utcnow(), location.timezone)
    local_day = (local_now - timedelta(days=day)).date()
    local = datetime.combine(local_day, time(rng.choices(hours, weights)[0], rng.randrange(60), rng.randrange(60)))
    moment = local.replace(tzinfo=local_now.tzinfo).astimezone(UTC)
    return moment if moment <= utcnow() else moment - timedelta(days=1)  # today's later hours: yesterday


def seed_orders(waiters: list[User], products: list[Product], count: int = 400) -> int:
    """A month of orders at each waiter's location, built through the same code as the API (totals,
    business dates from the location's clock, rollups)."""
    from app.orders.lines import Line
    from app.orders.services import build_order, recompute_totals
    from app.reports import rollups

    if has_orders_from(SEED_PREFIX):
        return 0
    rng = random.Random(481)  # reproducible demo data
    popularity = [1 / (rank + 1) ** 0.9 for rank in range(len(products))]  # a few favourites, a long tail
    changes = []
    for n in range(count):
        waiter = rng.choice(waiters)
        location = waiter.locations[0]
        created_at = _moment(rng, rng.randrange(DAYS), location)
        picks = rng.choices(products, popularity, k=rng.randint(1, 5))
        lines = [Line(p.id, p.name, p.price_cents, rng.choice([1, 1, 1, 2, 2, 3]), None) for p in picks]
        data = {
            "customer_name": rng.choice(["Ana", "Beto", "Carmen", "Diego", "Elena", "Fer", "Gaby"]),
            "table": str(rng.randint(1, 20)),
            "client_order_id": f"{SEED_PREFIX}{n:05d}",
        }
        order = build_order(waiter, data, lines, created_at, location)
        roll = rng.random()
        if roll < 0.05:
            order.status, order.cancelled_at, order.cancel_reason = "cancelled", created_at, "Customer left"
        elif roll < 0.95:
            order.status, order.payment_method = "closed", rng.choice(["cash", "card", "card", "other"])
            order.closed_at = min(created_at + timedelta(minutes=rng.randint(20, 90)), utcnow())
        if len(order.items) > 1 and rng.random() < 0.08:
            order.items[0].voided, order.items[0].voided_at = True, created_at
        recompute_totals(order)
        if order.status == "closed":  # closed as v1's close does: one payment of the whole balance
            order.payments.append(Payment(method=order.payment_method, amount_cents=order.total_cents, tip_cents=0,
                                          business_date=order.business_date, created_by_id=order.waiter.id,
                                          created_at=order.closed_at))
            order.paid_total_cents = order.total_cents
        db.session.add(order)
        changes.append(order)
    with rollups.tracking() as tracked:
        for order in changes:
            tracked.created(order)
    return count


def bulk_world(locations: dict[str | None, Location], users: list[User], products: list[Product]):
    """The seeded chain as the bulk loader sees it (app/seed/bulk.py)."""
    from app.seed.bulk import Dish, Place, World

    managers = {user.locations[0].id: user.id for user in users if user.role == "manager"}
    places = {loc.id: Place(loc.id, loc.timezone, loc.day_starts_at, loc.tax_rate_thousandths, loc.prices_include_tax,
                            managers[loc.id]) for loc in locations.values()}
    waiters = tuple((user.id, user.locations[0].id) for user in users if user.role == "waiter")
    menu = tuple(Dish(p.id, p.name, p.price_cents, p.tax_rate_thousandths) for p in products)
    return World(waiters, places, menu)


@click.command("seed")
@click.option("--orders", "orders", type=click.IntRange(min=1), default=None,
              help="Instead of the month of demo orders: load this many orders in bulk (COPY on PostgreSQL).")
@click.option("--days", type=click.IntRange(1, 3660), default=365, show_default=True,
              help="With --orders: the business days (ending today) the orders are spread over.")
@with_appcontext
def seed_command(orders: int | None, days: int) -> None:
    """Create three locations with their staff and the menu, then (once) a month of demo orders, or with
    --orders N, N orders over --days business days loaded in bulk. Safe to run twice."""
    from app.seed import bulk

    locations = seed_locations()
    users = seed_users(locations)
    products = seed_products()
    if orders is None:
        created = seed_orders([u for u in users if u.role == "waiter"], products)
        db.session.commit()
        click.echo(
            f"seeded {len(locations)} locations, {len(users)} users (password {DEMO_PASSWORD!r}), "
            f"{len(products)} products, {created} new orders"
        )
        return
    world = bulk_world(locations, users, products)
    db.session.commit()
    if has_orders_from(bulk.BULK_PREFIX):
        raise click.ClickException("bulk orders are already loaded (client_order_id bulk-*): "
                                   "seed a fresh database to load them again")
    with click.progressbar(length=orders, label=f"{orders:,} orders over {days} days") as bar:
        written, seconds = bulk.timed_load(world, orders, days, bar.update)
    click.echo(f"loaded {written:,} orders in {seconds:.1f} s ({written / seconds:,.0f} orders/s), "
               f"rollups compacted; staff password {DEMO_PASSWORD!r}")
