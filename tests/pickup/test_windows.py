"""Pickup windows from a store's hours: cut in its time zone, DST-safe, starting after now + prep time, up to the
horizon; properties checked with hypothesis over time zones with and without daylight saving."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from omnibridge.pickup.windows import WEEKDAY_KEYS, Window, opening, windows

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = {day: "10:00-12:00" for day in WEEKDAY_KEYS}


def cut(
    hours: dict[str, str], zone: ZoneInfo, now: datetime, *, minutes: int = 60, prep: int = 0, days: int = 0
) -> list[Window]:
    return list(windows(hours, zone, window_minutes=minutes, now=now, prep_minutes=prep, horizon_days=days))


def test_hours_are_cut_into_windows_in_the_stores_zone_and_given_in_utc() -> None:
    # Monday 2026-12-07 08:00 in New York (13:00 UTC)
    found = cut(WEEKDAYS, NEW_YORK, datetime(2026, 12, 7, 13, tzinfo=UTC))
    assert found == [
        Window(datetime(2026, 12, 7, 15, tzinfo=UTC), datetime(2026, 12, 7, 16, tzinfo=UTC)),
        Window(datetime(2026, 12, 7, 16, tzinfo=UTC), datetime(2026, 12, 7, 17, tzinfo=UTC)),
    ]
    assert all(window.start.tzinfo is UTC for window in found)


def test_the_first_window_starts_at_or_after_now_plus_prep_and_a_short_last_piece_is_not_offered() -> None:
    # 45-minute windows from 10:00 to 12:00: 10:00, 10:45 (11:30 would end after closing, so it is not offered)
    def local(found: list[Window]) -> list[tuple[time, time]]:
        return [(w.start.astimezone(NEW_YORK).time(), w.end.astimezone(NEW_YORK).time()) for w in found]

    at_1020 = datetime(2026, 12, 7, 15, 20, tzinfo=UTC)
    assert local(cut(WEEKDAYS, NEW_YORK, at_1020, minutes=45, prep=20)) == [(time(10, 45), time(11, 30))]
    assert local(cut(WEEKDAYS, NEW_YORK, at_1020, minutes=45, prep=26)) == []
    assert local(cut(WEEKDAYS, NEW_YORK, at_1020 - timedelta(minutes=20), minutes=45)) == [
        (time(10, 0), time(10, 45)),
        (time(10, 45), time(11, 30)),
    ]


def test_closed_and_unlisted_days_have_no_windows_and_the_horizon_counts_days_after_today() -> None:
    hours = {"mon": "10:00-11:00", "tue": "closed", "thu": "10:00-11:00"}
    found = cut(hours, NEW_YORK, datetime(2026, 12, 7, 12, tzinfo=UTC), days=3)  # Monday; Tue closed, Wed unlisted
    assert [w.start.astimezone(NEW_YORK).date() for w in found] == [date(2026, 12, 7), date(2026, 12, 10)]
    shorter = cut(hours, NEW_YORK, datetime(2026, 12, 7, 12, tzinfo=UTC), days=2)
    assert [w.start.astimezone(NEW_YORK).date() for w in shorter] == [date(2026, 12, 7)]


def test_today_is_the_stores_local_day() -> None:
    # 02:00 UTC on Tuesday is still Monday 21:00 in New York: Monday's hours are over, Tuesday's come next
    hours = {"mon": "10:00-11:00", "tue": "09:00-10:00"}
    [window] = cut(hours, NEW_YORK, datetime(2026, 12, 8, 2, tzinfo=UTC), days=1)
    assert window.start == datetime(2026, 12, 8, 14, tzinfo=UTC)


def test_windows_keep_their_length_across_a_daylight_saving_change() -> None:
    # 2026-03-08: New York skips 02:00-03:00; 2026-11-01: it repeats 01:00-02:00
    spring = cut({"sun": "00:00-05:00"}, NEW_YORK, datetime(2026, 3, 8, 5, tzinfo=UTC))  # Sunday 00:00 EST
    assert len(spring) == 4  # five wall-clock hours, four real ones
    autumn = cut({"sun": "00:00-05:00"}, NEW_YORK, datetime(2026, 11, 1, 4, tzinfo=UTC))  # Sunday 00:00 EDT
    assert len(autumn) == 6
    for found in (spring, autumn):
        assert all(w.end - w.start == timedelta(hours=1) for w in found)
        assert all(a.end == b.start for a, b in itertools.pairwise(found))


ZONES = st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata",
                         "America/Sao_Paulo", "Pacific/Chatham"])  # fmt: skip
CLOCK = st.tuples(st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def week_hours(draw: st.DrawFn) -> dict[str, str]:
    hours: dict[str, str] = {}
    for day in WEEKDAY_KEYS:
        kind = draw(st.sampled_from(["open", "closed", "unlisted"]))
        if kind == "closed":
            hours[day] = "closed"
        elif kind == "open":
            a, b = sorted(draw(st.lists(CLOCK, min_size=2, max_size=2, unique=True)))
            hours[day] = f"{a[0]:02}:{a[1]:02}-{b[0]:02}:{b[1]:02}"
    return hours


@given(
    hours=week_hours(),
    zone_name=ZONES,
    now=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
    minutes=st.sampled_from([5, 15, 30, 45, 60, 90, 240, 1440]),
    prep=st.integers(0, 3 * 24 * 60),
    days=st.integers(0, 6),
)
def test_windows_never_overlap_lie_within_the_hours_and_start_after_now_plus_prep(
    hours: dict[str, str], zone_name: str, now: datetime, minutes: int, prep: int, days: int
) -> None:
    zone = ZoneInfo(zone_name)
    found = cut(hours, zone, now, minutes=minutes, prep=prep, days=days)
    today = now.astimezone(zone).date()
    for earlier, later in itertools.pairwise(found):
        assert earlier.end <= later.start
    for window in found:
        assert window.start.tzinfo is UTC
        assert window.end.tzinfo is UTC
        assert window.end - window.start == timedelta(minutes=minutes)
        assert window.start >= now + timedelta(minutes=prep)
        day = window.start.astimezone(zone).date()
        assert today <= day <= today + timedelta(days=days)
        times = opening(hours, day)
        assert times is not None
        opens = datetime.combine(day, times[0], tzinfo=zone).astimezone(UTC)
        closes = datetime.combine(day, times[1], tzinfo=zone).astimezone(UTC)
        assert opens <= window.start
        assert window.end <= closes
