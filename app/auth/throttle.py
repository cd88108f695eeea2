"""Login throttling (Flask-Limiter): only failed logins count, per email and per client address."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, request
from flask_limiter.util import get_remote_address

from app.extensions import limiter
from app.users.services import normalize_email

F = TypeVar("F", bound=Callable)


def retry_after_seconds() -> int:
    """Seconds until the limit that was just hit resets (at least 1)."""
    limit = limiter.current_limit
    if limit is None:
        return 60
    # window[0] is the exact reset time; RequestLimit.reset_at rounds it up by a further second.
    return max(1, math.ceil(limit.window[0] - time.time()))


def login_email_key() -> str:
    """The email of a login attempt, normalized like the lookup, so case does not dodge the limit."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip():
        return "-"  # malformed: answered 422, which never counts
    return normalize_email(email)


def is_failed_login(response: Response) -> bool:
    """Only wrong credentials count: successes and malformed requests never use up the allowance."""
    return response.status_code == 401


def throttle_login(view: F) -> F:
    """Over LOGIN_FAILURES_PER_EMAIL or LOGIN_FAILURES_PER_ADDRESS failed logins, answer 429."""
    per_address = limiter.limit(
        lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS"],
        key_func=get_remote_address,
        deduct_when=is_failed_login,
    )
    per_email = limiter.limit(
        lambda: current_app.config["LOGIN_FAILURES_PER_EMAIL"], key_func=login_email_key, deduct_when=is_failed_login
    )
    return per_address(per_email(view))  # type: ignore[return-value]  # flask-limiter types its decorator loosely


def only_decorated_limits(app: Flask) -> None:
    """Drop Flask-Limiter's before-request check: the app's only limits are the decorated login ones.

    That hook resolves the endpoint's limits on every request (~0.2 ms of CPU per request in the
    profile) only to find none: the app sets no default or application-wide limits, and a decorated
    limit is checked by its decorator when the view runs (and deducted by the after-request hook,
    which stays). Should default or application limits ever be configured, the hook stays too.
    """
    if app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION"):
        return
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks if hook != limiter._check_request_limit]
