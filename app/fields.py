"""The marshmallow building blocks every blueprint shares: text a database can store, UTC timestamps,
trimmed strings, field factories for the common input rules, exact money, and the problem+json body."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from app.columns import MAX_BIG_ID, MAX_ID
from app.errors import ErrorCode
from app.money import CENT, MAX_UNIT_PRICE, PLAIN_DECIMAL, cents_to_str, to_cents
from app.percent import MAX_PERCENT_LENGTH, from_thousandths, parse_percent, percent_str, to_thousandths

BAD_TEXT = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates: no text column stores them
BAD_TEXT_MESSAGE = "Must not contain the NUL character or an unpaired surrogate (\\u0000, \\ud800-\\udfff)."
BAD_NAME_MESSAGE = "Member names must not contain the NUL character or an unpaired surrogate."


def text_problems(value: Any, path: str = "", skip: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """{dotted path: [message]} for every string in `value` (a parsed JSON document) holding NUL or
    an unpaired surrogate; the items of the lists named in `skip` (top-level members) are not looked at."""
    problems: dict[str, list[str]] = {}
    if isinstance(value, str):
        if BAD_TEXT.search(value):
            problems[path or "_schema"] = [BAD_TEXT_MESSAGE]
    elif isinstance(value, dict):
        for key, member in value.items():
            if BAD_TEXT.search(key):
                problems.setdefault(path or "_schema", []).append(BAD_NAME_MESSAGE)
                continue
            if not path and key in skip and isinstance(member, list):
                continue
            problems.update(text_problems(member, f"{path}.{key}" if path else key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems.update(text_problems(item, f"{path}.{index}" if path else str(index)))
    return problems


class UTCDateTime(fields.DateTime):
    """ISO 8601 in UTC with a `Z` suffix and whole seconds: "2026-11-21T20:15:03Z".

    Loading accepts any ISO 8601 timestamp with an offset (or `Z`) and returns an aware UTC
    datetime; a timestamp without an offset is rejected, because its meaning is ambiguous.
    """

    default_error_messages = {
        "naive": "Include a time zone offset, e.g. 2026-11-21T20:15:03Z.",
        "range": "Must be between years 0001 and 9999 in UTC.",
    }

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:  # the models store UTC; a naive value here is a bug upstream
            raise ValueError(f"naive datetime in {attr!r}")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            raise self.make_error("naive")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # "0001-01-01T00:00:00+14:00" is in year 0 in UTC
            raise self.make_error("range") from None


FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(9998, 12, 31)  # a day short of the calendar's end: "the day after" and time zones stay in it


def bounded_date(**kwargs: Any) -> fields.Date:
    """A calendar date (YYYY-MM-DD) from 1900-01-01 to 9998-12-31, so date arithmetic on it (the next
    day, 29 days back, a time zone's offset) never leaves Python's calendar: 422 outside."""
    metadata = kwargs.pop("metadata", {})
    description = metadata.get("description", "")
    bounds = f"From {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}."
    metadata = {**metadata, "description": f"{description} {bounds}".strip()}
    error = f"Must be a date from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}."
    return fields.Date(validate=validate.Range(min=FIRST_DATE, max=LAST_DATE, error=error), metadata=metadata, **kwargs)


class TrimmedString(fields.String):
    """A string with surrounding white space removed before `validate=` runs."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def trimmed(min_len: int, max_len: int, **kwargs: Any) -> TrimmedString:
    """A trimmed string of min_len..max_len characters."""
    return TrimmedString(validate=validate.Length(min=min_len, max=max_len), **kwargs)


class BlankIsNullString(TrimmedString):
    """A trimmed string where blank means null."""

    def _deserialize(  # type: ignore[override]  # blank loads as None, which a String never returns
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> str | None:
        return super()._deserialize(value, attr, data, **kwargs) or None

    def _validate(self, value: Any) -> None:
        if value is not None:  # a blank string became null: nothing left to check
            super()._validate(value)


def optional_text(max_len: int, *, patch: bool = False, **kwargs: Any) -> TrimmedString:
    """An optional, nullable trimmed string; blank becomes null. In a patch, absent stays absent."""
    if not patch:
        kwargs.setdefault("load_default", None)
    return BlankIsNullString(validate=validate.Length(max=max_len), allow_none=True, **kwargs)


def strict_int(**kwargs: Any) -> fields.Integer:
    """An integer that must be sent as a JSON integer (no "5", no 5.0)."""
    return fields.Integer(strict=True, **kwargs)


class StrictBoolean(fields.Boolean):
    """A JSON `true` or `false` in a body: not 0/1, "yes" or "false" (query strings keep fields.Boolean)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def id_field(*, strict: bool = False, big: bool = False, **kwargs: Any) -> fields.Integer:
    """A reference to a row: 1..2^31-1 (`big`: 1..2^63-1, an id that grows with orders), so an absurd
    number is a clean 422, not a database overflow."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_BIG_ID if big else MAX_ID), **kwargs)


MAX_AMOUNT_LENGTH = 16  # "999999.99" with room for leading zeros; longer strings are refused


class Money(fields.Field):
    """A price: JSON string or number, at most two decimals, 0 <= x <= 999999.99. Loads to cents.

    `maximum` raises the cap for amounts that are not unit prices (a payment is bounded by the
    order's balance_due, a cash tender by MAX_TENDERED)."""

    def __init__(self, maximum: Decimal = MAX_UNIT_PRICE, **kwargs) -> None:
        self.maximum = maximum
        length = max(MAX_AMOUNT_LENGTH, len(str(maximum)) + 4)
        shown = f"{maximum:,}".replace(",", "")
        # API.md accepts a JSON number too, so the document says so (a string-only schema would make the
        # contract fuzzer's "schema-violating request accepted" check fail); clients should send the string.
        openapi = {
            "oneOf": [
                {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$", "maxLength": length},
                {"type": "number", "minimum": 0, "maximum": float(maximum), "multipleOf": 0.01},
            ],
            "description": "Exact amount: a decimal string (\"25.50\", preferred) or a JSON number, at most two "
            f"decimals, 0 to {shown}.",
            "example": "25.50",
        }
        self.max_length = length
        super().__init__(**{**kwargs, "metadata": {**openapi, **kwargs.get("metadata", {})}})
        self.error_messages["range"] = f"Must be between 0 and {shown}."

    default_error_messages = {
        "invalid": 'Must be a decimal amount such as "12.50".',
        "places": "Must have at most two decimal places.",
        "range": "Must be between 0 and 999999.99.",
    }

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        # Numbers arrive as Decimal (the JSON provider never makes floats); bools are not money.
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise self.make_error("invalid")
        if isinstance(value, str) and (len(value) > self.max_length or not PLAIN_DECIMAL.fullmatch(value)):
            raise self.make_error("invalid")  # Decimal() would also take "1_000", "1e2", Arabic digits
        try:
            amount = Decimal(value)
        except (InvalidOperation, ValueError):
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("invalid")
        exponent = amount.as_tuple().exponent  # an int: the amount is finite
        if isinstance(exponent, int) and exponent < -2:  # "12.345", and also "12.500" as written
            raise self.make_error("places")
        if amount < 0 or amount > self.maximum:
            raise self.make_error("range")
        return to_cents(amount.quantize(CENT))

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else cents_to_str(value)


class MoneyOut(fields.Field):
    """Cents -> "12.50" for any amount (totals may exceed the unit-price cap)."""

    OPENAPI = {
        "type": "string",
        "pattern": r"^-?[0-9]+\.[0-9]{2}$",
        "description": "Exact decimal amount with two places.",
        "example": "75.50",
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(**{**kwargs, "metadata": {**self.OPENAPI, **kwargs.get("metadata", {})}})

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else cents_to_str(value)

    def _deserialize(self, value, attr, data, **kwargs):  # pragma: no cover - output only
        raise ValidationError("read-only")


class ProblemSchema(Schema):
    """application/problem+json (RFC 9457), as produced by app/errors.py. Documentation only."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(metadata={"example": "Unprocessable Entity"})
    status = fields.Integer(metadata={"example": 422})
    code = fields.String(
        metadata={
            "description": "Stable machine-readable error code (the catalogue: app/errors.py ErrorCode).",
            "enum": [code.value for code in ErrorCode],
            "example": ErrorCode.VALIDATION_ERROR.value,
        }
    )
    detail = fields.String(metadata={"example": "Request body is invalid."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "Validation messages keyed by dotted field path (validation errors only).",
            "example": {"name": ["Length must be between 1 and 120."]},
        },
    )
    request_id = fields.String(metadata={"description": "Also sent as the X-Request-ID header."})
    order_id = fields.Integer(
        metadata={
            "description": "409 `duplicate_client_order_id`: the existing order, only when the caller may see it "
            "(never another waiter's)."
        }
    )
    balance_due = fields.String(metadata={"description": "409 `balance_due`: what the order still owes."})
    current_version = fields.Integer(metadata={"description": "412 `precondition_failed`: the order's version."})
    database = fields.String(metadata={"description": "503 from /health: `unavailable`."})

    class Meta:
        unknown = INCLUDE  # documents that a problem may carry members specific to its code


class Percent(fields.Field):
    """A percentage: JSON string or number, at most three decimals; loads to Decimal, dumps as "12.125".

    With `thousandths=True` the Python side is integer thousandths of a percent (how rates are stored).
    """

    def __init__(self, *, allow_zero: bool = False, thousandths: bool = False, **kwargs) -> None:
        self.allow_zero, self.thousandths = allow_zero, thousandths
        low = "0" if allow_zero else "greater than 0"
        openapi: dict[str, Any] = {
            "oneOf": [
                {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,3})?$", "maxLength": MAX_PERCENT_LENGTH},
                {"type": "number", "minimum": 0, "maximum": 100, "exclusiveMinimum": not allow_zero,
                 "multipleOf": 0.001},
            ],
            "description": f"A percentage from {low} to 100 with at most three decimals, as a string or number; "
            'answered as a string without trailing zeros ("16", "8.5", "12.125").',
            "example": "16",
        }
        if kwargs.get("allow_none") and not kwargs.get("dump_only"):
            # An input that may be null: null rides on the string branch (OpenAPI 3.0 wants a `type`
            # beside `nullable`; app/web/openapi.py drops apispec's top-level one), and a JSON number is
            # accepted too, so the document says so.
            string, number = openapi["oneOf"]
            openapi = {**openapi, "oneOf": [{**string, "nullable": True}, number]}
        elif kwargs.get("dump_only"):
            # Answers are always the string form; and OpenAPI 3.0's `nullable` needs a `type` beside it,
            # so a nullable percentage is documented as a nullable string (a JSON number is accepted too).
            openapi = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,3})?$", "maxLength": MAX_PERCENT_LENGTH,
                       "example": "16", "description": 'A percentage without trailing zeros: "16", "8.5", "12.125"'
                       + ("; null when there is none." if kwargs.get("allow_none") else ".")}
        super().__init__(**{**kwargs, "metadata": {**openapi, **kwargs.get("metadata", {})}})

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal | int:
        try:
            percent = parse_percent(value, allow_zero=self.allow_zero)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return to_thousandths(percent) if self.thousandths else percent

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        if value is None:
            return None
        return percent_str(from_thousandths(value) if self.thousandths else Decimal(value))


class RawAs(fields.Raw):
    """A JSON object passed through as is (validated later, e.g. one batch order at a time, so one bad
    element does not fail the others), documented as the component of `schema`."""

    def __init__(self, schema: type[Schema], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.documented_as = schema


class OneOfOut(fields.Field):
    """An answer dumped by `schema`, documented as `oneOf` the named `variants` with a `discriminator`
    (the member whose value names the variant, and each value's variant): generated clients get one
    typed class per variant instead of a loose object."""

    def __init__(self, schema: type[Schema], *, variants: dict[str, type[Schema]], discriminator: str,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dumper = schema()
        self.variants = variants
        self.discriminator = discriminator

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else self.dumper.dump(value)


class OneOfSchemas(fields.Field):
    """A JSON object loaded (and validated) by `schema`, documented as `oneOf` the named `variants`.

    The variants are documentation-only schemas whose `required` sets tell them apart (e.g. a
    catalogue line has `product_id`, an ad-hoc line `product_name` + `unit_price`); client generators
    (openapi-python-client, openapi-typescript) turn them into a typed union. `schema` keeps the one
    set of rules and error messages for loading.
    """

    def __init__(self, schema: type[Schema], *, variants: tuple[type[Schema], ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loader = schema()
        self.variants = variants

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return self.loader.load(value)
        except ValidationError as exc:  # nested messages stay keyed by field, like fields.Nested
            raise ValidationError(exc.messages, valid_data=exc.valid_data) from None
