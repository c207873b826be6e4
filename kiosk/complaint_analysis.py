"""The weekly analysis of complaints and requests, and the month's most frequent and repeated ones.

DOMAIN.md: "Every week: analyse all requests and complaints by category; monthly
review of the most frequent and repeated complaints."

A week is an ISO week (``2026-W48``) in the site's time zone: Monday 00:00 to the
next Monday 00:00 local time. What the week counts:

- received: complaints taken in the week, per category, channel, kind and the
  energy / equipment / service split;
- overdue replies: promises that fell due in the week (up to ``now``) and were
  not kept: no reply yet, or the first reply came after the promised time;
- median time to first reply, over the first replies given in the week; median
  time to close, over the complaints closed in the week;
- satisfaction at follow-up: the follow-up visits made in the week, and how many
  found the resident satisfied;
- the month: the calendar month the week's Thursday falls in (the ISO rule for
  which month a week belongs to), counted up to the end of the week, so a past
  week's report does not change: its most frequent categories, and the units
  that complained in the same category more than once.

Every figure is one indexed range query; nothing loads the week's rows into Python.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression

from .complaint_policy import AREAS, CATEGORIES, CHANNELS, KINDS
from .errors import InvalidInput
from .models import Complaint, ComplaintStep

WEEK_PATTERN = re.compile(r"(\d{4})-W(\d{2})")
TOP = 5
REPEATED = 10
OVERDUE_IDS = 50


@dataclass(frozen=True)
class Week:
    label: str
    first_day: date
    starts_at: datetime
    ends_at: datetime


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def parse_week(text: str, tz: ZoneInfo) -> Week:
    match = WEEK_PATTERN.fullmatch((text or "").strip())
    if match is None:
        raise InvalidInput(code="invalid_week", field="week")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise InvalidInput(code="invalid_week", field="week") from None
    return Week(label=f"{match[1]}-W{match[2]}", first_day=monday, starts_at=_local_midnight(monday, tz),
                ends_at=_local_midnight(monday + timedelta(days=7), tz))


def week_of(moment: datetime, tz: ZoneInfo) -> Week:
    year, week, _ = moment.astimezone(tz).isocalendar()
    return parse_week(f"{year}-W{week:02d}", tz)


@dataclass(frozen=True)
class Repeated:
    unit: str
    category: str
    count: int
    latest_id: int


@dataclass(frozen=True)
class MonthReview:
    label: str
    starts_at: datetime
    ends_at: datetime
    received: int
    top_categories: list[tuple[str, int]]
    repeated: list[Repeated]
    flagged_repeats: int


@dataclass(frozen=True)
class WeeklyAnalysis:
    week: str
    starts_at: datetime
    ends_at: datetime
    received: int
    by_category: dict[str, int]
    by_channel: dict[str, int]
    by_kind: dict[str, int]
    by_area: dict[str, int]
    overdue_replies: int
    overdue_ids: list[int]
    first_replies: int
    median_first_reply_seconds: float | None
    closed: int
    median_close_seconds: float | None
    follow_ups: int
    satisfied: int
    month: MonthReview

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.follow_ups if self.follow_ups else None


def _seconds(session: Session, later, earlier):
    if session.bind.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _median(session: Session, later, earlier, *where) -> tuple[int, float | None]:
    """How many rows, and the median of ``later - earlier`` in seconds, computed in the database.

    Window functions work the same on SQLite and PostgreSQL: number the durations in
    order and average the one or two in the middle.
    """
    duration = _seconds(session, later, earlier)
    ranked = select(
        duration.label("d"),
        func.row_number().over(order_by=duration).label("rn"),
        func.count().over().label("n"),
    ).where(*where).subquery()
    middle = or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)
    count, median = session.execute(
        select(func.max(ranked.c.n), func.avg(ranked.c.d)).where(middle)).one()
    return (count or 0), (round(float(median), 1) if median is not None else None)


def _unsorted(session: Session, column):
    """``column`` for grouping, on SQLite as ``+column``: once ANALYZE has run, SQLite's planner
    would rather walk the whole (unit, category, received_at) index to skip a sort than read
    the month's range of the covering index, which is several times slower."""
    if session.bind.dialect.name == "sqlite":
        return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
    return column


