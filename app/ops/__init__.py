"""Operations endpoints: health and the locally served Swagger UI assets."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, send_from_directory
from sqlalchemy import text
from swagger_ui_bundle import swagger_ui_path

from app.errors import ServiceUnavailable
from app.extensions import db

bp = Blueprint("ops", __name__)


@bp.get("/health")
def health():
    """Liveness and database reachability."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        raise ServiceUnavailable(database="unavailable") from None
    return {"status": "ok", "database": "ok", "version": current_app.config["APP_VERSION"]}


@bp.get("/docs/assets/<path:filename>")
def swagger_assets(filename: str):
    """Swagger UI files from the swagger-ui-bundle package: /docs works offline."""
    return send_from_directory(swagger_ui_path, filename, max_age=86400)


def register_ops(app: Flask) -> None:
    app.register_blueprint(bp)
