"""Reusable field rules."""

from __future__ import annotations

from marshmallow import fields, validate


class Trimmed(fields.String):
    """A string stripped of surrounding white space before its length is checked."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def trimmed(min_len: int, max_len: int, **kwargs) -> Trimmed:
    """A trimmed string of min_len..max_len characters."""
    return Trimmed(validate=validate.Length(min=min_len, max=max_len), **kwargs)


def optional_text(max_len: int, *, patch: bool = False, **kwargs) -> Trimmed:
    """An optional, nullable trimmed string; blank becomes null. In a patch, absent stays absent."""

    class _OptionalText(Trimmed):
        def _deserialize(self, value, attr, data, **kw):
            text = super()._deserialize(value, attr, data, **kw)
            return text or None

    if not patch:
        kwargs.setdefault("load_default", None)
    return _OptionalText(validate=validate.Length(max=max_len), allow_none=True, **kwargs)


def strict_int(**kwargs) -> fields.Integer:
    """An integer that must be sent as a JSON integer (no "5", no 5.0)."""
    return fields.Integer(strict=True, **kwargs)