def _in(column, starts_at: datetime, ends_at: datetime):
    return and_(column >= starts_at, column < ends_at)


def _month(session: Session, week: Week, tz: ZoneInfo) -> MonthReview:
    thursday = week.first_day + timedelta(days=3)
    first = thursday.replace(day=1)
    starts_at = _local_midnight(first, tz)
    next_month = (first + timedelta(days=32)).replace(day=1)
    ends_at = min(_local_midnight(next_month, tz), week.ends_at)
    in_month = _in(Complaint.received_at, starts_at, ends_at)
    count = func.count()
    by_category = session.execute(
        select(Complaint.category, count).where(in_month).group_by(Complaint.category)
        .order_by(count.desc(), Complaint.category)).all()
    unit = _unsorted(session, Complaint.unit)
    repeated = session.execute(
        select(unit, Complaint.category, count, func.max(Complaint.id))
        .where(in_month, Complaint.unit.is_not(None))
        .group_by(unit, Complaint.category).having(count > 1)
        .order_by(count.desc(), func.max(Complaint.id).desc()).limit(REPEATED)).all()
    flagged = session.scalar(select(func.count()).where(in_month, Complaint.repeat_of.is_not(None)))
    return MonthReview(
        label=f"{first:%Y-%m}", starts_at=starts_at, ends_at=ends_at,
        received=sum(n for _, n in by_category), top_categories=list(by_category[:TOP]),
        repeated=[Repeated(unit, category, n, latest) for unit, category, n, latest in repeated],
        flagged_repeats=flagged or 0)


def weekly(session: Session, week: str, *, tz: ZoneInfo, now: datetime | None = None) -> WeeklyAnalysis:
    now = now or datetime.now(UTC)
    span = parse_week(week, tz)
    start, end = span.starts_at, span.ends_at

    counts = {name: dict.fromkeys(choices, 0) for name, choices in
              (("category", CATEGORIES), ("channel", CHANNELS), ("kind", KINDS), ("area", AREAS))}
    grouped = session.execute(
        select(Complaint.category, Complaint.channel, Complaint.kind, Complaint.area, func.count())
        .where(_in(Complaint.received_at, start, end))
        .group_by(Complaint.category, Complaint.channel, Complaint.kind, Complaint.area))
    received = 0
    for category, channel, kind, area, n in grouped:
        received += n
        for name, value in (("category", category), ("channel", channel), ("kind", kind), ("area", area)):
            counts[name][value] = counts[name].get(value, 0) + n

    # A promise is broken once its time has passed without a reply, or the reply came late.
    broken = and_(_in(Complaint.reply_due_at, start, min(end, now)),
                  or_(Complaint.first_reply_at.is_(None), Complaint.first_reply_at > Complaint.reply_due_at))
    overdue = session.scalar(select(func.count()).where(broken)) or 0
    overdue_ids = list(session.scalars(
        select(Complaint.id).where(broken).order_by(Complaint.reply_due_at, Complaint.id).limit(OVERDUE_IDS)))

    first_replies, median_reply = _median(session, Complaint.first_reply_at, Complaint.received_at,
                                          _in(Complaint.first_reply_at, start, end))
    closed, median_close = _median(session, Complaint.closed_at, Complaint.received_at,
                                   _in(Complaint.closed_at, start, end))
    follow_ups, satisfied = session.execute(
        select(func.count(), func.count().filter(ComplaintStep.satisfied.is_(True)))
        .where(ComplaintStep.action == "follow_up", _in(ComplaintStep.at, start, end))).one()

    return WeeklyAnalysis(
        week=span.label, starts_at=start, ends_at=end, received=received,
        by_category=counts["category"], by_channel=counts["channel"], by_kind=counts["kind"],
        by_area=counts["area"], overdue_replies=overdue, overdue_ids=overdue_ids,
        first_replies=first_replies, median_first_reply_seconds=median_reply,
        closed=closed, median_close_seconds=median_close,
        follow_ups=follow_ups or 0, satisfied=satisfied or 0, month=_month(session, span, tz))
