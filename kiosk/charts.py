"""Numbers for the supervisor's charts: what the desk held and how much of it was overdue, day
by day; and at which hours of the day people bring things and collect them (to staff the desk).

All of it is counted in the database. A day's figures are taken at the end of that
local day (today's: at the end of today). Only the items that were at the desk at
some point of the window are read — those still held and those that left since it
began, both by index — and each contributes its changes (+1 when it came or became
overdue, -1 when it left); a running sum per kind over the days of the window
(``generate_series`` on PostgreSQL, a recursive CTE on SQLite) turns them into
counts. So the cost follows the window's traffic, not the table's history.

"Overdue" here is the time-based rules of kiosk/overdue.py: past the expected
pickup, large items over 24 hours, small ones over a week (keys only by their
expected pickup). Rules that depend on who was reached, or on key loans, are not
replayed into the past.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import and_, case, func, literal, or_, select, true, union_all
from sqlalchemy.orm import Session

from . import policy
from .errors import InvalidInput
from .models import Item
from .sqltime import (
    Zone,
    from_day_number,
    integers,
    local_day,
    local_hour,
    start_of_local_day,
)

WINDOWS = (30, 90)
_FAR = 10**7     # a day number after any real one (year 29349)


@dataclass(frozen=True)
class HeldPerDay:
    days: list[date]
    held: dict[str, list[int]]        # kind -> items held at the end of each day
    overdue: dict[str, list[int]]     # kind -> of those, overdue


@dataclass(frozen=True)
class PerHour:
    days: int                         # the window the counts cover
    deposits: list[int]               # per local hour 0..23
    releases: list[int]


def _window(days: int, now: datetime, tz: tzinfo) -> tuple[int, int, datetime]:
    if days not in WINDOWS:
        raise InvalidInput(code="invalid_window", field="days", choices=WINDOWS)
    last = (now.astimezone(tz).date() - date(1970, 1, 1)).days
    first = last - days + 1
    start = start_of_local_day(now, tz) - timedelta(days=days - 1)
    return first, last, start.astimezone(UTC)


def _kinds():
    return union_all(*(select(literal(kind).label("kind")) for kind in policy.KINDS)).subquery("kinds")


def held_per_day(session: Session, *, days: int = 30, now: datetime | None = None, tz: tzinfo = UTC) -> HeldPerDay:
    now = now or datetime.now(UTC)
    first, last, start = _window(days, now, tz)
    zone = Zone.at(tz, now)
    came, left = local_day(Item.deposited_at, zone), local_day(Item.released_at, zone)
    expected = func.coalesce(local_day(Item.expected_pickup_at, zone), _FAR)
    long_stay = came + case((Item.size == "large", policy.LARGE_AT_DESK.days), else_=policy.SMALL_AT_DESK.days)
    became_overdue = case((Item.kind == "key", local_day(Item.expected_pickup_at, zone)),
                          (expected < long_stay, expected), else_=long_stay)
    columns = (Item.kind, came.label("came"), left.label("left"), became_overdue.label("over"))
    alive = union_all(select(*columns).where(Item.status.in_(policy.CUSTODY)),
                      select(*columns).where(Item.released_at >= start)).cte("alive")

    def from_first(day):
        return case((day > first, day), else_=first)

    overdue_before_leaving = or_(alive.c.left.is_(None), alive.c.over < alive.c.left)
    changes = union_all(
        select(alive.c.kind, from_first(alive.c.came).label("day"), literal(1).label("held"),
               literal(0).label("overdue")),
        select(alive.c.kind, alive.c.left, literal(-1), literal(0)).where(alive.c.left.is_not(None)),
        select(alive.c.kind, from_first(alive.c.over), literal(0), literal(1))
        .where(alive.c.over <= last, overdue_before_leaving),
        select(alive.c.kind, alive.c.left, literal(0), literal(-1))
        .where(alive.c.left.is_not(None), alive.c.over < alive.c.left),
    ).subquery("changes")
    per_day = (select(changes.c.kind, changes.c.day, func.sum(changes.c.held).label("held"),
                      func.sum(changes.c.overdue).label("overdue"))
               .group_by(changes.c.kind, changes.c.day).subquery("per_day"))
    series = integers(session.bind.dialect.name, first, last, "day").subquery("series")
    kinds = _kinds()

    def running(column):
        return func.sum(func.coalesce(column, 0)).over(partition_by=kinds.c.kind, order_by=series.c.day)

    query = (select(kinds.c.kind, series.c.day, running(per_day.c.held), running(per_day.c.overdue))
             .select_from(series.join(kinds, true())
                          .outerjoin(per_day, and_(per_day.c.day == series.c.day, per_day.c.kind == kinds.c.kind)))
             .order_by(kinds.c.kind, series.c.day))
    held = {kind: [] for kind in policy.KINDS}
    overdue = {kind: [] for kind in policy.KINDS}
    for kind, _day, held_count, overdue_count in session.execute(query):
        held[kind].append(int(held_count))
        overdue[kind].append(int(overdue_count))
    return HeldPerDay(days=[from_day_number(day) for day in range(first, last + 1)], held=held, overdue=overdue)


def per_hour(session: Session, *, days: int = 30, now: datetime | None = None, tz: tzinfo = UTC) -> PerHour:
    """Deposits and hand-outs (to their owners) per local hour of the day over the window."""
    now = now or datetime.now(UTC)
    _, _, start = _window(days, now, tz)
    zone = Zone.at(tz, now)
    hours = integers(session.bind.dialect.name, 0, 23, "hour").subquery("hours")

    def counted(column, *where):
        hour = local_hour(column, zone).label("hour")
        return (select(hour, func.count().label("n")).where(column >= start, column <= now, *where)
                .group_by(hour).subquery())

    came = counted(Item.deposited_at)
    went = counted(Item.released_at, Item.status == "released")
    query = (select(hours.c.hour, func.coalesce(came.c.n, 0), func.coalesce(went.c.n, 0))
             .select_from(hours.outerjoin(came, came.c.hour == hours.c.hour)
                          .outerjoin(went, went.c.hour == hours.c.hour))
             .order_by(hours.c.hour))
    rows = session.execute(query).all()
    return PerHour(days=days, deposits=[int(r[1]) for r in rows], releases=[int(r[2]) for r in rows])

