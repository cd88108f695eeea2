"""Test data builders. They commit, so HTTP requests in the test see the rows."""

from __future__ import annotations

import itertools
from decimal import Decimal

from flask_jwt_extended import create_access_token, create_refresh_token

from app.extensions import db
from app.models import Product, User
from app.users.services import UserInput, create_user
from tests.constants import PASSWORD

_seq = itertools.count(1)


class Factory:
    """make_user / make_product / headers, all committed."""

    def make_user(self, role: str = "waiter", *, email: str | None = None, name: str | None = None,
                  password: str = PASSWORD, active: bool = True) -> User:
        n = next(_seq)
        user = create_user(UserInput(email=email or f"user{n}@example.com", name=name or f"User {n}",
                                     password=password, role=role))
        user.active = active
        db.session.commit()
        return user

    def make_product(self, name: str | None = None, price: str = "10.00", *, category: str | None = None,
                     active: bool = True) -> Product:
        n = next(_seq)
        product = Product(name=name or f"Product {n}", price_cents=int(Decimal(price) * 100),
                          category=category, active=active)
        db.session.add(product)
        db.session.commit()
        return product

    def token(self, user: User, refresh: bool = False) -> str:
        return create_refresh_token(identity=user) if refresh else create_access_token(identity=user)

    def headers(self, user: User, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}", **extra}

    def role_headers(self, role: str) -> dict[str, str]:
        return self.headers(self.make_user(role))
