"""Login (and approval PIN) throttling: only failures count, per email (approver) and per client address.

Counting is atomic, so concurrency cannot buy extra guesses: each attempt first takes one unit of
both allowances with the limiter's atomic hit (one INCR in Redis; `limits`' fixed window), and is
refused (429) without checking the password when either is used up. An attempt that then fails
(401) keeps its units; any other outcome (success, 422, an error) gives them back. So of any number
of simultaneous wrong guesses for one email, at most LOGIN_FAILURES_PER_EMAIL are ever checked.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from app.emails import normalize_email
from app.errors import APIError, ErrorCode, InvalidCredentials
from app.extensions import InlineExpiryMemoryStorage, limiter

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("comanda.auth")

# Counts in process memory while the limiter's storage (Redis) is unreachable: logins stay up.
_fallback = FixedWindowRateLimiter(InlineExpiryMemoryStorage())


class LoginThrottled(APIError):
    status, code, detail = 429, ErrorCode.RATE_LIMITED, "Too many requests; slow down."


def retry_after_seconds() -> int:
    """Seconds until the Flask-Limiter limit that was just hit resets (at least 1)."""
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


def _allowances() -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    config = current_app.config
    return [
        (parse(config["LOGIN_FAILURES_PER_ADDRESS"]), ("login-failures", "address", get_remote_address())),
        (parse(config["LOGIN_FAILURES_PER_EMAIL"]), ("login-failures", "email", login_email_key())),
    ]


def _strategy() -> RateLimiter:
    return limiter.limiter


def _take(item: RateLimitItem, key: tuple[str, ...]) -> tuple[RateLimiter, bool]:
    """One unit of `item` for `key`, atomically: (the strategy that counted it, whether it was left)."""
    try:
        strategy = _strategy()
        return strategy, strategy.hit(item, *key)
    except Exception as exc:  # storage unreachable: count here rather than let every login fail
        log.warning("login throttle storage unavailable, counting in memory: %s", type(exc).__name__)
        return _fallback, _fallback.hit(item, *key)


def _give_back(strategy: RateLimiter, item: RateLimitItem, key: tuple[str, ...]) -> None:
    try:
        strategy.storage.incr(item.key_for(*key), item.get_expiry(), amount=-1)
    except Exception as exc:  # the unit stays taken until the window ends: stricter, never looser
        log.warning("login throttle could not give a unit back: %s", type(exc).__name__)


def _retry_after(strategy: RateLimiter, item: RateLimitItem, key: tuple[str, ...]) -> int:
    try:
        reset = strategy.get_window_stats(item, *key).reset_time
    except Exception:
        return item.get_expiry()
    return max(1, min(item.get_expiry(), math.ceil(reset - time.time())))


def throttle_login(view: F) -> F:
    """Over LOGIN_FAILURES_PER_EMAIL or LOGIN_FAILURES_PER_ADDRESS failed logins, answer 429."""
    return _throttled(view, _allowances, InvalidCredentials)


def approver_key() -> str:
    """The approver an approval request names (POST /auth/approvals), as the throttle's key."""
    body = request.get_json(silent=True)
    approver = body.get("approver_id") if isinstance(body, dict) else None
    if not isinstance(approver, int) or isinstance(approver, bool):
        return "-"  # malformed: answered 422, which never counts
    return str(approver)


def _approval_allowances() -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    config = current_app.config
    return [
        (parse(config["LOGIN_FAILURES_PER_ADDRESS"]), ("approval-failures", "address", get_remote_address())),
        (parse(config["LOGIN_FAILURES_PER_EMAIL"]), ("approval-failures", "approver", approver_key())),
    ]


def throttle_approvals(failure: type[Exception]) -> Callable[[F], F]:
    """PIN tries, per approver exactly like logins per email: over LOGIN_FAILURES_PER_EMAIL failures
    (`failure`, the 403 approval_denied) within the window, 429, also for the right PIN."""

    def decorator(view: F) -> F:
        return _throttled(view, _approval_allowances, failure)

    return decorator


def _throttled(view: F, allowances: Callable[[], list[tuple[RateLimitItem, tuple[str, ...]]]],
               failure: type[Exception]) -> F:
    """`view` behind atomic failure allowances: each call takes a unit of each, a `failure` keeps them."""

    @wraps(view)
    def throttled(*args: Any, **kwargs: Any) -> Any:
        if not current_app.config.get("RATELIMIT_ENABLED", True):
            return view(*args, **kwargs)
        taken: list[tuple[RateLimiter, RateLimitItem, tuple[str, ...]]] = []
        failed = False
        try:
            for item, key in allowances():
                strategy, left = _take(item, key)
                taken.append((strategy, item, key))
                if not left:
                    raise LoginThrottled(headers={"Retry-After": str(_retry_after(strategy, item, key))})
            try:
                return view(*args, **kwargs)
            except failure:
                failed = True  # a wrong guess keeps the units it took
                raise
        finally:
            if not failed:
                for strategy, item, key in taken:
                    _give_back(strategy, item, key)

    return throttled  # type: ignore[return-value]  # wraps keeps the signature


def only_decorated_limits(app: Flask) -> None:
    """Drop Flask-Limiter's before-request check: the app's only limits are the login ones above.

    That hook resolves the endpoint's limits on every request (~0.2 ms of CPU per request in the
    profile) only to find none: the app sets no default or application-wide limits, and the login
    allowances are taken atomically by `throttle_login` with the limiter's storage. Should default or
    application limits ever be configured, the hook stays.
    """
    if app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION"):
        return
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks if hook != limiter._check_request_limit]
