"""The dashboard page over HTTP: security and cache headers, versioned assets, nothing external."""

from __future__ import annotations

import re

from app.dashboard import ASSET_MAX_AGE, STATIC_DIR

ASSET_URL = re.compile(r'(?:src|href)="(/dashboard/assets/[^"]+)"')


def page_assets(client) -> list[str]:
    return ASSET_URL.findall(client.get("/dashboard").get_data(as_text=True))


def test_the_page_has_a_strict_csp_and_is_never_cached(client):
    resp = client.get("/dashboard")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    policy = dict(part.strip().split(" ", 1) for part in resp.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"  # no 'unsafe-inline'
    assert policy["connect-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in resp.headers["Content-Security-Policy"]
    assert "no-cache" in resp.headers["Cache-Control"] and "no-store" in resp.headers["Cache-Control"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_the_html_has_no_inline_script_style_or_handler(client):
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"\son[a-z]+=", html) == []
    assert "javascript:" not in html


def test_assets_have_content_hashed_names_and_a_long_immutable_max_age(client):
    urls = page_assets(client)
    assert sorted(url.rsplit(".", 1)[1] for url in urls) == ["css", "js", "svg"]
    for url in urls:
        assert re.fullmatch(r"/dashboard/assets/(dashboard|favicon)\.[0-9a-f]{10}\.(js|css|svg)", url), url
        resp = client.get(url)
        assert resp.status_code == 200
        assert resp.cache_control.max_age == ASSET_MAX_AGE and resp.cache_control.immutable
        assert resp.mimetype in ("text/javascript", "application/javascript", "text/css", "image/svg+xml")
        real = url.rsplit("/", 1)[1].split(".")
        assert resp.data == (STATIC_DIR / f"{real[0]}.{real[2]}").read_bytes()


def test_an_outdated_or_unknown_asset_name_is_404(client):
    for name in ("dashboard.0000000000.js", "dashboard.js", "../__init__.py", "none"):
        resp = client.get(f"/dashboard/assets/{name}")
        assert resp.status_code == 404, name
        assert resp.mimetype == "application/problem+json"


def test_nothing_is_loaded_from_another_origin(client):
    """No CDN, no web fonts: every URL the page and its assets name is relative to this server."""
    texts = [client.get("/dashboard").get_data(as_text=True)] + [client.get(u).get_data(as_text=True)
                                                                 for u in page_assets(client)]
    for text in texts:
        external = [u for u in re.findall(r"https?://[^\s\"')]+", text) if u != "http://www.w3.org/2000/svg"]
        assert external == []
        assert "@import" not in text and "@font-face" not in text


def test_the_dashboard_is_not_part_of_the_api_document(client):
    paths = client.get("/openapi.json").json["paths"]
    assert not [path for path in paths if path.startswith("/dashboard")]
