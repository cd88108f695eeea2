"""What every page the app serves shares (the dashboard, the kitchen screen): a strict
Content-Security-Policy (no CDN, no inline script or style), never cached, never framed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "font-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
ASSET_MAX_AGE = 365 * 24 * 3600


def hashed_name(static_dir: Path, name: str) -> str:
    """`page.js` -> `page.<first 10 hex of its sha256>.js`: a deploy changes the name, so a year's cache is safe."""
    digest = hashlib.sha256((static_dir / name).read_bytes()).hexdigest()[:10]
    stem, ext = name.rsplit(".", 1)
    return f"{stem}.{digest}.{ext}"


def asset_manifest(key: str, static_dir: Path, assets: tuple[str, ...]) -> dict[str, str]:
    """Hashed file name -> real file name of a page's assets, computed once per app (on its first use)."""
    manifest = current_app.extensions.get(key)
    if manifest is None:
        manifest = {hashed_name(static_dir, name): name for name in assets}
        current_app.extensions[key] = manifest
    return manifest
