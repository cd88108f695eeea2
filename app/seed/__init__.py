"""`flask seed`: idempotent demo data for a small Mexican chain: three locations, one in another time zone."""

from __future__ import annotations

from decimal import Decimal

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.models import Location, Product, User, location_name_key, normalize_name
from app.seed.demo import SEED_PREFIX, Staff, seed_orders
from app.seed.shared import has_orders_from

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


def staff_by_location(users: list[User]) -> dict[int, Staff]:
    """Each location's waiters and its manager (the demo stories' cast)."""
    found: dict[int, Staff] = {}
    for user in users:
        if user.role in ("waiter", "manager"):
            location_id = user.locations[0].id
            staff = found.setdefault(location_id, Staff([], user))
            if user.role == "waiter":
                staff.waiters.append(user)
            else:
                found[location_id] = Staff(staff.waiters, user)
    return found


def staff_list(locations: dict[str | None, Location]) -> list[str]:
    """The demo users, one line each: email, role, where (what `flask seed` prints)."""
    default = locations[None].name
    return [f"  {email:<28} {role:<8} {'every location' if role == 'admin' else where or default}"
            for email, _, role, where in STAFF]


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
        db.session.commit()
        created = 0 if has_orders_from(SEED_PREFIX) else seed_orders(staff_by_location(users), products)
        click.echo(f"seeded {len(locations)} locations, {len(users)} users, {len(products)} products, "
                   f"{created} new orders")
        click.echo(f"demo users (password {DEMO_PASSWORD!r} for every one):")
        click.echo("\n".join(staff_list(locations)))
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
