"""The OpenAPI document: description text, problem+json error responses, and the plugin that adds
the standard error answers to every operation so no blueprint has to list them by hand.

Every operation gets, when it applies:
- 401 when it is protected (`auth_required` puts `security` in its doc), 403 when only some roles
  may call it (the roles are also written into its description), 404 when its path has a parameter,
  400/413/415 when it takes a JSON body, 400 when it takes query parameters, 422 everywhere (an
  undeclared query parameter), and 500 and 503 everywhere (a bug; the database unreachable).
  No operation has a catch-all `default` answer: every status a client can get is listed.
- Route-specific errors (409 `duplicate_email`, 429 on login, ...) are added on the route with
  `@blp.alt_response(409, **problem_doc("..."))`; the plugin never overrides what a route documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from flask_smorest import Api
from marshmallow import fields

from app.errors import PROBLEM_MIMETYPE, ErrorCode
from app.fields import OneOfOut, OneOfSchemas, ProblemSchema, RawAs

ROLES_EXTENSION = "x-roles"  # set on operations by auth_required (app/auth/permissions.py)

API_DESCRIPTION = """
Backend of the Comanda restaurant point-of-sale system. All endpoints live under `/api/v1`
and speak JSON. Authenticate with `POST /api/v1/auth/login`, then send
`Authorization: Bearer <access_token>`.

**Errors** are `application/problem+json` with a stable `code`
(`validation_error`, `not_found`, `unauthorized`, ...), `errors` keyed by dotted field path on
validation failures, and the `request_id` that is also in the `X-Request-ID` header.

**Money** is a decimal string with two places (`"12.50"`); inputs accept a string or number
with at most two decimals. **Timestamps** are UTC ISO 8601 with `Z`. **Lists** take `limit`
(1-200, default 50) and an opaque `cursor`, and answer `{"data": [...], "next_cursor": ...}`.
Unknown fields in a body are rejected with 422.

**The manager's dashboard** at `/dashboard` is an HTML page served by the same app but not part
of this API: it is a browser client of these endpoints (auth, `/reports/*`, `/locations`).

**Unavailable or unknown.** 503 `service_unavailable` means the database could not be reached and
nothing was written: retry after `Retry-After`. 504 `outcome_unknown` (writes only) means the commit
was sent and the database stopped answering: the change may or may not be stored, so retry with
the same `Idempotency-Key` or `client_order_id`, never with a new one.
"""

RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "format": "int32", "minimum": 1},
}

# What each error status means in this API; the codes are the stable `code` values.
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: f"`{ErrorCode.MALFORMED_JSON}` (body is not a JSON object) or `{ErrorCode.INVALID_CURSOR}`.",
    401: f"`{ErrorCode.UNAUTHORIZED}`: no token, or a malformed, expired or revoked one, or its user is inactive.",
    403: f"`{ErrorCode.FORBIDDEN}`: your role may not do this.",
    404: f"`{ErrorCode.NOT_FOUND}`: no such resource, or one you may not see.",
    405: f"`{ErrorCode.METHOD_NOT_ALLOWED}`.",
    409: "Conflict with the current state; see `code`.",
    412: f"`{ErrorCode.PRECONDITION_FAILED}`: `If-Match` does not match the current version.",
    413: f"`{ErrorCode.PAYLOAD_TOO_LARGE}`: the body is over 1 MiB.",
    414: f"`{ErrorCode.URI_TOO_LONG}`: the request line (path and query string) is over 4 KiB; answered by the "
    "server in front of the app (nginx, or gunicorn).",
    415: f"`{ErrorCode.UNSUPPORTED_MEDIA_TYPE}`: send the body as `application/json`.",
    422: f"`{ErrorCode.VALIDATION_ERROR}`: `errors` maps dotted field paths (or unknown query parameters) to messages.",
    428: f"`{ErrorCode.PRECONDITION_REQUIRED}`: this request needs `If-Match`.",
    431: f"`{ErrorCode.HEADER_TOO_LARGE}`: a header line is over 4 KiB, or all headers together over 16 KiB; "
    "answered by the server in front of the app.",
    429: f"`{ErrorCode.RATE_LIMITED}`: too many requests (per client address, and per user when signed in; "
    "failed logins have their own stricter allowances); retry after `Retry-After` seconds.",
    500: f"`{ErrorCode.INTERNAL_ERROR}`.",
    503: f"`{ErrorCode.SERVICE_UNAVAILABLE}`: the database is unreachable and nothing was written; see `Retry-After`.",
    504: (
        f"`{ErrorCode.OUTCOME_UNKNOWN}`: the database stopped answering after the commit was sent, so the change "
        "may or may not be stored. Retry with the same `Idempotency-Key` (or, for orders, the same "
        "`client_order_id`): the retry replays or reports the stored result instead of writing twice."
    ),
}
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    429: {"Retry-After": RETRY_AFTER},
    503: {"Retry-After": RETRY_AFTER},
    504: {"Retry-After": RETRY_AFTER},
}

# The rate limits every /api/ request counts against (app/web/ratelimit.py) and their headers.
COUNTED_PREFIX = "/api/"

RATELIMIT_HEADERS: dict[str, Any] = {
    "RateLimit-Policy": {
        "description": "The request allowances that applied (IETF draft-ietf-httpapi-ratelimit-headers): "
        '`"address";q=6000;w=60` per client address and, when signed in, `"user";q=1200;w=60` per user '
        "(q requests per w seconds).",
        "schema": {"type": "string", "maxLength": 200, "example": '"address";q=6000;w=60, "user";q=1200;w=60'},
    },
    "RateLimit": {
        "description": "The allowance closest to running out: `r` requests left, `t` seconds until its window resets.",
        "schema": {"type": "string", "maxLength": 100, "example": '"user";r=1187;t=42'},
    },
}


def counted(path: str) -> bool:
    """Whether requests to `path` are counted (and so carry the headers)."""
    return path.startswith(COUNTED_PREFIX)


def document_headers(path: str, responses: dict[Any, Any]) -> None:
    """Add the RateLimit headers to every 2xx and 4xx response of a counted operation, and its 429."""
    if not counted(path):
        return
    if not any(str(status) == "429" for status in responses):
        responses[429] = HTTPStatus(429).name
    for status, response in list(responses.items()):
        if str(status)[0] not in "24":
            continue
        if isinstance(response, str):  # a component reference: problem responses carry them already
            continue
        response["headers"] = {**RATELIMIT_HEADERS, **response.get("headers", {})}


BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "JSON Web Tokens signed with HS256 (HMAC-SHA256) and verified following RFC8725 "
    "(JWT Best Current Practices): the algorithm is fixed server-side (`alg` from the token is never trusted, "
    "`none` is refused), `exp` is always checked, access and refresh tokens are distinct `type`s and are not "
    "interchangeable, and each token has a `jti` that logout revokes. Access tokens live 15 minutes, refresh "
    "tokens 12 hours (both configurable). Send `Authorization: Bearer <access_token>`.",
}
MAX_INT32 = 2**31 - 1
# Response schemas (named `...Out` or `...Page`) list every member as `required`, because every answer
# carries them (null where nullable): generated clients then type them as present, not `T | Unset`.
# A member that only some answers carry is named in the schema class's `OPENAPI_OPTIONAL`.
RESPONSE_SCHEMA_SUFFIXES = ("Out", "Page")


def problem_doc(description: str, *, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for `blp.alt_response(status, **problem_doc(...))`: a problem+json answer."""
    doc: dict[str, Any] = {"schema": ProblemSchema, "content_type": PROBLEM_MIMETYPE, "description": description}
    if headers:
        doc["headers"] = headers
    return doc


