"""The feed's opaque cursor: a position per location (API.md v1.2 details: "its opaque cursor may carry a
position per location"). A location missing from a cursor is read from its beginning."""

from __future__ import annotations

import base64
import binascii
import json

from app.errors import InvalidCursor

MAX_LENGTH = 4096
MAX_POSITION = 2**63 - 1


def encode(positions: dict[int, int]) -> str:
    """The cursor for these positions (locations at 0 are left out)."""
    plain = {str(loc): pos for loc, pos in sorted(positions.items()) if pos}
    raw = json.dumps({"v": 1, "p": plain}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> dict[int, int]:
    """The positions in `cursor`; 400 `invalid_cursor` for anything that is not one of ours."""
    try:
        if len(cursor) > MAX_LENGTH:
            raise ValueError("too long")
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(value, dict) or value.get("v") != 1 or not isinstance(value.get("p"), dict):
            raise ValueError("wrong shape")
        positions = {}
        for loc, pos in value["p"].items():
            if not loc.isdigit() or type(pos) is not int or not 0 <= pos <= MAX_POSITION or len(loc) > 18:
                raise ValueError("bad position")
            positions[int(loc)] = pos
        return positions
    except (ValueError, TypeError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None
