"""The site's working-day calendar: the working week, public holidays and make-up working days (调休).

Everyone at the desk reads it (it decides when a promised reply is due); only
supervisors change it.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from kiosk import workdays
from kiosk.models import CalendarDay

from .. import db
from ..errors import ApiError
from ..schema import Answer, Body, Flag, Query, Text
from . import operation
from .answers import Time
from .complaints import site_tz

# The longest range one request reads.
MAX_DAYS = 800


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("invalid_date", "a date as YYYY-MM-DD")


Day = Annotated[date, BeforeValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]


class WeekdayView(Answer):
    weekday: int
    working: bool


class DayView(Answer):
    day: date
    working: bool
    name: str
    updated_by: str
    updated_at: Time


class CalendarView(Answer):
    """Monday (0) to Sunday (6), and the single days that differ from the working week."""

    weekdays: list[WeekdayView]
    start: date
    end: date
    days: list[DayView]


def day_view(day: CalendarDay) -> DayView:
    return DayView(day=day.day, working=day.working, name=day.name, updated_by=day.updated_by,
                   updated_at=day.updated_at)


def calendar_view(start: date | None = None, end: date | None = None) -> CalendarView:
    session = db.session()
    start = start or datetime.now(UTC).astimezone(site_tz()).date().replace(month=1, day=1)
    end = end or start.replace(year=start.year + 1) - timedelta(days=1)
    return CalendarView(
        weekdays=[WeekdayView(weekday=d, working=w) for d, w in workdays.working_weekdays(session).items()],
        start=start, end=end, days=[day_view(day) for day in workdays.list_days(session, start, end)])


class CalendarQuery(Query):
    # This calendar year (in the site's time zone) when left out.
    start: date | None = None
    end: date | None = None


@operation("GET", "/calendar", summary="The working-day calendar", permission="read_calendar",
           query=CalendarQuery, answers={200: CalendarView}, tag="calendar",
           errors={422: ("invalid_query", "invalid_range")})
def read_calendar(actor, query: CalendarQuery):
    start = query.start or (query.end - timedelta(days=365) if query.end else None)
    end = query.end or (query.start + timedelta(days=365) if query.start else None)
    if start and end and not timedelta(0) <= end - start <= timedelta(days=MAX_DAYS):
        raise ApiError(422, "invalid_range", limit=MAX_DAYS)
    return calendar_view(start, end)


class DayRequest(Body):
    day: Day
    working: Flag
    name: Text(workdays.NAME_LIMIT, required=False) = ""


@operation("POST", "/calendar/days", summary="Mark a day a holiday, or a worked day", permission="edit_calendar",
           body=DayRequest, answers={200: DayView}, tag="calendar", errors={422: (
               "missing_field", "unknown_field", "invalid_type", "too_long", "invalid_text", "id_number_not_allowed",
               "invalid_date")})
def set_day(actor, body: DayRequest):
    return day_view(workdays.set_day(db.session(), actor, body.day, body.working, body.name))


@operation("DELETE", "/calendar/days/<day>", summary="Let a day follow the working week again",
           permission="edit_calendar", answers={200: CalendarView}, tag="calendar", errors={404: ("not_found",)})
def clear_day(actor, day):
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise ApiError(404, "not_found") from None
    workdays.clear_day(db.session(), actor, parsed)
    return calendar_view()


class WeekdayRequest(Body):
    weekday: Annotated[int, Field(strict=True, ge=0, le=6)]
    working: Flag


@operation("POST", "/calendar/weekdays", summary="Change whether a day of the week is worked",
           permission="edit_calendar", body=WeekdayRequest, answers={200: CalendarView}, tag="calendar",
           errors={409: ("no_working_days",)})
def set_weekday(actor, body: WeekdayRequest):
    workdays.set_weekday(db.session(), actor, body.weekday, body.working)
    return calendar_view()
