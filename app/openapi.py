"""Text of the OpenAPI description (rendered at /docs)."""

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
"""
