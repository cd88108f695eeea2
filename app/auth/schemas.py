"""Auth shapes: credentials in, token pairs out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.fields import TrimmedString
from app.users.schemas import UserOut

MAX_TOKEN_LENGTH = 2048  # ours are about 350 characters; a longer one is not ours (422)


class LoginIn(Schema):
    email = TrimmedString(
        required=True, validate=validate.Length(1, 254), metadata={"description": "Case-insensitive."}
    )
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))


class LogoutIn(Schema):
    refresh_token = fields.String(
        load_only=True,
        validate=validate.Length(max=MAX_TOKEN_LENGTH),
        metadata={"description": "Also revoke this refresh token; it must be a refresh token of the caller."},
    )


class TokenOut(Schema):
    access_token = fields.String(metadata={"description": "Send as `Authorization: Bearer <access_token>`."})
    refresh_token = fields.String(metadata={"description": "Send to POST /auth/refresh; single use."})
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "Seconds until the access token expires."})
    user = fields.Nested(UserOut)
