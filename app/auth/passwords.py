"""argon2id password hashing with parameters from the config."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from app.errors import ValidationFailed
from app.models import User


def hasher() -> PasswordHasher:
    """A PasswordHasher built from ARGON2_* settings (argon2id)."""
    return _hasher(*_parameters())


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches; never raises for a wrong or garbled hash."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the configured ones."""
    return hasher().check_needs_rehash(password_hash)


def verify_dummy(password: str) -> None:
    """Spend what a real verification costs, so an unknown email answers in comparable time."""
    verify_password(_dummy_hash(*_parameters()), password)


def _parameters() -> tuple[int, int, int]:
    cfg = current_app.config
    return cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"]


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


@lru_cache(maxsize=8)
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_cost, parallelism).hash("comanda: no such user")


def set_pin(user: User, pin: str | None) -> None:
    """Set or (None) clear an approval PIN, hashed like a password; a waiter's is 422 on `pin`."""
    if pin is None:
        user.pin_hash = None
        return
    if user.role == "waiter":
        raise ValidationFailed(errors={"pin": ["Only managers and admins may have an approval PIN."]})
    user.pin_hash = hash_password(pin)