LINKS = "x-comanda-links"  # moved into the operation's responses by ProblemResponsesPlugin


def links_doc(status: int, **links: dict[str, str]) -> dict[str, Any]:
    """Keyword arguments for `blp.doc(**links_doc(201, getOrder={"order_id": "$response.body#/id"}))`:
    OpenAPI links from an answer to the operations it feeds (generated clients, stateful fuzzing)."""
    return {LINKS: {status: {op: {"operationId": op, "parameters": params} for op, params in links.items()}}}


def register_problem_responses(spec: APISpec) -> None:
    """Register one problem+json response component per error status, named like flask-smorest's."""
    for status, description in ERROR_DESCRIPTIONS.items():
        spec.components.response(HTTPStatus(status).name, _problem_response(description, status), lazy=True)


def _problem_response(description: str, status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {PROBLEM_MIMETYPE: {"schema": ProblemSchema}}}
    headers = {**ERROR_HEADERS.get(status, {}), **(RATELIMIT_HEADERS if 400 <= status < 500 else {})}
    if headers:
        response["headers"] = headers
    return response


WRITE_METHODS = {"post", "put", "patch", "delete"}


def standard_errors(path: str, operation: dict[str, Any], roles: Sequence[str] = (), method: str = "get") -> list[int]:
    """The error statuses every operation of this shape can answer (`roles`: every role there is)."""
    statuses = []
    if operation.get("security"):
        statuses.append(401)
        if set(operation.get(ROLES_EXTENSION, roles)) != set(roles):
            statuses.append(403)
    query = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict) and p.get("in") == "query"}
    if "{" in path or "location_id" in query:  # a location outside the caller's is 404, as an unknown one
        statuses.append(404)
    if "requestBody" in operation:
        statuses += [400, 413, 415, 422]
    if query:
        statuses.append(400)
    statuses.append(422)  # an undeclared query parameter is 422 on every operation (app/web/query.py)
    statuses += [414, 431]  # nginx (or gunicorn) refuses an oversized request line or headers, as problem+json
    statuses += [500, 503]  # a bug anywhere; the database unreachable (every operation reads it)
    if method.lower() in WRITE_METHODS:  # app/web/transaction.py: a COMMIT that went unanswered
        statuses.append(504)
    return list(dict.fromkeys(statuses))


