"""User rules: creation, updates, deactivation. Services flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.auth.passwords import hash_password
from app.errors import Conflict
from app.extensions import db
from app.models import User


class DuplicateEmail(Conflict):
    code, detail = "duplicate_email", "A user with this email already exists."


@dataclass
class UserInput:
    email: str
    name: str
    password: str
    role: str = "waiter"


def create_user(data: UserInput) -> User:
    """Create a user with a lowercased email and an argon2id hash."""
    email = data.email.strip().lower()
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise DuplicateEmail()
    user = User(
        email=email,
        name=data.name.strip(),
        role=data.role,
        password_hash=hash_password(data.password),
        active=True,
        token_version=1,
    )
    db.session.add(user)
    db.session.flush()
    return user
