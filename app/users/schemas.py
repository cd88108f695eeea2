"""User shapes: what clients may send (In) and what they get back (Out)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from app.auth.schemas import Pin, UserOut
from app.emails import normalize_email
from app.fields import StrictBoolean, TrimmedString, id_field
from app.models import ROLES
from app.web.pagination import PageQuery, page_schema

NAME = validate.Length(1, 120)
PASSWORD = validate.Length(8, 128)
ROLE = validate.OneOf(ROLES)


class EmailAddress(fields.String):
    """An email address, trimmed and lowercased before it is validated."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=[validate.Length(max=254), validate.Email()], **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return normalize_email(super()._deserialize(value, attr, data, **kwargs))


def _location_ids(**kwargs: Any) -> fields.List:
    return fields.List(id_field(strict=True), validate=validate.Length(max=100), metadata={
        "example": [1, 2],
        "description": "Waiters and managers: the locations they belong to (at least one; left out: the default "
                       "location). Not read for admins, who belong to every location."}, **kwargs)


class UserIn(Schema):
    """POST /users."""

    email = EmailAddress(required=True, metadata={"description": "Stored lowercased; unique."})
    name = TrimmedString(required=True, validate=NAME, metadata={"description": "1-120 characters after trimming."})
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    role = fields.String(load_default="waiter", validate=ROLE)
    location_ids = _location_ids()


class UserPatchIn(Schema):
    """PATCH /users/{id}: any of the fields; the email never changes."""

    OPENAPI_EXTRA = {"minProperties": 1}

    name = TrimmedString(validate=NAME)
    role = fields.String(validate=ROLE)
    active = StrictBoolean(metadata={"description": "false deactivates (like DELETE), true reactivates."})
    password = fields.String(load_only=True, validate=PASSWORD)
    location_ids = _location_ids()
    pin = Pin(metadata={"description": "Managers and admins only (a waiter's: 422 on `pin`); null clears it."})

    @pre_load
    def _email_is_immutable(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and "email" in data:
            raise ValidationError("Email cannot be changed.", field_name="email")
        return data

    @validates_schema
    def _not_empty(self, data: dict, **_kwargs: Any) -> None:
        if not data:
            raise ValidationError(f"Send at least one of {', '.join(self.fields)}.")


class UserListQuery(PageQuery):
    """GET /users filters."""

    role = fields.String(validate=ROLE)
    active = fields.Boolean()
    q = TrimmedString(
        validate=validate.Length(1, 120), metadata={"description": "Case-insensitive match on name or email."}
    )


UserPage = page_schema(UserOut, "UserPage")
