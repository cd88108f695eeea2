"""Shared building blocks: the UTCDateTime and TrimmedString fields, cursor encoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from marshmallow import Schema, ValidationError

from app.errors import InvalidCursor
from app.fields import TrimmedString, UTCDateTime
from app.models import User
from app.web.pagination import decode_cursor, encode_cursor


class Stamp(Schema):
    at = UTCDateTime()
    name = TrimmedString()


def test_utc_datetime_dumps_z_without_microseconds():
    moment = datetime(2026, 11, 21, 20, 15, 3, 987654, tzinfo=UTC)
    assert Stamp().dump({"at": moment}) == {"at": "2026-11-21T20:15:03Z"}
    local = moment.astimezone(timezone(timedelta(hours=-6)))
    assert Stamp().dump({"at": local}) == {"at": "2026-11-21T20:15:03Z"}
    assert Stamp().dump({"at": None}) == {"at": None}


def test_utc_datetime_loads_offsets_and_refuses_naive():
    assert Stamp().load({"at": "2026-11-21T20:15:03Z"})["at"] == datetime(2026, 11, 21, 20, 15, 3, tzinfo=UTC)
    assert Stamp().load({"at": "2026-11-21T14:15:03-06:00"})["at"] == datetime(2026, 11, 21, 20, 15, 3, tzinfo=UTC)
    with pytest.raises(ValidationError) as err:
        Stamp().load({"at": "2026-11-21T20:15:03"})
    assert "at" in err.value.messages


def test_trimmed_string():
    assert Stamp().load({"name": "  Ana \t"}) == {"name": "Ana"}


def test_cursor_round_trip(app):
    moment = datetime(2026, 11, 21, 20, 15, 3, 123456, tzinfo=UTC)
    cursor = encode_cursor([moment, 42])
    assert cursor.isascii() and "=" not in cursor
    assert decode_cursor(cursor, (User.created_at, User.id)) == [moment, 42]
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, (User.id,))
