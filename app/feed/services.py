"""GET /events: a page of the feed after a cursor, waiting for the first event when asked."""

from __future__ import annotations

import time
from typing import Any

from app.auth.permissions import user_location_ids, visible_location
from app.extensions import db
from app.feed import cursor, listen, queries
from app.models import User


def read(user: User, args: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The events after `args["after"]` in the caller's locations, oldest first, and the next cursor."""
    if args.get("location_id") is not None:
        locations = [visible_location(user, args["location_id"]).id]
    else:
        locations = user_location_ids(user)
    after = args["after"]
    positions = queries.ends(locations) if after == "now" else cursor.decode(after) if after else {}
    rows = queries.page(positions, locations, args["types"], args["limit"])
    if not rows and args["wait"]:
        rows = wait_for_events(positions, locations, args)
    return [row.event for row in rows], cursor.encode(queries.advance(positions, rows))


def wait_for_events(positions: dict[int, int], locations: list[int], args: dict[str, Any]) -> list[queries.Row]:
    """Long poll: LISTEN, look again, then sleep on the notification until an event or the deadline.
    Each look is its own transaction (SQLite's read snapshot lasts as long as its transaction)."""
    deadline = time.monotonic() + args["wait"]
    db.session.rollback()  # no transaction (nor its connection's snapshot) held while waiting
    with listen.listening() as wait:
        while True:
            rows = queries.page(positions, locations, args["types"], args["limit"])
            remaining = deadline - time.monotonic()
            if rows or remaining <= 0:
                return rows
            db.session.rollback()
            wait(remaining)
