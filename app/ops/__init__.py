"""Operations: the documented health check, and the Swagger UI assets served from a local package."""

from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import Flask, current_app, send_from_directory
from marshmallow import Schema, fields
from sqlalchemy import text
from swagger_ui_bundle import swagger_ui_path

from app.database import answer_within
from app.errors import ServiceUnavailable
from app.extensions import db
from app.web.json_body import Blueprint
from app.web.openapi import ERROR_HEADERS, problem_doc

blp = Blueprint("operations", __name__, description="Health of the service.")
assets = FlaskBlueprint("docs_assets", __name__)


class HealthOut(Schema):
    status = fields.String(metadata={"example": "ok"})
    database = fields.String(metadata={"example": "ok"})
    version = fields.String(metadata={"example": "1.0.0"})


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthOut)
@blp.alt_response(
    503,
    **problem_doc('`service_unavailable` with `"database": "unavailable"`.', headers=ERROR_HEADERS[503]),
)
@blp.doc(operationId="getHealth")
def health():
    """Liveness and database reachability (no authentication)

    200 with `"database": "ok"` when the database answers `SELECT 1` within HEALTH_TIMEOUT_MS (1 s);
    503 otherwise, and at once while this server process found the database silent less than
    DB_FREEZE_CHECK_MS (1 s) ago (a frozen database). For load balancers
    and orchestrators: it needs no token and reveals nothing but the version.
    """
    try:
        with answer_within(current_app.config["HEALTH_TIMEOUT_MS"] / 1000):
            db.session.execute(text("SELECT 1"))
            # The transaction ends inside the bound too: left to the request's teardown, its ROLLBACK could
            # meet a server frozen right after the SELECT and wait for the freeze check like any request.
            db.session.rollback()
    except Exception:
        db.session.rollback()
        raise ServiceUnavailable(database="unavailable") from None
    return {"status": "ok", "database": "ok", "version": current_app.config["APP_VERSION"]}


@assets.get("/docs/assets/<path:filename>")
def swagger_assets(filename: str):
    """Swagger UI files from the swagger-ui-bundle package: /docs works offline."""
    return send_from_directory(swagger_ui_path, filename, max_age=86400)


def register_ops(app: Flask) -> None:
    from app.extensions import api

    api.register_blueprint(blp)
    app.register_blueprint(assets)
