"""The site's working-day calendar: what "a reply within one working day" means here.

The working week is Monday to Friday unless a supervisor changes a weekday; single
days are exceptions on top of it: public holidays (not worked) and the weekend days
worked in their place (调休). Counting is pure: ``add_working_days`` takes a loaded
``Calendar`` and a start time and never touches the database.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import accounts, audit
from .errors import Conflict, InvalidInput, NotFound
from .models import CalendarDay, CalendarWeekday
from .values import Actor

DEFAULT_WORKING_WEEKDAYS = frozenset(range(5))
# How far ahead a promise may be counted; a calendar with no working day in a year is a mistake.
HORIZON = timedelta(days=400)
NAME_LIMIT = 64


@dataclass(frozen=True)
class Calendar:
    tz: ZoneInfo
    working_weekdays: frozenset[int] = DEFAULT_WORKING_WEEKDAYS
    # Single days that differ from the working week: day -> worked or not.
    exceptions: Mapping[date, bool] = field(default_factory=dict)

    def is_working(self, day: date) -> bool:
        return self.exceptions.get(day, day.weekday() in self.working_weekdays)


def add_working_days(calendar: Calendar, start: datetime, days: int = 1) -> datetime:
    """``start`` plus ``days`` whole working days, counting only time on working days.

    Thursday 15:00 → Friday 15:00; Friday 15:00 → Monday 15:00 (the weekend does not
    count); anything on a Saturday → the end of Monday. Counted in the site's wall-clock
    time, so a day is a calendar day even where clocks change.
    """
    if start.tzinfo is None:
        raise ValueError("naive datetime given to add_working_days")
    local = start.astimezone(calendar.tz)
    day, into_day = local.date(), local.replace(tzinfo=None) - datetime.combine(local.date(), time())
    remaining = timedelta(days=days)
    last_day = day + HORIZON
    while day <= last_day:
        if calendar.is_working(day):
            left_today = timedelta(days=1) - into_day
            if remaining <= left_today:
                wall = datetime.combine(day, time()) + into_day + remaining
                return wall.replace(tzinfo=calendar.tz).astimezone(UTC)
            remaining -= left_today
        day, into_day = day + timedelta(days=1), timedelta(0)
    raise Conflict(code="no_working_days")


def load(session: Session, tz: ZoneInfo, start: date) -> Calendar:
    """The calendar from ``start`` on, as far ahead as any promise may reach."""
    exceptions = dict(session.execute(
        select(CalendarDay.day, CalendarDay.working)
        .where(CalendarDay.day >= start - timedelta(days=1), CalendarDay.day <= start + HORIZON)
    ).all())
    return Calendar(tz=tz, working_weekdays=_working_weekdays(session), exceptions=exceptions)


def _working_weekdays(session: Session) -> frozenset[int]:
    working = set(DEFAULT_WORKING_WEEKDAYS)
    for row in session.scalars(select(CalendarWeekday)):
        (working.add if row.working else working.discard)(row.weekday)
    return frozenset(working)


def working_weekdays(session: Session) -> dict[int, bool]:
    """Monday (0) to Sunday (6): whether the site works that day of the week."""
    working = _working_weekdays(session)
    return {weekday: weekday in working for weekday in range(7)}


def list_days(session: Session, start: date, end: date) -> list[CalendarDay]:
    """The exceptions from ``start`` up to and including ``end``."""
    return list(session.scalars(
        select(CalendarDay).where(CalendarDay.day >= start, CalendarDay.day <= end).order_by(CalendarDay.day)))


def _upsert(session: Session, model, key: str, values: dict) -> None:
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    statement = insert(model).values(**values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[key], set_={name: statement.excluded[name] for name in values if name != key}))


def set_weekday(session: Session, actor: Actor, weekday: int, working: bool,
                now: datetime | None = None) -> dict[int, bool]:
    accounts.require(actor, "edit_calendar")
    now = now or datetime.now(UTC)
    if weekday not in range(7):
        raise InvalidInput(code="invalid_weekday", field="weekday")
    week = working_weekdays(session)
    week[weekday] = working
    if not any(week.values()):
        raise Conflict(code="no_working_days")
    _upsert(session, CalendarWeekday, "weekday", {"weekday": weekday, "working": working})
    audit.append(session, "calendar_changed", actor, now=now, details={"weekday": weekday, "working": working})
    return week


def set_day(session: Session, actor: Actor, day: date, working: bool, name: str = "",
            now: datetime | None = None) -> CalendarDay:
    """Mark one day a holiday (``working=False``) or a worked day (``working=True``)."""
    accounts.require(actor, "edit_calendar")
    now = now or datetime.now(UTC)
    name = (name or "").strip()
    if len(name) > NAME_LIMIT:
        raise InvalidInput(code="too_long", field="name", limit=NAME_LIMIT)
    _upsert(session, CalendarDay, "day", {"day": day, "working": working, "name": name,
                                          "updated_by": actor.name, "updated_at": now})
    audit.append(session, "calendar_changed", actor, now=now,
                 details={"day": day.isoformat(), "working": working, "name": name})
    return session.get(CalendarDay, day, populate_existing=True)


def clear_day(session: Session, actor: Actor, day: date, now: datetime | None = None) -> None:
    """Let a day follow the working week again."""
    accounts.require(actor, "edit_calendar")
    now = now or datetime.now(UTC)
    row = session.get(CalendarDay, day, with_for_update=True)
    if row is None:
        raise NotFound(day=day.isoformat())
    session.delete(row)
    audit.append(session, "calendar_changed", actor, now=now, details={"day": day.isoformat(), "cleared": True})
