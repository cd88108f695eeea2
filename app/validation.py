"""Field factories for the common rules of input schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from app.schemas import TrimmedString


def trimmed(min_len: int, max_len: int, **kwargs) -> TrimmedString:
    """A trimmed string of min_len..max_len characters."""
    return TrimmedString(validate=validate.Length(min=min_len, max=max_len), **kwargs)


MAX_ID = 2**31 - 1  # ids are INTEGER columns


class _BlankIsNull(TrimmedString):
    def _deserialize(self, value, attr, data, **kwargs) -> str | None:
        return super()._deserialize(value, attr, data, **kwargs) or None

    def _validate(self, value) -> None:
        if value is not None:  # a blank string became null: nothing left to check
            super()._validate(value)


def optional_text(max_len: int, *, patch: bool = False, **kwargs) -> TrimmedString:
    """An optional, nullable trimmed string; blank becomes null. In a patch, absent stays absent."""
    if not patch:
        kwargs.setdefault("load_default", None)
    return _BlankIsNull(validate=validate.Length(max=max_len), allow_none=True, **kwargs)


def strict_int(**kwargs) -> fields.Integer:
    """An integer that must be sent as a JSON integer (no "5", no 5.0)."""
    return fields.Integer(strict=True, **kwargs)


def id_field(*, strict: bool = False, **kwargs) -> fields.Integer:
    """A reference to a row: 1..2^31-1, so an absurd number is a clean 422, not a database overflow."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)
