"""A store's pickup windows: its ``pickup_hours`` (weekday -> ``HH:MM-HH:MM`` or ``closed``, in the store's time
zone) cut into windows of its window length.

Each open day is cut from its opening time on, in real (UTC) time, so a window always lasts exactly its length,
even on a day a daylight-saving change shortens or lengthens the hours; a last piece shorter than a window is not
offered. A wall-clock time the change skips (02:30 on a spring-forward night) is read with the offset before the
change (zoneinfo's ``fold=0``), the same way every other omnibridge local time is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["WEEKDAY_KEYS", "Window", "opening", "windows"]

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""``date.weekday()`` -> the ``pickup_hours`` key."""


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """A pickup window, ``start`` to ``end``, aware datetimes in UTC."""

    start: datetime
    end: datetime


def opening(hours: Mapping[str, str], day: date) -> tuple[time, time] | None:
    """The local opening and closing times of ``day`` (None: closed, or no hours that weekday)."""
    text = hours.get(WEEKDAY_KEYS[day.weekday()])
    if not text or text == "closed":
        return None
    start, _, end = text.partition("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def windows(
    hours: Mapping[str, str],
    zone: ZoneInfo,
    *,
    window_minutes: int,
    now: datetime,
    prep_minutes: int,
    horizon_days: int,
) -> Iterator[Window]:
    """The windows of a store with ``hours`` in ``zone``, in order, that start at or after ``now`` + prep time,
    on the store's local today and up to ``horizon_days`` days after it. ``now`` must be aware."""
    earliest = (now + timedelta(minutes=prep_minutes)).astimezone(UTC)
    today = now.astimezone(zone).date()
    length = timedelta(minutes=window_minutes)
    for offset in range(horizon_days + 1):
        day = today + timedelta(days=offset)
        times = opening(hours, day)
        if times is None:
            continue
        opens = datetime.combine(day, times[0], tzinfo=zone).astimezone(UTC)
        closes = datetime.combine(day, times[1], tzinfo=zone).astimezone(UTC)
        start = opens
        if start < earliest:
            # skip the windows that start too early, without walking them one by one
            start += length * -(-(earliest - opens) // length)
        while start + length <= closes:
            yield Window(start, start + length)
            start += length
