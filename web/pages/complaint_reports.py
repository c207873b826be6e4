"""The complaints desk's weekly analysis (with its chart and CSV) and the working-day calendar."""
from __future__ import annotations

from datetime import date, timedelta

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kiosk import accounts, complaint_analysis, workdays
from kiosk.db import unit_of_work
from kiosk.errors import KioskError

from .. import db
from ..auth import site_zone
from ..messages import message, word
from ..security import now
from . import blueprint
from .complaint_forms import CalendarDayForm, CalendarWeekdayForm
from .complaints import local, permitted, refusal_of

bp = blueprint("complaint_reports")


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f}"


@bp.get("/complaints/analysis")
@permitted("complaint_analysis")
def analysis():
    tz = site_zone()
    moment = now()
    this_week = complaint_analysis.week_of(moment, tz)
    asked = (request.args.get("week") or "").strip() or this_week.label
    try:
        result = complaint_analysis.weekly(db.session(), asked, tz=tz, now=moment)
    except KioskError as error:
        return render_template("complaint_analysis.html", result=None, week=asked[:16],
                               refusal=refusal_of(error)), 422
    span = complaint_analysis.parse_week(result.week, tz)
    previous = complaint_analysis.week_of(span.starts_at - timedelta(days=1), tz).label
    following = complaint_analysis.week_of(span.ends_at + timedelta(days=1), tz).label
    sections = [(key, title, [(code, word(key, code), n) for code, n in counts.items()])
                for key, title, counts in (
                    ("category", _("By category"), result.by_category),
                    ("channel", _("By channel"), result.by_channel),
                    ("kind", _("By kind"), result.by_kind),
                    ("area", _("Energy, equipment, service"), result.by_area))]
    rate = result.satisfaction_rate
    figures = [
        ("received", result.received), ("overdue_replies", result.overdue_replies),
        ("first_replies", result.first_replies),
        ("median_first_reply_hours", _hours(result.median_first_reply_seconds)),
        ("closed", result.closed), ("median_close_hours", _hours(result.median_close_seconds)),
        ("follow_ups", result.follow_ups), ("satisfied", result.satisfied),
        ("satisfaction_rate", "—" if rate is None else f"{rate:.0%}")]
    # What the chart script draws: the same counts as the tables, labelled in the page's language.
    chart = {"title": _("Complaints and requests of week %(week)s", week=result.week),
             "count": _("Count"),
             "sections": {key: {"title": title, "labels": [label for _code, label, _n in rows],
                                "counts": [n for _code, _label, n in rows]} for key, title, rows in sections}}
    return render_template(
        "complaint_analysis.html", result=result, week=result.week, sections=sections, chart=chart,
        figures=[(key, message(f"analysis.{key}"), value) for key, value in figures], previous=previous,
        following=following if span.ends_at <= moment else None, this_week=this_week.label, word=word,
        refusal=None, starts=local(result.starts_at), ends=local(result.ends_at - timedelta(minutes=1)))


# --- the working-day calendar ----------------------------------------------------------------

def weekday_names() -> list[str]:
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def calendar_page(status: int = 200, *, form: CalendarDayForm | None = None, refusal: dict | None = None,
                  done: str | None = None):
    session = db.session()
    today = now().astimezone(site_zone()).date()
    year = request.args.get("year", type=int) or today.year
    year = year if 2000 <= year <= 2100 else today.year
    start, end = date(year, 1, 1), date(year, 12, 31)
    week = workdays.working_weekdays(session)
    days = workdays.list_days(session, start, end)
    may_edit = accounts.may(current_user.role, "edit_calendar")
    calendar = workdays.load(session, site_zone(), today)
    upcoming = []
    day = today
    while len(upcoming) < 5:
        if calendar.is_working(day):
            upcoming.append(day)
        day += timedelta(days=1)
    return render_template(
        "calendar.html", year=year, weekdays=[(n, weekday_names()[n], week[n]) for n in range(7)], days=days,
        may_edit=may_edit, form=form or CalendarDayForm(formdata=None), refusal=refusal, done=done,
        weekday_form=CalendarWeekdayForm(formdata=None), upcoming=upcoming, names=weekday_names(),
        today=today), status


@bp.get("/complaints/calendar")
@permitted("read_calendar")
def calendar():
    done = request.args.get("done")
    return calendar_page(done=done if done in ("day", "cleared", "weekday") else None)


def _change(work, done: str, form=None):
    session = db.session()
    try:
        with unit_of_work(session):
            work(session, current_user.actor())
    except KioskError as error:
        return calendar_page(409 if error.status == 409 else 422, form=form, refusal=refusal_of(error))
    return redirect(url_for("complaint_reports.calendar", year=request.args.get("year"), done=done), code=303)


@bp.post("/complaints/calendar/days")
@permitted("edit_calendar")
def set_day():
    form = CalendarDayForm()
    if not form.validate_on_submit():
        return calendar_page(422, form=form)

    def work(session, actor):
        workdays.set_day(session, actor, form.day.data, form.working.data == "yes", form.name.data or "",
                         now=now())

    return _change(work, "day", form)


@bp.post("/complaints/calendar/days/<day>/clear")
@permitted("edit_calendar")
def clear_day(day: str):
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    # The button posts only its CSRF token, which CSRFProtect checked before this view ran.

    def work(session, actor):
        workdays.clear_day(session, actor, parsed, now=now())

    return _change(work, "cleared")


@bp.post("/complaints/calendar/weekdays")
@permitted("edit_calendar")
def set_weekday():
    form = CalendarWeekdayForm()
    if not form.validate_on_submit() or form.weekday.data not in [str(n) for n in range(7)] \
            or form.working.data not in ("yes", "no"):
        abort(400)

    def work(session, actor):
        workdays.set_weekday(session, actor, int(form.weekday.data), form.working.data == "yes", now=now())

    return _change(work, "weekday")
