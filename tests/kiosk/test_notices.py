"""The express-item schedule, as a pure function, across 19:00, 22:00 and midnight."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.notices import next_attempt

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def at(hour: int, minute: int = 0, day: int = 22, zone=SHANGHAI) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=zone).astimezone(UTC)


def follow(received: datetime, until: datetime, zone=SHANGHAI) -> list[datetime]:
    """Every attempt from intake to ``until``, as an always-on worker would make them."""
    attempts: list[datetime] = []
    while True:
        due = next_attempt(received, attempts, received if not attempts else attempts[-1], zone)
        if due > until:
            return attempts
        attempts.append(due)


def clock(times, zone=SHANGHAI) -> list[str]:
    return [t.astimezone(zone).strftime("%d %H:%M") for t in times]


def test_first_notice_is_at_intake():
    assert next_attempt(at(14, 20), [], at(14, 20), SHANGHAI) == at(14, 20)


def test_hourly_until_seven_then_half_hourly_until_ten_then_next_morning():
    assert clock(follow(at(14, 20), at(10, day=23))) == [
        "22 14:20", "22 15:20", "22 16:20", "22 17:20", "22 18:20",
        "22 19:00",                                  # the evening's half-hourly calls start at 19:00 sharp
        "22 19:30", "22 20:00", "22 20:30", "22 21:00", "22 21:30", "22 22:00",
        "23 08:00", "23 09:00", "23 10:00",          # the next morning, the day's schedule again
    ]


@pytest.mark.parametrize("last, expected", [
    ((18, 0), (19, 0)), ((18, 10), (19, 0)), ((18, 30), (19, 0)), ((18, 50), (19, 20)),
    ((18, 59), (19, 29)), ((19, 0), (19, 30)), ((19, 1), (19, 31)),
])
def test_the_seven_oclock_edge(last, expected):
    due = next_attempt(at(9), [at(*last)], at(*last), SHANGHAI)
    assert due == at(*expected)


@pytest.mark.parametrize("last, expected", [
    ((21, 30), at(22, 0)), ((21, 31), at(8, day=23)), ((22, 0), at(8, day=23)), ((21, 59), at(8, day=23)),
])
def test_the_ten_oclock_edge(last, expected):
    assert next_attempt(at(9), [at(*last)], at(*last), SHANGHAI) == expected


@pytest.mark.parametrize("received, expected", [
    (at(22, 1), at(8, day=23)),             # received after the calls end: first call next morning
    (at(23, 59), at(8, day=23)),
    (at(0, 0, day=23), at(8, day=23)),      # just past midnight: this morning, not tomorrow's
    (at(7, 59, day=23), at(8, day=23)),
    (at(8, 0, day=23), at(8, day=23)),
])
def test_around_midnight_nobody_is_called(received, expected):
    assert next_attempt(received, [], received, SHANGHAI) == expected


def test_a_worker_that_was_down_makes_one_catch_up_call_not_a_burst():
    received = at(9)
    attempts = [at(9)]
    # Down from 09:30 until 13:40: the 10:00 call is late; it happens now, and the next an hour later.
    now = at(13, 40)
    due = next_attempt(received, attempts, now, SHANGHAI)
    assert due == now
    assert next_attempt(received, [*attempts, due], due, SHANGHAI) == at(14, 40)
    # Down until 23:10: the catch-up waits for the morning.
    assert next_attempt(received, attempts, at(23, 10), SHANGHAI) == at(8, day=23)


def test_utc_dates_do_not_matter_only_the_desks():
    # 07:30 Shanghai is 23:30 UTC the day before: the call waits for 08:00 Shanghai.
    received = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert next_attempt(received, [], received, "Asia/Shanghai") == at(8, day=23)


def test_an_hour_is_an_hour_across_a_daylight_saving_change():
    # Berlin leaves summer time at 03:00 on 25 October 2026; calls then resume at 08:00 local.
    last = datetime(2026, 10, 24, 21, 45, tzinfo=BERLIN)
    assert next_attempt(last, [last], last, BERLIN).astimezone(BERLIN) == datetime(2026, 10, 25, 8, tzinfo=BERLIN)
    morning = datetime(2026, 10, 25, 8, tzinfo=BERLIN)
    assert next_attempt(morning, [morning], morning, BERLIN) - morning == timedelta(hours=1)


@settings(max_examples=300, deadline=None)
@given(received=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)),
       gaps=st.lists(st.integers(min_value=0, max_value=600), max_size=6),
       zone=st.sampled_from([SHANGHAI, BERLIN, ZoneInfo("America/New_York")]))
def test_never_outside_calling_hours_never_in_the_past_never_more_than_an_hour_apart_by_day(received, gaps, zone):
    attempts, now = [], received
    for gap in gaps:
        due = next_attempt(received, attempts, now, zone)
        local = due.astimezone(zone)
        assert due >= now and due.tzinfo is not None
        assert (8, 0) <= (local.hour, local.minute) <= (22, 0)
        if attempts and due.astimezone(zone).date() == attempts[-1].astimezone(zone).date() and due > now:
            assert due - attempts[-1] <= timedelta(hours=1)
        attempts.append(due)
        now = due + timedelta(minutes=gap)