class SchemaExtrasPlugin(BasePlugin):
    """apispec plugin: what marshmallow fields cannot say on their own.

    - a schema class's `OPENAPI_EXTRA` (JSON Schema keywords such as `title` or `minProperties`) is
      merged into its component;
    - a `OneOfSchemas` field is documented as `oneOf` of its named variant components, which client
      generators turn into a typed union; a `RawAs` field as its schema's component;
    - every integer gets a `format`: `int32` when its maximum fits (ids, quantities), else `int64`.
    """

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        for plugin in spec.plugins:
            if isinstance(plugin, MarshmallowPlugin):
                plugin.converter.add_attribute_function(_one_of_schemas)  # type: ignore[union-attr]
                plugin.converter.add_attribute_function(_integer_format)  # type: ignore[union-attr]
                plugin.converter.add_attribute_function(_nullable_branch)  # type: ignore[union-attr]

    def schema_helper(self, name: str, definition: dict, schema: Any = None, **kwargs: Any) -> dict | None:
        extra = dict(getattr(schema, "OPENAPI_EXTRA", None) or {})
        if schema is not None and name.endswith(RESPONSE_SCHEMA_SUFFIXES):
            extra.setdefault("required", always_present(schema))
        return {**definition, **extra} if extra else None


def always_present(schema: Any) -> list[str]:
    """The members every answer of a response schema carries: all but its `OPENAPI_OPTIONAL` ones."""
    instance = schema() if isinstance(schema, type) else schema
    optional = set(getattr(instance, "OPENAPI_OPTIONAL", ()))
    return [
        field.data_key or name
        for name, field in instance.fields.items()
        if not field.load_only and name not in optional
    ]


def _one_of_schemas(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function (bound to its OpenAPIConverter): a OneOfSchemas field's variants."""
    if isinstance(field, OneOfSchemas):
        return {"oneOf": [self.resolve_nested_schema(variant) for variant in field.variants]}
    if isinstance(field, OneOfOut):
        refs = {value: self.resolve_nested_schema(variant) for value, variant in field.variants.items()}
        return {"oneOf": list(refs.values()),
                "discriminator": {"propertyName": field.discriminator,
                                  "mapping": {value: ref["$ref"] for value, ref in refs.items()}}}
    if isinstance(field, RawAs):
        return self.resolve_nested_schema(field.documented_as)
    return {}


def _nullable_branch(self: Any, field: fields.Field, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: a `oneOf` whose branch carries `nullable` needs no top-level one (and
    OpenAPI 3.0 refuses `nullable` without a `type` beside it)."""
    if "oneOf" in ret and any(isinstance(b, dict) and b.get("nullable") for b in ret["oneOf"]):
        ret.pop("nullable", None)
    return {}


def _integer_format(self: Any, field: fields.Field, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: `format: int32` or `int64` on every integer."""
    if ret.get("type") == "integer" and "format" not in ret:
        return {"format": "int32" if ret.get("maximum", MAX_INT32 + 1) <= MAX_INT32 else "int64"}
    return {}


def id_converter_schema(converter: Any) -> dict[str, Any]:
    """The path parameter of an `<int:...>` or `<bigid:...>` id (app/web/routing.py)."""
    return {"type": "integer", "format": "int32" if converter.max <= MAX_INT32 else "int64",
            "minimum": converter.min, "maximum": converter.max}


class ProblemResponsesPlugin(BasePlugin):
    """apispec plugin: add the standard problem+json errors and the allowed roles to every operation.

    `roles` is every role there is (the factory passes the models' ROLES), so an operation open to
    fewer of them documents 403.
    """

    def __init__(self, roles: Sequence[str]) -> None:
        super().__init__()
        self.roles = tuple(roles)

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            for status, links in operation.pop(LINKS, {}).items():  # see links_doc
                response = responses.get(status, responses.get(str(status)))
                if isinstance(response, dict):
                    response["links"] = links
            for status in standard_errors(path or "", operation, self.roles, method):
                current = responses.get(status, responses.get(str(status)))
                if current is None or isinstance(current, str):  # absent, or flask-smorest's generic ref
                    responses.pop(str(status), None)
                    responses[status] = HTTPStatus(status).name
            document_headers(path or "", responses)
            roles = operation.get(ROLES_EXTENSION)
            if roles:
                who = "any signed-in user" if set(roles) == set(self.roles) else ", ".join(roles)
                parts = [operation.get("description"), f"**Roles:** {who}."]
                operation["description"] = "\n\n".join(p for p in parts if p)


class ComandaApi(Api):
    """flask-smorest Api documenting our problem+json error body; the factory passes the plugins."""

    DEFAULT_RESPONSE_CONTENT_TYPE = "application/json"
    DEFAULT_ERROR_RESPONSE_NAME = None  # no catch-all `default`: the plugin lists the real statuses

    def _register_error_handlers(self) -> None:
        # app/errors.py installs the single problem+json handler instead.
        pass

    def _register_responses(self) -> None:
        # Error responses are problem+json, described with our codes, instead of flask-smorest's ErrorSchema.
        register_problem_responses(self.spec)
