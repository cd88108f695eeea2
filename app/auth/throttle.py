"""Login throttling helpers (Flask-Limiter)."""

from __future__ import annotations

import math
import time

from app.extensions import limiter


def retry_after_seconds() -> int:
    """Seconds until the limit that was just hit resets (at least 1)."""
    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, math.ceil(limit.reset_at - time.time()))
