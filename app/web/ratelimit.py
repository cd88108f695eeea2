"""Request rate limits (OWASP API4): every /api/ request counts against its client address, every
authenticated one also against its user; over either allowance the answer is 429 `rate_limited`.

Allowances are RATELIMIT_PER_ADDRESS and RATELIMIT_PER_USER (Flask-Limiter syntax, "1200 per
minute"), counted in fixed windows in the limiter's storage: Redis when REDIS_URL is set, so every
worker and server shares them; while Redis is unreachable, in process memory (stricter per process,
never unlimited, never an error). Failed logins keep their own, much stricter, allowances
(app/auth/throttle.py).

Every answer of a counted request carries the IETF headers (draft-ietf-httpapi-ratelimit-headers):
`RateLimit-Policy` lists the allowances that applied (`"user";q=1200;w=60`) and `RateLimit` the one
closest to running out (`"user";r=1187;t=42`: 1187 requests left, the window resets in 42 s). A 429
also has `Retry-After` (= t). /health, the OpenAPI document and the dashboard's files are not counted.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.strategies import FixedWindowRateLimiter, RateLimiter
from limits.util import WindowStats

from app.errors import APIError, ErrorCode
from app.extensions import InlineExpiryMemoryStorage, limiter
from app.web.openapi import COUNTED_PREFIX

log = logging.getLogger("comanda.ratelimit")
_fallback = FixedWindowRateLimiter(InlineExpiryMemoryStorage())
COUNTS_KEY = "comanda.rate_limits"


class RateLimited(APIError):
    status, code, detail = 429, ErrorCode.RATE_LIMITED, "Too many requests; slow down and retry after Retry-After."


@dataclass(frozen=True)
class Count:
    """One allowance after this request's hit: its name, size, window (s), what is left, seconds to reset."""

    name: str
    quota: int
    window: int
    remaining: int
    reset: int
    allowed: bool


def _strategy() -> RateLimiter:
    return limiter.limiter


def _take(name: str, item: RateLimitItem, key: str) -> Count:
    identifiers = ("requests", name, key)
    try:
        allowed, stats = _hit(_strategy(), item, identifiers)
    except Exception as exc:  # storage unreachable: count here rather than fail or stop counting
        log.warning("rate limit storage unavailable, counting in memory: %s", type(exc).__name__)
        allowed, stats = _hit(_fallback, item, identifiers)
    window = item.get_expiry()
    reset = max(1, min(window, math.ceil(stats.reset_time - time.time())))
    return Count(name, item.amount, window, stats.remaining if allowed else 0, reset, allowed)


def _hit(strategy: RateLimiter, item: RateLimitItem, identifiers: tuple[str, ...]) -> tuple[bool, WindowStats]:
    """One hit and the window after it. For a fixed window (the default), the hit's own new count says
    what is left, so only the reset time is asked for: two storage calls (Redis round trips) instead of
    `hit` + `get_window_stats`'s three, with the same figures."""
    if not isinstance(strategy, FixedWindowRateLimiter):
        return strategy.hit(item, *identifiers), strategy.get_window_stats(item, *identifiers)
    key = item.key_for(*identifiers)
    taken = strategy.storage.incr(key, item.get_expiry())
    return taken <= item.amount, WindowStats(strategy.storage.get_expiry(key), max(0, item.amount - taken))


def count(name: str, setting: str, key: str) -> None:
    """Take one request of the allowance `setting` for `key`; 429 (with the headers) when none was left."""
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return
    counted = _take(name, parse(config[setting]), key)
    # On the request, not on `g`: an app context can outlive one request (tests, CLI).
    counts: list[Count] = request.environ.setdefault(COUNTS_KEY, [])
    counts.append(counted)
    if not counted.allowed:
        raise RateLimited(headers={"Retry-After": str(counted.reset)})


def count_address() -> None:
    """before_request: every /api/ request takes one of its client address's allowance."""
    if request.path.startswith(COUNTED_PREFIX):
        count("address", "RATELIMIT_PER_ADDRESS", get_remote_address() or "-")


def count_user(user_id: int) -> None:
    """Called by auth_required once the token is verified: one of the user's allowance."""
    count("user", "RATELIMIT_PER_USER", str(user_id))


def add_headers(response: Response) -> Response:
    """after_request: the RateLimit-Policy and RateLimit headers of the allowances this request took."""
    counts: list[Count] = request.environ.get(COUNTS_KEY) or []
    if counts:
        response.headers["RateLimit-Policy"] = ", ".join(f'"{c.name}";q={c.quota};w={c.window}' for c in counts)
        tightest = min(counts, key=lambda c: (c.remaining, -c.reset))
        response.headers["RateLimit"] = f'"{tightest.name}";r={tightest.remaining};t={tightest.reset}'
    return response


def register_rate_limits(app: Flask) -> None:
    app.before_request(count_address)
    app.after_request(add_headers)
