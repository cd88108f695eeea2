"""Calendar arithmetic of reports: the hourly slots of business days, days and months.

Business dates and local hours themselves come from app/business_time.py. Local hours are naive
wall-clock hours, so a DST change never shifts a slot: the hour that does not exist shows zeros
and the hour that happens twice is one slot.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from app.business_time import day_start


def hour_slots(start: date, end: date, starts_at: str | None = None) -> Iterator[datetime]:
    """Every local wall-clock hour that business days start..end touch, in order, without repeats.

    With a day start on the hour that is 24 slots a day; with minutes (`04:30`) the hour the
    day turns over in is shared by two business dates, so the range has one slot more.
    """
    first = day_start(starts_at)
    slot = datetime.combine(start, time(first.hour))
    stop = datetime.combine(end + timedelta(days=1), first)  # exclusive end of the last business day
    while slot < stop:
        yield slot
        slot += timedelta(hours=1)


def days(start: date, end: date) -> Iterator[date]:
    """Every business date from start to end, inclusive."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s month."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def split_months(start: date, end: date) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """Split start..end into whole calendar months and the partial-month edges around them.

    Returns (edges, whole): edges are (first, last) date ranges; whole is (first month, last month)
    as first-of-month dates, or None when no whole month fits.
    """
    first_whole = start if start.day == 1 else next_month(start)
    after_whole = month_start(end + timedelta(days=1))  # the first day not inside a whole month
    if first_whole >= after_whole:
        return [(start, end)], None
    edges = []
    if start < first_whole:
        edges.append((start, first_whole - timedelta(days=1)))
    if after_whole <= end:
        edges.append((after_whole, end))
    last_whole = month_start(after_whole - timedelta(days=1))
    return edges, (first_whole, last_whole)
