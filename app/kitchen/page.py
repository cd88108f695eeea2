"""The kitchen screen: one HTML page and its assets, a pure client of the JSON API (like the dashboard),
under the dashboard's strict Content-Security-Policy. Not part of the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, render_template, send_from_directory

from app.web import pages
from app.web.pages import ASSET_MAX_AGE, PAGE_HEADERS

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS = ("kitchen.css", "kitchen.js")

bp = Blueprint("kitchen_page", __name__, template_folder="templates")


def hashed_name(name: str) -> str:
    """`kitchen.js` -> `kitchen.<first 10 hex of its sha256>.js`."""
    return pages.hashed_name(STATIC_DIR, name)


def _manifest() -> dict[str, str]:
    return pages.asset_manifest("kitchen_assets", STATIC_DIR, ASSETS)


@bp.get("/kitchen")
def page():
    """The kitchen screen: sign in, pick a station, bump tickets; all drawn by kitchen.js."""
    urls = {real: hashed for hashed, real in _manifest().items()}
    html = render_template("kitchen.html", css=urls["kitchen.css"], js=urls["kitchen.js"])
    return html, 200, {"Content-Type": "text/html; charset=utf-8", **PAGE_HEADERS}


@bp.get("/kitchen/assets/<kitchen_asset>")
def asset(kitchen_asset: str):
    """A versioned asset (content-hashed name, cached for a year); an unknown name is 404."""
    real = _manifest().get(kitchen_asset)
    if real is None:
        abort(404)
    response = send_from_directory(STATIC_DIR, real, max_age=ASSET_MAX_AGE)
    response.cache_control.immutable = True
    response.cache_control.public = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def register_kitchen_page(app: Flask) -> None:
    app.register_blueprint(bp)
