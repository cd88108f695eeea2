"""Reading JSON bodies: the exact provider (numbers become Decimal, nesting is bounded), the webargs
parser and the Blueprint that uses it, and the gate that lets only JSON objects of clean text through.

Hostile input is refused here, once, for every endpoint: a body nested deeper than MAX_JSON_DEPTH is
400 `malformed_json` (never a RecursionError), and a string anywhere in the body (member names too)
holding NUL or an unpaired surrogate (`"\\ud800"`), which no database text column can store, is 422
`validation_error` keyed by its dotted path. An endpoint that validates a list's items one by one
(the batch) names that list with `@checks_items_itself("orders")`, and checks each item with
`text_problems` (app/fields.py) itself, so one bad item is rejected alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import flask_smorest
from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from app.errors import MalformedJSON, UnsupportedMediaType, ValidationFailed
from app.fields import text_problems
from app.web.query import view_for_request

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_JSON_DEPTH = 32  # arrays and objects inside each other; the deepest real body (a batch) has 5
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"\[\]|\{\}")
# Only a body whose raw text holds NUL, a \u0000 or \ud800-\udfff escape, or a UTF-8 encoded surrogate
# can parse into bad text: the walk over every string is skipped for all others.
_MAYBE_BAD_TEXT = re.compile(rb"\x00|\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})|\xed[\xa0-\xbf]")
ITEMS_ATTRIBUTE = "_checks_items_itself"

F = TypeVar("F", bound=Callable[..., Any])


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class ExactJSONProvider(DefaultJSONProvider):
    """Parses 12.5 as Decimal('12.5') and refuses NaN/Infinity; dumps Decimal as a string."""

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", Decimal)
        kwargs.setdefault("parse_constant", _reject_constant)
        if isinstance(s, (bytes, bytearray)):  # UnicodeDecodeError is a ValueError: malformed
            s = bytes(s).decode(json.detect_encoding(s), "surrogatepass")
        if nesting_exceeds(s, MAX_JSON_DEPTH):
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            return json.loads(s, **kwargs)
        except RecursionError:  # unreachable after the depth check; never a 500 all the same
            raise ValueError("JSON nested too deeply") from None


def nesting_exceeds(text: str, limit: int) -> bool:
    """Whether arrays/objects in the JSON `text` nest deeper than `limit` (brackets inside strings do
    not count), before the recursive parser ever sees it. All at C speed: drop the strings, keep the
    brackets, then peel the innermost pairs away once per level. (Unbalanced brackets count as too
    deep: the text is not JSON either way.)"""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(limit):
        if not brackets:
            return False
        brackets = _INNERMOST_PAIR.sub("", brackets)
    return bool(brackets)


def checks_items_itself(member: str) -> Callable[[F], F]:
    """Mark a view whose body's `member` list is validated item by item (a bad item is rejected
    alone): the body gate then leaves that list's items to the view, which calls `text_problems`."""

    def mark(view: F) -> F:
        names: frozenset[str] = getattr(view, ITEMS_ATTRIBUTE, frozenset())
        setattr(view, ITEMS_ATTRIBUTE, names | {member})
        return view

    return mark


class ExactParser(FlaskParser):
    """Reads bodies through the app's JSON provider, so 12.5 arrives as Decimal('12.5'), never a float."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return core.missing
        return req.get_json()  # already checked to be a JSON object by check_json_body


class Blueprint(flask_smorest.Blueprint):
    """The Blueprint every API package uses: flask-smorest with the exact JSON body parser."""

    ARGUMENTS_PARSER = ExactParser()


def check_json_body() -> None:
    """Bodies must be JSON objects of clean text; the size limit is enforced by MAX_CONTENT_LENGTH (413)."""
    if request.method not in BODY_METHODS:
        return
    has_body = bool(request.content_length) or bool(request.headers.get("Transfer-Encoding"))
    if not has_body:
        return
    if not request.is_json:
        raise UnsupportedMediaType()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise MalformedJSON()
    if not _MAYBE_BAD_TEXT.search(request.get_data()):
        return
    view = view_for_request()
    problems = text_problems(payload, skip=getattr(view, ITEMS_ATTRIBUTE, frozenset()))
    if problems:
        raise ValidationFailed(errors=problems)


def register_json_body(app: Flask) -> None:
    """Install the exact JSON provider and the object gate."""
    app.json = ExactJSONProvider(app)
    app.before_request(check_json_body)
