"""Reading query strings: a parameter the endpoint does not declare is 422, on every endpoint, here only;
so is a name or value holding the NUL character (`?q=%00`), which no database text can store.
(Query strings cannot carry unpaired surrogates: werkzeug decodes invalid UTF-8 as U+FFFD.)

webargs would drop unknown query parameters silently (its default for the query location), and an
endpoint without a query schema would never look at them; this gate checks every API request
against the names its view declares with `@blp.arguments(..., location="query")`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from marshmallow import Schema

from app.errors import ValidationFailed

UNKNOWN = "Unknown field."
NUL_MESSAGE = "Must not contain the NUL character (%00)."
QUERY_LOCATIONS = ("query", "querystring")


def declared_query_names(view: Callable[..., Any]) -> frozenset[str] | None:
    """The query parameter names a flask-smorest view declares; None when the view is not an API view."""
    apidoc = getattr(view, "_apidoc", None)
    if apidoc is None:
        return None
    names: set[str] = set()
    for parameter in apidoc.get("arguments", {}).get("parameters", []):
        if not isinstance(parameter, dict) or parameter.get("in") not in QUERY_LOCATIONS:
            continue
        schema = parameter["schema"]
        schema = schema() if isinstance(schema, type) else schema
        if isinstance(schema, Schema):
            names.update(field.data_key or name for name, field in schema.fields.items())
    return frozenset(names)


def view_for_request() -> Callable[..., Any] | None:
    """The function that will answer this request (the method of a MethodView), if any."""
    if request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = "get" if request.method == "HEAD" else request.method.lower()
        return getattr(view_class, method, None)
    return view


def reject_unknown_query() -> None:
    """422 `validation_error` naming each query parameter that holds NUL or that the endpoint does not take."""
    if not request.args:
        return
    with_nul = sorted({name for name, value in request.args.items(multi=True) if "\x00" in name or "\x00" in value})
    if with_nul:
        raise ValidationFailed(
            "A query parameter is invalid.", errors={name.replace("\x00", "\ufffd"): [NUL_MESSAGE] for name in with_nul}
        )
    view = view_for_request()
    allowed = declared_query_names(view) if view is not None else None
    if allowed is None:  # not an API view (docs, static assets): not ours to police
        return
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise ValidationFailed("A query parameter is not recognised.", errors={name: [UNKNOWN] for name in unknown})


def register_query_gate(app: Flask) -> None:
    """Check every request's query string against its endpoint's declared parameters."""
    app.before_request(reject_unknown_query)
