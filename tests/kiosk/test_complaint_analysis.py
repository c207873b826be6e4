"""The weekly analysis, with data on both sides of every edge: the week's (in site time, not
UTC), the month's, and the promised reply times around ``now``."""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk import complaint_analysis, complaints, work_orders
from kiosk.errors import InvalidInput
from kiosk.values import ComplaintForm

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = "2026-W47"   # Monday 16 to Sunday 22 November 2026


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def desk_month(session, users):
    """A fortnight at the complaints desk; returns the complaints by name."""
    staff = users["staff"]

    def take(name, when, actor=staff, **overrides):
        values = dict(kind="complaint", category="environment", channel="visit", unit="1-0101", name="王芳",
                      contact="13900000000", content=name)
        values.update(overrides)
        made[name] = complaints.take(session, actor, ComplaintForm(**values), tz=SHANGHAI, now=when)
        return made[name].id

    def walk(name, *steps):
        for when, to, extra in steps:
            complaints.transition(session, staff, made[name].id, to, now=when, **extra)

    made = {}
    take("october", at(31, 23, month=10), unit="2-0202", category="equipment")
    take("before", at(15, 23, 59, 0))                       # Sunday, the last minute of W46
    complaints.reply(session, staff, made["before"].id, "noted", now=at(15, 23, 59, 30))
    take("start", at(16, 0))                                # Monday 00:00 in Shanghai: Sunday 16:00 UTC
    walk("start", (at(16, 1), "acknowledged", {"reply": "cleaning at nine"}), (at(16, 9), "resolved", {}),
         (at(18, 10), "followed_up", {"satisfied": True}), (at(18, 12), "closed", {}))
    take("phone", at(17, 9), channel="phone", unit="2-0202", category="equipment", kind="repair",
         repair_scope="in_unit")
    walk("phone", (at(17, 11), "acknowledged", {"reply": "plumber tomorrow"}))
    work_orders.transition(session, staff, work_orders.for_complaint(
        session, made["phone"].id).id, "completed", now=at(18, 9))
    walk("phone", (at(18, 10), "resolved", {}), (at(19, 9), "followed_up", {"satisfied": False}))
    take("letter", at(18, 9), channel="letter", unit="3-0303", category="housing")
    walk("letter", (at(18, 13), "acknowledged", {"reply": "we got your letter"}), (at(19, 8), "resolved", {}),
         (at(20, 9), "followed_up", {"satisfied": True}),
         (at(20, 10), "closed", {"reply": "Dear Mr Zhao", "written": True}))
    take("late", at(18, 15), unit="4-0404", category="security")        # due 19th 15:00
    complaints.reply(session, staff, made["late"].id, "sorry", now=at(19, 18))
    take("forgotten", at(19, 10), unit="5-0505", category="security")   # due 20th 10:00, never answered
    take("promised", at(19, 11), unit="6-0606", category="other", reply_due_at=at(22, 11))
    take("kiosk", at(20, 9), actor=users["kiosk"], channel="kiosk")     # due Monday 23rd, 09:00
    take("end", at(22, 23, 59, 59))                         # the week's last second
    take("after", at(23, 0))                                # Monday of W48
    session.flush()
    return made


def test_counts_follow_the_week_in_site_time(session, desk_month):
    result = complaint_analysis.weekly(session, WEEK, tz=SHANGHAI, now=at(21, 12))
    assert result.starts_at == datetime(2026, 11, 15, 16, tzinfo=UTC)
    assert result.ends_at == datetime(2026, 11, 22, 16, tzinfo=UTC)
    assert result.received == 8
    assert result.by_category == {"housing": 1, "equipment": 1, "security": 2, "environment": 3,
                                  "general_service": 0, "resident_dispute": 0, "developer": 0,
                                  "property_title": 0, "other": 1}
    assert {k: v for k, v in result.by_channel.items() if v} == {"visit": 5, "phone": 1, "letter": 1, "kiosk": 1}
    assert result.by_kind == {"complaint": 7, "repair": 1, "help": 0, "suggestion": 0}
    assert result.by_area == {"energy": 0, "equipment": 1, "service": 7}


def test_overdue_replies_are_the_promises_broken_by_now(session, desk_month):
    midweek = complaint_analysis.weekly(session, WEEK, tz=SHANGHAI, now=at(21, 12))
    assert midweek.overdue_replies == 2
    assert midweek.overdue_ids == [desk_month["late"].id, desk_month["forgotten"].id]
    # Once Sunday 11:00 has passed, the promise made for it is broken too; the kiosk's falls in W48.
    later = complaint_analysis.weekly(session, WEEK, tz=SHANGHAI, now=at(30, 12))
    assert later.overdue_ids == [desk_month[n].id for n in ("late", "forgotten", "promised")]


def test_medians_and_satisfaction(session, desk_month):
    result = complaint_analysis.weekly(session, WEEK, tz=SHANGHAI, now=at(30, 12))
    # First replies given in the week: 1 h, 2 h, 4 h and 27 h ("before" was answered in W46).
    assert result.first_replies == 4 and result.median_first_reply_seconds == 3 * 3600
    # Closed in the week: 60 h and 49 h.
    assert result.closed == 2 and result.median_close_seconds == 54.5 * 3600
    assert (result.follow_ups, result.satisfied) == (3, 2)
    assert result.satisfaction_rate == pytest.approx(2 / 3)


def test_the_month_is_the_thursdays_month_up_to_the_end_of_the_week(session, desk_month):
    month = complaint_analysis.weekly(session, WEEK, tz=SHANGHAI, now=at(30, 12)).month
    assert month.label == "2026-11"
    assert (month.starts_at, month.ends_at) == (at(1, 0), at(23, 0))
    assert month.received == 9
    assert month.top_categories == [("environment", 4), ("security", 2), ("equipment", 1), ("housing", 1),
                                    ("other", 1)]
    assert [(r.unit, r.category, r.count, r.latest_id) for r in month.repeated] == [
        ("1-0101", "environment", 4, desk_month["end"].id)]
    # Flagged when taken: start, kiosk, end (the same unit) and phone (October's in the same category).
    assert month.flagged_repeats == 4


def test_a_week_across_two_months_belongs_to_its_thursdays_month(session, desk_month):
    # 2026-W44 runs Monday 26 October to Sunday 1 November; its Thursday is in October.
    result = complaint_analysis.weekly(session, "2026-W44", tz=SHANGHAI, now=at(30, 12))
    assert result.month.label == "2026-10" and result.month.ends_at == at(1, 0)
    assert result.received == 1 and result.month.received == 1


def test_an_empty_week_has_no_medians(session):
    result = complaint_analysis.weekly(session, "2026-W01", tz=SHANGHAI, now=at(30, 12))
    assert result.received == 0 and result.median_first_reply_seconds is None
    assert result.median_close_seconds is None and result.satisfaction_rate is None
    assert result.month.top_categories == [] and result.month.repeated == []


@pytest.mark.parametrize("text", ["2026-48", "2026-W5", "2025-W53", "2026-W00", "W48", "", "2026-W48x"])
def test_a_week_is_an_iso_week(text):
    with pytest.raises(InvalidInput) as error:
        complaint_analysis.parse_week(text, SHANGHAI)
    assert (error.value.code, error.value.field) == ("invalid_week", "week")


def test_week_53_exists_in_a_long_year():
    week = complaint_analysis.parse_week("2026-W53", SHANGHAI)
    assert week.first_day.isoformat() == "2026-12-28"
    assert complaint_analysis.week_of(at(16, 0), SHANGHAI).label == WEEK
