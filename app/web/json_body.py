"""Reading JSON bodies: the exact provider (numbers become Decimal), the webargs parser and the
Blueprint that uses it, and the gate that lets only JSON objects through."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import flask_smorest
from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from app.errors import MalformedJSON, UnsupportedMediaType

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class ExactJSONProvider(DefaultJSONProvider):
    """Parses 12.5 as Decimal('12.5') and refuses NaN/Infinity; dumps Decimal as a string."""

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", Decimal)
        kwargs.setdefault("parse_constant", _reject_constant)
        return json.loads(s, **kwargs)


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
    """Bodies must be JSON objects; the size limit is enforced by MAX_CONTENT_LENGTH (413)."""
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


def register_json_body(app: Flask) -> None:
    """Install the exact JSON provider and the object gate."""
    app.json = ExactJSONProvider(app)
    app.before_request(check_json_body)
