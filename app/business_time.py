"""Business dates: the date of a moment in BUSINESS_TIMEZONE, with days starting at BUSINESS_DAY_STARTS_AT."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _day_start_offset(value: str) -> timedelta:
    hours, _, minutes = value.partition(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


def local_time(moment: datetime, tz_name: str | None = None) -> datetime:
    """The aware UTC `moment` on the restaurant's wall clock."""
    tz_name = tz_name or current_app.config["BUSINESS_TIMEZONE"]
    return moment.astimezone(_zone(tz_name))


def business_date(moment: datetime, tz_name: str | None = None, day_starts_at: str | None = None) -> date:
    """Local date of `moment`, minus the day-start offset: 01:30 with a 04:00 start is the previous day."""
    day_starts_at = day_starts_at or current_app.config["BUSINESS_DAY_STARTS_AT"]
    local = local_time(moment, tz_name).replace(tzinfo=None)  # wall-clock arithmetic
    return (local - _day_start_offset(day_starts_at)).date()


def local_hour(moment: datetime, tz_name: str | None = None) -> datetime:
    """Naive local wall-clock hour of `moment` (for hourly sales)."""
    return local_time(moment, tz_name).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def today() -> date:
    """Today's business date."""
    return business_date(datetime.now(UTC))
