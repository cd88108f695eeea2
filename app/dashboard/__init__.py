"""The manager's dashboard: one HTML page and its static assets, a pure client of the JSON API.

Not part of the OpenAPI document: a plain Flask blueprint. The page carries a strict
Content-Security-Policy and is never cached; the assets are served under content-hashed names
(`dashboard.<sha256:10>.js`) with a one-year immutable max-age, so a deploy is picked up at once.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, render_template, send_from_directory

from app.web import pages
from app.web.pages import ASSET_MAX_AGE, CSP, PAGE_HEADERS  # noqa: F401  (CSP: tests read it here)

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS = ("dashboard.css", "dashboard.js", "favicon.svg")

bp = Blueprint("dashboard", __name__, template_folder="templates")


def hashed_name(name: str) -> str:
    """`dashboard.js` -> `dashboard.<first 10 hex of its sha256>.js`."""
    return pages.hashed_name(STATIC_DIR, name)


def asset_manifest() -> dict[str, str]:
    """Hashed file name -> real file name, computed once per app (on its first use)."""
    return pages.asset_manifest("dashboard_assets", STATIC_DIR, ASSETS)


@bp.get("/dashboard")
def page():
    """The dashboard page: login form, then the figures, all drawn by dashboard.js."""
    urls = {real: hashed for hashed, real in asset_manifest().items()}
    html = render_template("dashboard.html", css=urls["dashboard.css"], js=urls["dashboard.js"],
                           icon=urls["favicon.svg"], currency=current_app.config["CURRENCY"])
    return html, 200, {"Content-Type": "text/html; charset=utf-8", **PAGE_HEADERS}


@bp.get("/dashboard/assets/<asset>")
def asset(asset: str):
    """A versioned asset; an unknown or outdated hash is 404, so a stale name is never cached as current."""
    real = asset_manifest().get(asset)
    if real is None:
        abort(404)
    response = send_from_directory(STATIC_DIR, real, max_age=ASSET_MAX_AGE)
    response.cache_control.immutable = True
    response.cache_control.public = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def register_dashboard(app: Flask) -> None:
    app.register_blueprint(bp)
