"""The feed's hand-written dump (queries._row, the hot path of GET /events and of webhook bodies) answers
byte for byte what the documented schema (FeedEventOut) dumps, for any row."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.feed.queries import _row
from app.feed.schemas import FeedEventOut

IDS = st.integers(1, 2**63 - 1)
TEXT = st.text(max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | TEXT
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))])
MOMENTS = st.builds(lambda at, zone: at.replace(tzinfo=UTC).astimezone(zone),
                    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31)), ZONES)
PERSON = st.one_of(st.tuples(st.none(), st.none()), st.tuples(IDS, TEXT))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(id_=IDS, type_=TEXT, loc=IDS, position=IDS, at=MOMENTS,
       s_type=st.sampled_from(["order", "kitchen_ticket", "drawer_session", "business_day"]), s_id=IDS,
       s_version=st.integers(1, 2**31 - 1), actor=PERSON, approver=PERSON,
       data=st.dictionaries(TEXT, JSON_VALUES, max_size=6))
def test_hand_written_dump_is_byte_identical_to_the_schema(app, id_, type_, loc, position, at, s_type, s_id,
                                                           s_version, actor, approver, data):
    row = _row((id_, type_, loc, position, at, s_type, s_id, s_version, *actor, *approver, data))
    source = {"id": id_, "type": type_, "location_id": loc, "occurred_at": at,
              "subject": {"type": s_type, "id": s_id, "version": s_version},
              "actor": None if actor[0] is None else {"id": actor[0], "name": actor[1]},
              "approved_by": None if approver[0] is None else {"id": approver[0], "name": approver[1]},
              "data": data}
    dumped = FeedEventOut().dump(source)
    assert app.json.dumps(row.event) == app.json.dumps(dumped)  # GET /events
    # a webhook body keeps the key order (no sort): the same bytes there too
    plain = {"separators": (",", ":"), "ensure_ascii": False}
    assert json.dumps(row.event, **plain) == json.dumps(dumped, **plain)
    assert (row.location_id, row.position) == (loc, position)
