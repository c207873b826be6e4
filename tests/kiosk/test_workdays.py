from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kiosk import workdays
from kiosk.errors import Conflict, Forbidden
from kiosk.models import AuditEvent
from kiosk.workdays import Calendar, add_working_days

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


WEEK = Calendar(tz=SHANGHAI)


@pytest.mark.parametrize("start, due", [
    (local(2026, 11, 19, 15), local(2026, 11, 20, 15)),     # Thursday -> Friday, same time
    (local(2026, 11, 20, 15), local(2026, 11, 23, 15)),     # Friday -> Monday: the weekend does not count
    (local(2026, 11, 21, 10), local(2026, 11, 24, 0)),      # Saturday -> the end of Monday
    (local(2026, 11, 22, 23, 59), local(2026, 11, 24, 0)),  # late Sunday too
    (local(2026, 11, 23, 0, 0), local(2026, 11, 24, 0)),    # Monday midnight is Monday
])
def test_one_working_day_skips_the_weekend(start, due):
    assert add_working_days(WEEK, start) == due.astimezone(UTC)


def test_the_calendar_counts_in_the_sites_time_zone():
    # Friday 23:00 in Shanghai is still Friday 15:00 UTC; in UTC it would look like Friday all the same,
    # but Saturday 01:00 Shanghai (Friday 17:00 UTC) is a weekend day only in site time.
    saturday_early = datetime(2026, 11, 20, 17, tzinfo=UTC)
    assert add_working_days(WEEK, saturday_early) == local(2026, 11, 24, 0).astimezone(UTC)


def test_holidays_do_not_count_and_makeup_days_do():
    # National Day 2026: 1-7 October off; Sunday 27 September and Saturday 10 October worked (调休).
    exceptions = {date(2026, 10, d): False for d in range(1, 8)}
    exceptions |= {date(2026, 9, 27): True, date(2026, 10, 10): True}
    calendar = Calendar(tz=SHANGHAI, exceptions=exceptions)
    assert add_working_days(calendar, local(2026, 9, 30, 16)) == local(2026, 10, 8, 16).astimezone(UTC)
    assert add_working_days(calendar, local(2026, 9, 26, 12)) == local(2026, 9, 28, 0).astimezone(UTC)
    assert add_working_days(calendar, local(2026, 10, 9, 9)) == local(2026, 10, 10, 9).astimezone(UTC)
    assert add_working_days(calendar, local(2026, 10, 9, 9), days=2) == local(2026, 10, 12, 9).astimezone(UTC)


def test_a_site_that_works_saturdays():
    calendar = Calendar(tz=SHANGHAI, working_weekdays=frozenset(range(6)))
    assert add_working_days(calendar, local(2026, 11, 20, 15)) == local(2026, 11, 21, 15).astimezone(UTC)


def test_wall_clock_days_where_clocks_change():
    berlin = ZoneInfo("Europe/Berlin")
    calendar = Calendar(tz=berlin, working_weekdays=frozenset(range(7)))
    # The night of 28-29 March 2026 is an hour short; the promise is still "the same time tomorrow".
    start = datetime(2026, 3, 28, 12, tzinfo=berlin)
    assert add_working_days(calendar, start) == datetime(2026, 3, 29, 12, tzinfo=berlin).astimezone(UTC)


def test_a_calendar_with_no_working_day_is_refused():
    with pytest.raises(Conflict) as error:
        add_working_days(Calendar(tz=SHANGHAI, working_weekdays=frozenset()), local(2026, 1, 1, 9))
    assert error.value.code == "no_working_days"


def test_a_supervisor_keeps_the_calendar(session, users):
    supervisor, now = users["supervisor"], datetime(2026, 9, 1, tzinfo=UTC)
    workdays.set_day(session, supervisor, date(2026, 10, 1), False, "国庆节", now=now)
    workdays.set_day(session, supervisor, date(2026, 10, 10), True, "国庆调休", now=now)
    workdays.set_day(session, supervisor, date(2026, 10, 1), False, "National Day", now=now)
    workdays.set_weekday(session, supervisor, 5, True, now=now)
    calendar = workdays.load(session, SHANGHAI, date(2026, 9, 30))
    assert not calendar.is_working(date(2026, 10, 1)) and calendar.is_working(date(2026, 10, 10))
    assert calendar.is_working(date(2026, 10, 17)) and not calendar.is_working(date(2026, 10, 18))
    assert [(d.day, d.name) for d in workdays.list_days(session, date(2026, 10, 1), date(2026, 10, 31))] == [
        (date(2026, 10, 1), "National Day"), (date(2026, 10, 10), "国庆调休")]
    workdays.clear_day(session, supervisor, date(2026, 10, 10), now=now)
    assert workdays.load(session, SHANGHAI, date(2026, 9, 30)).is_working(date(2026, 10, 10))
    assert workdays.working_weekdays(session) == {0: True, 1: True, 2: True, 3: True, 4: True, 5: True, 6: False}
    events = session.scalars(select(AuditEvent.event).where(AuditEvent.event == "calendar_changed")).all()
    assert len(events) == 5


def test_staff_cannot_edit_the_calendar_nor_remove_every_working_day(session, users):
    with pytest.raises(Forbidden):
        workdays.set_day(session, users["staff"], date(2026, 10, 1), False)
    for weekday in range(4):
        workdays.set_weekday(session, users["supervisor"], weekday, False)
    with pytest.raises(Conflict) as error:
        workdays.set_weekday(session, users["supervisor"], 4, False)
    assert error.value.code == "no_working_days"
