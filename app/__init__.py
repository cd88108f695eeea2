"""Comanda: the backend of a restaurant point-of-sale system."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import Config, load_config

__version__ = "1.0.0"


def create_app(config: Config | str | None = None) -> Flask:
    """Build the application: a table of contents of register_* steps."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.config.from_object(config if isinstance(config, Config) else load_config(config))
    app.config["APP_VERSION"] = __version__
    register_routing(app)
    register_logging(app)
    register_extensions(app)
    register_request_hooks(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_cli(app)
    return app


def register_routing(app: Flask) -> None:
    from app.web.routing import register_converters

    register_converters(app)


def register_logging(app: Flask) -> None:
    from app.web.request_log import configure_logging

    configure_logging(app)


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (tables must be known to Alembic)
    from app.auth.throttle import only_decorated_limits
    from app.auth.tokens import register_jwt_callbacks
    from app.database import register_database_events
    from app.extensions import api, db, jwt, limiter, migrate
    from app.models import ROLES
    from app.outbox import register_outbox
    from app.replicas import FreshnessHeadersPlugin
    from app.web.openapi import (
        API_DESCRIPTION,
        BEARER_SCHEME,
        ProblemResponsesPlugin,
        SchemaExtrasPlugin,
        id_converter_schema,
    )
    from app.web.routing import BigIdConverter, IdConverter

    db.init_app(app)
    register_database_events(app)
    register_outbox()
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), compare_type=True)
    jwt.init_app(app)
    register_jwt_callbacks(jwt)
    limiter.init_app(app)
    only_decorated_limits(app)
    plugins = [SchemaExtrasPlugin(), ProblemResponsesPlugin(ROLES), FreshnessHeadersPlugin()]
    api.init_app(app, spec_kwargs={"info": {"description": API_DESCRIPTION}, "extra_plugins": plugins})
    api.spec.components.security_scheme("bearerAuth", BEARER_SCHEME)
    api.register_converter(IdConverter, id_converter_schema)
    api.register_converter(BigIdConverter, id_converter_schema)


def register_request_hooks(app: Flask) -> None:
    from app.web.json_body import register_json_body
    from app.web.query import register_query_gate
    from app.web.ratelimit import register_rate_limits
    from app.web.request_log import register_request_log
    from app.web.transaction import register_transaction

    # Order matters: after_request hooks run in reverse, so the commit runs before the access log.
    register_request_log(app)
    register_rate_limits(app)
    register_json_body(app)
    register_query_gate(app)
    register_transaction(app)


def register_blueprints(app: Flask) -> None:
    from app.auth.routes import blp as auth_blp
    from app.cash.routes import blp as cash_blp
    from app.dashboard import register_dashboard
    from app.extensions import api
    from app.feed.openapi import document_webhooks
    from app.feed.routes import events_blp, webhooks_blp
    from app.kitchen.page import register_kitchen_page
    from app.kitchen.routes import blp as kitchen_blp
    from app.locations.routes import blp as locations_blp
    from app.ops import register_ops
    from app.orders.routes import blp as orders_blp
    from app.products.routes import blp as products_blp
    from app.replicas import register_report_reads
    from app.reports.routes import blp as reports_blp
    from app.tables.routes import blp as tables_blp
    from app.users.routes import blp as users_blp

    for blp in (auth_blp, users_blp, locations_blp, products_blp, orders_blp, reports_blp, events_blp, webhooks_blp):
        api.register_blueprint(blp, url_prefix=f"/api/v1/{blp.name}")
    api.register_blueprint(tables_blp, url_prefix="/api/v1")  # /locations/{id}/tables and /tables/{id}
    api.register_blueprint(kitchen_blp, url_prefix="/api/v1")  # its paths span /locations, /orders, /kitchen
    api.register_blueprint(cash_blp, url_prefix="/api/v1")  # its paths name locations, drawers and sessions
    document_webhooks(api.spec)
    register_ops(app)
    register_dashboard(app)
    register_kitchen_page(app)
    register_report_reads(app, reports_blp.name)


def register_error_handlers(app: Flask) -> None:
    from app.auth.throttle import retry_after_seconds
    from app.errors import register_error_handlers as register

    register(app, retry_after={429: retry_after_seconds})


def register_cli(app: Flask) -> None:
    from app.cli import register_commands

    register_commands(app)

