"""The kitchen page over HTTP: the dashboard's strict CSP, no caching, versioned assets, nothing external."""

from __future__ import annotations

import re

from app.web.pages import CSP

ASSET_URL = re.compile(r'(?:src|href)="([^"]+)"')


def test_the_page_has_the_dashboards_csp(client):
    resp = client.get("/kitchen")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert resp.headers["Content-Security-Policy"] == CSP
    assert client.get("/dashboard").headers["Content-Security-Policy"] == CSP
    assert "no-store" in resp.headers["Cache-Control"]
    html = resp.get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html and " style=" not in html and re.findall(r"\son[a-z]+=", html) == []


def test_assets_are_local_hashed_and_immutable(client):
    urls = ASSET_URL.findall(client.get("/kitchen").get_data(as_text=True))
    assert sorted(url.rsplit(".", 1)[1] for url in urls) == ["css", "js"]
    for url in urls:
        assert re.fullmatch(r"/kitchen/assets/kitchen\.[0-9a-f]{10}\.(js|css)", url), url
        resp = client.get(url)
        assert resp.status_code == 200 and "immutable" in resp.headers["Cache-Control"]
    assert client.get("/kitchen/assets/kitchen.0000000000.js").status_code == 404
