"""/openapi.json documents who may call what and how each operation can fail."""

from __future__ import annotations

import re

import pytest
from flask.views import MethodView

from app.errors import PROBLEM_MIMETYPE
from app.models import ROLES
from app.web.openapi import ERROR_DESCRIPTIONS
from tests.constants import LOGIN, USERS

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").json


def protected_operations(app) -> dict[tuple[str, str], tuple[str, ...]]:
    """(method, OpenAPI path) -> roles, read from the auth_required markers on the view functions."""
    found = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
        view_class = getattr(view, "view_class", None)
        for method in METHODS:
            if method.upper() not in rule.methods:
                continue
            is_method_view = isinstance(view_class, type) and issubclass(view_class, MethodView)
            func = getattr(view_class, method) if is_method_view else view
            roles = getattr(func, "_comanda_roles", None)
            if roles:
                found[(method, path)] = roles
    return found


def test_bearer_scheme_is_registered(spec):
    scheme = dict(spec["components"]["securitySchemes"]["bearerAuth"])
    description = scheme.pop("description")
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert "HS256" in description and "RFC8725" in description


def test_security_is_documented_exactly_on_protected_operations(app, spec):
    protected = protected_operations(app)
    assert protected, "no protected operation found"
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            roles = protected.get((method, path))
            if roles is None:
                assert "security" not in operation, (method, path)
                continue
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert operation["x-roles"] == list(roles)
            assert "401" in operation["responses"], (method, path)
            if set(roles) != set(ROLES):
                assert "403" in operation["responses"], (method, path)
            elif "403" in operation["responses"]:  # open to every role: only a route-specific 403
                assert operation["responses"]["403"]["description"] != ERROR_DESCRIPTIONS[403], (method, path)
            assert "**Roles:**" in operation["description"]


def test_standard_errors_follow_the_shape_of_each_operation(spec):
    users, item = spec["paths"][USERS], spec["paths"]["/api/v1/users/{user_id}"]
    assert {"400", "401", "403", "413", "415", "422", "409"} <= set(users["post"]["responses"])
    assert {"400", "401", "403", "422"} <= set(users["get"]["responses"])
    assert {"401", "404"} <= set(item["get"]["responses"]) and "403" not in item["get"]["responses"]
    assert {"401", "403", "404", "409", "422"} <= set(item["patch"]["responses"])
    assert {"401", "403", "404", "409"} <= set(item["delete"]["responses"])
    login = spec["paths"][LOGIN]["post"]
    assert {"401", "422", "429"} <= set(login["responses"]) and "security" not in login
    assert "invalid_credentials" in login["responses"]["401"]["description"]
    assert "Retry-After" in login["responses"]["429"]["headers"]


def test_error_responses_are_problem_json(spec):
    for name, response in spec["components"]["responses"].items():
        assert list(response["content"]) == [PROBLEM_MIMETYPE], name
        assert response["content"][PROBLEM_MIMETYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "WWW-Authenticate" in spec["components"]["responses"]["UNAUTHORIZED"]["headers"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and "$ref" not in response:
                    assert list(response["content"]) == [PROBLEM_MIMETYPE], (method, path, status)


def test_user_schema_shapes(spec):
    schemas = spec["components"]["schemas"]
    assert set(schemas["UserOut"]["properties"]) == {"id", "email", "name", "role", "active", "location_ids",
                                                         "created_at", "has_pin"}  # location_ids: v1.1, has_pin: v1.2
    assert schemas["UserOut"]["properties"]["created_at"]["format"] == "date-time"
    assert set(schemas["UserIn"]["required"]) == {"email", "name", "password"}
    assert "email" not in schemas["UserPatchIn"]["properties"]
    assert set(schemas["UserPage"]["properties"]) == {"data", "next_cursor"}
    assert set(schemas["TokenOut"]["properties"]) == {"access_token", "refresh_token", "token_type", "expires_in",
                                                      "user"}
    assert "password" not in schemas["UserOut"]["properties"]


def test_summaries_come_from_docstrings(spec):
    assert spec["paths"][LOGIN]["post"]["summary"] == "Log in with email and password."
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method in METHODS:
                assert operation.get("summary"), operation
