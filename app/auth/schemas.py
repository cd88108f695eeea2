"""Auth shapes: credentials in, token pairs out."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.auth.approvals import ACTIONS, ORDER_ACTIONS, SESSION_ACTIONS
from app.auth.permissions import user_location_ids
from app.fields import Money, MoneyOut, TrimmedString, UTCDateTime, id_field
from app.models import ROLES

PIN = re.compile(r"[0-9]{4,8}")

MAX_TOKEN_LENGTH = 2048  # ours are about 350 characters; a longer one is not ours (422)


class Pin(fields.Field):
    """A manager's approval PIN: a JSON string of 4-8 ASCII digits; null clears it. Never answered."""

    OPENAPI = {"type": "string", "pattern": "^[0-9]{4,8}$", "minLength": 4, "maxLength": 8, "nullable": True,
               "writeOnly": True, "example": "4821",
               "description": "4-8 ASCII digits as a JSON string; null clears the PIN. Stored only as a slow hash."}
    default_error_messages = {"invalid": "Must be a string of 4 to 8 ASCII digits."}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {**self.OPENAPI, **kwargs.pop("metadata", {})}
        super().__init__(allow_none=True, load_only=True, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not PIN.fullmatch(value):
            raise self.make_error("invalid")
        return value


class UserOut(Schema):
    """A user as answered by GET /auth/me and the /users routes (auth sits below the users blueprint)."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String(metadata={"enum": list(ROLES)})
    active = fields.Boolean()
    has_pin = fields.Boolean(metadata={"description": "Whether the user has an approval PIN (managers, admins)."})
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


class MyPinIn(Schema):
    """PUT /auth/me/pin."""

    current_password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))
    pin = Pin(required=True)


class ApprovalIn(Schema):
    """POST /auth/approvals."""

    approver_id = id_field(strict=True, required=True, metadata={"description": "The manager or admin approving."})
    pin = fields.String(required=True, load_only=True, validate=validate.Length(1, 8),
                        metadata={"description": "The approver's PIN (4-8 digits).", "example": "4821"})
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    order_id = id_field(strict=True, big=True, metadata={"description": f"Required for {', '.join(ORDER_ACTIONS)}."})
    drawer_session_id = id_field(strict=True, metadata={
        "description": f"Required for {', '.join(SESSION_ACTIONS)}."})
    max_amount = Money(metadata={"description": "When set, the token allows an amount up to this only (a refund's "
                                                "or pay-out's amount, a discount's applied, a variance's absolute "
                                                "value)."})

    @validates_schema
    def _subject(self, data: dict[str, Any], **_kwargs: Any) -> None:
        action = data.get("action")
        needed, other = (("order_id", "drawer_session_id") if action in ORDER_ACTIONS
                         else ("drawer_session_id", "order_id"))
        if action is None:
            return
        if data.get(needed) is None:
            raise ValidationError(f"Required for the action {action}.", field_name=needed)
        if data.get(other) is not None:
            raise ValidationError(f"Not used by the action {action}.", field_name=other)


class ApproverOut(Schema):
    id = fields.Integer()
    name = fields.String()


class ApprovalOut(Schema):
    approval_token = fields.String(metadata={"description": "Send as `X-Approval-Token` on the request it approves; "
                                                            "one use, 120 seconds."})
    action = fields.String(metadata={"enum": list(ACTIONS)})
    approver = fields.Nested(ApproverOut)
    order_id = fields.Integer(allow_none=True)
    drawer_session_id = fields.Integer(allow_none=True)
    max_amount = MoneyOut(allow_none=True)
    expires_at = UTCDateTime()
