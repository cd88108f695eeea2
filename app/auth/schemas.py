"""Auth shapes: credentials in, token pairs out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.auth.permissions import user_location_ids
from app.fields import TrimmedString, UTCDateTime
from app.models import ROLES

MAX_TOKEN_LENGTH = 2048  # ours are about 350 characters; a longer one is not ours (422)


class UserOut(Schema):
    """A user as answered by GET /auth/me and the /users routes (auth sits below the users blueprint)."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String(metadata={"enum": list(ROLES)})
    active = fields.Boolean()
    location_ids = fields.Function(user_location_ids, metadata={
        "type": "array", "items": {"type": "integer", "format": "int32"}, "example": [1],
        "description": "The locations the user belongs to; every location's id for admins."})
    created_at = UTCDateTime()


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

