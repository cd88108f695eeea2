"""JSON provider: numbers in request bodies become Decimal, never binary floats."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask.json.provider import DefaultJSONProvider


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class ExactJSONProvider(DefaultJSONProvider):
    """Parses 12.5 as Decimal('12.5') and refuses NaN/Infinity; dumps Decimal as a string."""

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", Decimal)
        kwargs.setdefault("parse_constant", _reject_constant)
        return json.loads(s, **kwargs)
