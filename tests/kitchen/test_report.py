"""GET /reports/kitchen: per active station, new tickets of the range, units, seconds to ready, late ones."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import KitchenTicket
from tests.constants import API, ORDERS
from tests.kitchen.conftest import line

REPORT = f"{API}/reports/kitchen"


def set_times(ticket_id: int, *, created_ago: timedelta, ready_after: timedelta | None) -> None:
    db.session.rollback()
    ticket = db.session.get(KitchenTicket, ticket_id)
    ticket.created_at = ticket.created_at - created_ago
    if ready_after is not None:
        ticket.status, ticket.ready_at = "ready", ticket.created_at + ready_after
    db.session.commit()


def test_kitchen_report(kit):
    first = kit.order([line(kit.taco, 2), line(kit.margarita)])
    kit.order([line(kit.taco, 3)])
    kit.order([line(kit.taco)])
    grill = [t["id"] for t in kit.queue(kit.grill)]
    set_times(grill[0], created_ago=timedelta(minutes=30), ready_after=timedelta(minutes=5))   # 300 s
    set_times(grill[1], created_ago=timedelta(minutes=30), ready_after=timedelta(minutes=12))  # 720 s: late (10)
    set_times(grill[2], created_ago=timedelta(minutes=11), ready_after=None)                   # open: late
    # A void ticket never counts.
    kit.client.delete(f"{ORDERS}/{first['id']}/items/{first['items'][0]['id']}", headers=kit.h(kit.manager))
    kit.station({"name": "Vacía"})
    resp = kit.client.get(REPORT, headers=kit.h(kit.manager))
    assert resp.status_code == 200, resp.json
    rows = {row["station_name"]: row for row in resp.json["data"]}
    assert rows["Parrilla"] == {"station_id": kit.grill["id"], "station_name": "Parrilla", "tickets": 3, "items": 6,
                                "avg_seconds": 510, "max_seconds": 720, "late": 2}
    assert rows["Barra"] == {"station_id": kit.bar["id"], "station_name": "Barra", "tickets": 1, "items": 1,
                             "avg_seconds": None, "max_seconds": None, "late": 0}
    assert rows["Vacía"]["tickets"] == 0 and rows["Vacía"]["avg_seconds"] is None
    assert resp.json["location_id"] == kit.location.id
    as_csv = kit.client.get(REPORT, query_string={"format": "csv"}, headers=kit.h(kit.manager))
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert [r["station_name"] for r in table] == [r["station_name"] for r in resp.json["data"]]
    assert table[0]["avg_seconds"] == "510"


def test_report_range_and_roles(kit):
    assert kit.client.get(REPORT, headers=kit.h()).status_code == 403
    bad = kit.client.get(REPORT, query_string={"start_date": "2026-02-02", "end_date": "2026-02-01"},
                         headers=kit.h(kit.manager))
    assert bad.status_code == 422
    unknown = kit.client.get(REPORT, query_string={"waiter_id": 1}, headers=kit.h(kit.manager))
    assert unknown.status_code == 422
    kit.order([line(kit.taco)])
    day = db.session.scalar(select(KitchenTicket.business_date))
    before = kit.client.get(REPORT, query_string={"start_date": "2020-01-01", "end_date": "2020-01-31"},
                            headers=kit.h(kit.manager))
    assert {r["tickets"] for r in before.json["data"]} == {0}
    on_day = kit.client.get(REPORT, query_string={"start_date": day.isoformat(), "end_date": day.isoformat()},
                            headers=kit.h(kit.manager))
    assert sum(r["tickets"] for r in on_day.json["data"]) == 1
