"""Extensions, created unbound here and bound to the app in create_app()."""

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

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


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address)


class ComandaApi(Api):
    """flask-smorest Api documenting our problem+json error body (see app/openapi.py)."""

    DEFAULT_RESPONSE_CONTENT_TYPE = "application/json"

    def _register_error_handlers(self):
        # app/errors.py installs the single problem+json handler instead.
        pass

    def _init_spec(self, **options):
        from app.openapi import ProblemResponsesPlugin, SchemaExtrasPlugin
        from app.replicas import FreshnessHeadersPlugin

        plugins = [*(options.get("extra_plugins") or ()), SchemaExtrasPlugin(), ProblemResponsesPlugin(),
                   FreshnessHeadersPlugin()]
        options["extra_plugins"] = plugins
        super()._init_spec(**options)

    def _register_responses(self):
        # Error responses are problem+json, described with our codes, instead of flask-smorest's ErrorSchema.
        from app.openapi import register_problem_responses

        register_problem_responses(self.spec)


api = ComandaApi()
