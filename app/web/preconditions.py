"""Optimistic concurrency and retry headers shared by every blueprint: If-Match and Idempotency-Key."""

from __future__ import annotations

import re
from typing import Any

from app.errors import PreconditionRequired

VERSION_DIGITS = re.compile("[0-9]{1,18}")

IDEMPOTENCY_DOC: dict[str, Any] = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": "Retries with the same key and body replay the first answer (`Idempotent-Replayed: true`); "
            "a different body is 422 `idempotency_key_reused`; a concurrent twin waits and replays, or gets 409 "
            "`idempotency_key_in_progress`. Keys are scoped to the caller and kept at least 24 h.",
        }
    ]
}


def if_match_doc(what: str) -> dict[str, Any]:
    """The required If-Match header parameter, carrying `what`'s version."""
    return {"parameters": [{
        "in": "header", "name": "If-Match", "required": True,
        "schema": {"type": "string", "maxLength": 64, "example": '"3"'},
        "description": f'The {what}\'s current version as its ETag, e.g. "3" (428 without, 412 on mismatch).',
    }]}


def parse_if_match(header: str | None) -> int | None:
    """The version in If-Match ("3", W/"3" or 3); None for '*'. 428 when absent."""
    if header is None or not header.strip():
        raise PreconditionRequired()
    value = header.strip()
    if value == "*":
        return None
    value = value.removeprefix("W/").strip('"')
    # ASCII digits only, and few enough to be a version: "²" or 5,000 digits would make int() raise.
    return int(value) if VERSION_DIGITS.fullmatch(value) else -1  # -1 matches no version: 412
