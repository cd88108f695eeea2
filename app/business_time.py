"""Business dates: the date of a moment on a location's wall clock, with days starting at its day start.

Orders pass their location's `timezone` and `day_starts_at`; without them the functions use
BUSINESS_TIMEZONE / BUSINESS_DAY_STARTS_AT, the clock the default location was made from.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app

# Names the zone database carries that are not places: "localtime" is the host's own clock (a
# business date would follow whatever the server is set to), "Factory" is a placeholder zone, and
# posix/ and right/ are copies of the tree (right/ counts leap seconds, which UTC timestamps do not).
NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})
ALIAS_TREES = ("posix/", "right/")


def is_iana_zone(name: str) -> bool:
    """Whether `name` is a real IANA time zone (America/Mexico_City, UTC), not a host alias."""
    return name not in NOT_PLACES and not name.startswith(ALIAS_TREES) and name in iana_zones()


@cache
def iana_zones() -> frozenset[str]:
    """Every real IANA zone name this host knows (see `is_iana_zone`)."""
    return frozenset(name for name in available_timezones()
                     if name not in NOT_PLACES and not name.startswith(ALIAS_TREES))


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def day_start(starts_at: str | None = None) -> time:
    """BUSINESS_DAY_STARTS_AT (`HH:MM`, validated by the config) as a time."""
    raw = starts_at if starts_at is not None else current_app.config["BUSINESS_DAY_STARTS_AT"]
    hours, _, minutes = raw.partition(":")
    return time(int(hours), int(minutes))


def local_time(moment: datetime, tz_name: str | None = None) -> datetime:
    """The aware UTC `moment` on the restaurant's wall clock."""
    if moment.tzinfo is None:
        raise ValueError("business time needs an aware datetime")
    tz_name = tz_name or current_app.config["BUSINESS_TIMEZONE"]
    return moment.astimezone(_zone(tz_name))


def business_date(moment: datetime, tz_name: str | None = None, day_starts_at: str | None = None) -> date:
    """The business day `moment` falls in: 01:30 local with a 04:00 start is the previous day.

    Local date D's business day starts when the wall clock first shows D + day start. Comparing wall
    clocks handles a start inside a skipped spring-forward hour (it starts at the jump); during the
    second pass of a repeated fall-back hour the start may already have passed in the first pass,
    which keeps business dates monotonic across daylight-saving changes.
    """
    local = local_time(moment, tz_name)
    day = local.date()
    start = datetime.combine(day, day_start(day_starts_at))
    if local.replace(tzinfo=None) >= start:
        return day
    first = start.replace(tzinfo=local.tzinfo, fold=0).astimezone(UTC)
    shown_twice = start.replace(tzinfo=local.tzinfo, fold=1).astimezone(UTC) != first
    exists = first.astimezone(local.tzinfo).replace(tzinfo=None) == start  # not inside a skipped hour
    if local.fold and shown_twice and exists and first <= moment:
        return day
    return day - timedelta(days=1)


def local_hour(moment: datetime, tz_name: str | None = None) -> datetime:
    """Naive local wall-clock hour of `moment` (for hourly sales)."""
    return local_time(moment, tz_name).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def today() -> date:
    """Today's business date."""
    return business_date(datetime.now(UTC))
