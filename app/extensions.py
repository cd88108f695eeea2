"""Extensions, created unbound here and bound to the app in create_app()."""

import time

from flask import g, has_app_context
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from limits.storage import MemoryStorage
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app.web.openapi import ComandaApi

# Deterministic constraint names keep Alembic migrations reproducible on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# `g` key: the engine db.session reads for the rest of a read-only request (app/replicas.py: read_replica_instead).
READ_ENGINE = "comanda_read_engine"


class Session(FlaskSession):
    """db.session: bound to DATABASE_URL, except for the rest of a read-only request that
    app/replicas.py moved to the reports replica because the primary could not be reached."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and has_app_context():
            engine = g.get(READ_ENGINE)
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate()
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address)


class InlineExpiryMemoryStorage(MemoryStorage):
    """limits' in-process storage without its expiry thread (RATELIMIT_STORAGE_URI `comanda-memory://`, the
    default without Redis, and the fallbacks while Redis is down).

    MemoryStorage starts a `threading.Timer` (10 ms) on every counted request whose previous timer has
    finished, only to drop expired counters from its dicts: a thread start per request, which under load
    cost a worker more than the whole request's SQL (bench/README.md). A counter's expiry is already
    honoured when it is read (`get`), so the same sweep runs inline here, at most once a second; the
    counts and windows are exactly MemoryStorage's."""

    STORAGE_SCHEME = ["comanda-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the one MemoryStorage.__init__ started
        self._next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - overrides MemoryStorage's private hook
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


api = ComandaApi()
