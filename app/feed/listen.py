"""Waiting for the feed to move: PostgreSQL LISTEN/NOTIFY (a trigger on feed_events notifies
`comanda_feed` at each commit that adds events); SQLite has no notifications, so a short poll."""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from app.extensions import db

CHANNEL = "comanda_feed"
SQLITE_POLL_SECONDS = 0.25


@contextmanager
def listening(channels: tuple[str, ...] = (CHANNEL,)) -> Iterator[Callable[[float], bool]]:
    """Yield `wait(seconds) -> bool` (True when a notification came). LISTEN starts before the caller
    checks the feed again, so a commit between that check and the wait is never missed."""
    if db.engine.dialect.name != "postgresql":
        yield _sleep
        return
    raw = db.engine.raw_connection()
    conn: Any = raw.driver_connection
    try:
        conn.rollback()
        conn.autocommit = True
        with conn.cursor() as cur:
            for channel in channels:
                cur.execute(f"LISTEN {channel}")
        yield lambda seconds: wait_on(conn, seconds)
    finally:
        try:
            with conn.cursor() as cur:
                cur.execute("UNLISTEN *")
            conn.notifies.clear()
            conn.autocommit = False
        except Exception:  # a broken connection: the pool discards it
            raw.invalidate()
        raw.close()


def wait_on(conn: Any, seconds: float) -> bool:
    """Block until a notification arrives on `conn` (LISTENing, autocommit) or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        conn.poll()
        if conn.notifies:
            conn.notifies.clear()
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        select.select([conn], [], [], remaining)


def _sleep(seconds: float) -> bool:
    time.sleep(min(seconds, SQLITE_POLL_SECONDS))
    return True
