"""`flask seed`: idempotent demo data for a Mexican restaurant."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.models import Product, User, normalize_name

STAFF = [
    ("admin@comanda.local", "Administrator", "admin"),
    ("gerente@comanda.local", "Marta Gerente", "manager"),
    ("luis@comanda.local", "Luis", "waiter"),
    ("ana@comanda.local", "Ana", "waiter"),
    ("pedro@comanda.local", "Pedro", "waiter"),
    ("sofia@comanda.local", "Sofía", "waiter"),
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
]


def seed_users() -> list[User]:
    from app.users.services import UserInput, create_user

    users = []
    for email, name, role in STAFF:
        user = db.session.scalar(select(User).where(User.email == email))
        users.append(user or create_user(UserInput(email=email, name=name, password=DEMO_PASSWORD, role=role)))
    return users


def seed_products() -> list[Product]:
    from decimal import Decimal

    products = []
    for name, price, category in MENU:
        product = db.session.scalar(select(Product).where(Product.name_key == normalize_name(name)))
        if product is None:
            product = Product(name=name, price_cents=int(Decimal(price) * 100), category=category, active=True)
            db.session.add(product)
        products.append(product)
    db.session.flush()
    return products


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Create demo staff, the menu and (once) a month of orders. Safe to run twice."""
    users = seed_users()
    products = seed_products()
    db.session.commit()
    click.echo(f"seeded {len(users)} users (password {DEMO_PASSWORD!r}) and {len(products)} products")
