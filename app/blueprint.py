"""The Blueprint every API package uses: flask-smorest with an exact JSON body parser."""

from __future__ import annotations

import typing

import flask
import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request


class ExactParser(FlaskParser):
    """Reads bodies through the app's JSON provider, so 12.5 arrives as Decimal('12.5'), never a float."""

    def _raw_load_json(self, req: flask.Request) -> typing.Any:
        if not is_json_request(req):
            return core.missing
        return req.get_json()  # already checked to be a JSON object by app/http.py


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ExactParser()
