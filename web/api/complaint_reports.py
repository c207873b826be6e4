"""The weekly complaints analysis, as JSON and as a CSV file for a spreadsheet."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import Response

from kiosk import complaint_analysis
from kiosk.complaint_analysis import WeeklyAnalysis

from .. import db
from ..messages import message
from ..schema import Answer, Query
from . import operation
from .answers import Time
from .complaints import site_tz


class WeekQuery(Query):
    # YYYY-Www; this week (in the site's time zone) when left out.
    week: str | None = None


class CsvWeekQuery(WeekQuery):
    """The same arguments (the document takes each query model once)."""


class Count(Answer):
    key: str
    count: int


class RepeatedView(Answer):
    unit: str
    category: str
    count: int
    latest_id: int


class MonthView(Answer):
    label: str
    starts_at: Time
    ends_at: Time
    received: int
    top_categories: list[Count]
    repeated: list[RepeatedView]
    flagged_repeats: int


class AnalysisView(Answer):
    """An ISO week in the site's time zone; the month is the month of the week's Thursday,
    counted up to the end of the week."""

    week: str
    starts_at: Time
    ends_at: Time
    received: int
    by_category: list[Count]
    by_channel: list[Count]
    by_kind: list[Count]
    by_area: list[Count]
    overdue_replies: int
    overdue_ids: list[int]
    first_replies: int
    median_first_reply_seconds: float | None
    closed: int
    median_close_seconds: float | None
    follow_ups: int
    satisfied: int
    satisfaction_rate: float | None
    month: MonthView


def _counts(counts: dict[str, int]) -> list[Count]:
    return [Count(key=key, count=n) for key, n in counts.items()]


def analysis_view(result: WeeklyAnalysis) -> AnalysisView:
    month = result.month
    return AnalysisView(
        week=result.week, starts_at=result.starts_at, ends_at=result.ends_at, received=result.received,
        by_category=_counts(result.by_category), by_channel=_counts(result.by_channel),
        by_kind=_counts(result.by_kind), by_area=_counts(result.by_area), overdue_replies=result.overdue_replies,
        overdue_ids=result.overdue_ids, first_replies=result.first_replies,
        median_first_reply_seconds=result.median_first_reply_seconds, closed=result.closed,
        median_close_seconds=result.median_close_seconds, follow_ups=result.follow_ups, satisfied=result.satisfied,
        satisfaction_rate=result.satisfaction_rate,
        month=MonthView(label=month.label, starts_at=month.starts_at, ends_at=month.ends_at, received=month.received,
                        top_categories=[Count(key=c, count=n) for c, n in month.top_categories],
                        repeated=[RepeatedView(unit=r.unit, category=r.category, count=r.count, latest_id=r.latest_id)
                                  for r in month.repeated],
                        flagged_repeats=month.flagged_repeats))


def weekly(week: str | None) -> WeeklyAnalysis:
    tz = site_tz()
    label = week or complaint_analysis.week_of(datetime.now(UTC), tz).label
    return complaint_analysis.weekly(db.session(), label, tz=tz)


ERRORS = {422: ("invalid_query", "invalid_week")}


@operation("GET", "/complaints/analysis", summary="The weekly analysis of complaints and requests",
           permission="complaint_analysis", query=WeekQuery, answers={200: AnalysisView}, tag="complaints",
           errors=ERRORS)
def analysis(actor, query: WeekQuery):
    return analysis_view(weekly(query.week))


def csv_rows(result: WeeklyAnalysis) -> list[list]:
    """section, key, label (in the reader's language), value: one figure per row."""
    rows: list[list] = [["section", "key", "label", "value"], ["week", result.week, "", result.week]]
    for section, counts in (("category", result.by_category), ("channel", result.by_channel),
                            ("kind", result.by_kind), ("area", result.by_area)):
        rows += [[section, key, message(f"{section}.{key}"), n] for key, n in counts.items()]
    rate = result.satisfaction_rate
    rows += [["figure", key, message(f"analysis.{key}"), "" if value is None else value] for key, value in (
        ("received", result.received), ("overdue_replies", result.overdue_replies),
        ("first_replies", result.first_replies), ("median_first_reply_hours", _hours(result.median_first_reply_seconds)),
        ("closed", result.closed), ("median_close_hours", _hours(result.median_close_seconds)),
        ("follow_ups", result.follow_ups), ("satisfied", result.satisfied),
        ("satisfaction_rate", None if rate is None else round(rate, 3)))]
    month = result.month
    rows += [["month_category", category, message(f"category.{category}"), n] for category, n in month.top_categories]
    rows += [["month_repeated", f"{r.unit} {r.category}", message(f"category.{r.category}"), r.count]
             for r in month.repeated]
    rows.append(["month", month.label, message("analysis.flagged_repeats"), month.flagged_repeats])
    return rows


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


@operation("GET", "/complaints/analysis.csv", summary="The weekly analysis as CSV (UTF-8 with BOM, for spreadsheets)",
           permission="complaint_analysis", query=CsvWeekQuery, answers={200: "text/csv"}, tag="complaints",
           errors=ERRORS)
def analysis_csv(actor, query: CsvWeekQuery):
    result = weekly(query.week)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in csv_rows(result):
        # A spreadsheet runs a cell that starts with = + - @ as a formula: data stays data.
        writer.writerow([f"'{cell}" if isinstance(cell, str) and cell[:1] in "=+-@" else cell for cell in row])
    # The BOM tells spreadsheet programs the file is UTF-8, so Chinese labels read right.
    body = "\ufeff" + buffer.getvalue()
    return Response(body.encode("utf-8"), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="complaints-{result.week}.csv"'})

