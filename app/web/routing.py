"""URL converters: path ids beyond what a database integer holds simply match nothing (404)."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from app.columns import MAX_BIG_ID, MAX_ID


class IdConverter(IntegerConverter):
    """`<int:...>` limited to 1..2^31-1, the range of our id columns."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class BigIdConverter(IdConverter):
    """`<bigid:...>`: an id that grows with orders (order, line, discount), 1..2^63-1 (BIGINT columns)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_BIG_ID)
        super().__init__(url_map, *args, **kwargs)


def register_converters(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["bigid"] = BigIdConverter
    # `/api/v1//orders` is no path of ours: 404 problem+json, not werkzeug's HTML 308 to the merged path
    # (Flask answers routing redirects itself, past every error handler).
    app.url_map.merge_slashes = False
