"""The supervisor's views: the list as a CSV people take away, counts at a glance, chart data."""
from __future__ import annotations

from typing import Literal

from flask import Response, current_app, stream_with_context

from kiosk import charts, exports, overdue, policy

from .. import db
from ..auth import site_zone
from ..messages import current_locale, word
from ..schema import Answer, Query
from ..security import now as clock
from . import operation
from .items import ItemsQuery, KindArg, LocationArg, UnitArg

# Which catalogue group names a column's codes (kind → "kind.parcel" → 包裹).
WORD_GROUPS = {"kind": "kind", "status": "status", "policy_status": "policy", "size": "size",
               "location": "location", "method": "method", "outcome": "outcome"}


@operation("GET", "/items.csv", summary="The filtered list as CSV, streamed (UTF-8 with BOM, phones masked); "
                                        "the same filters as GET /items", permission="list_items",
           query=ItemsQuery, answers={200: "text/csv"}, tag="supervisor",
           errors={422: ("invalid_query", "invalid_cursor")}, own_transactions=True)
def items_csv(actor, query: ItemsQuery):
    filters = query.filters().checked()       # refused here, before the first byte, not halfway through
    app, locale, now, tz = current_app._get_current_object(), current_locale(), clock(), site_zone()
    headers = {column: word("csv", column, locale) for column in exports.COLUMNS}

    def words(column: str, code: str) -> str:
        return word(WORD_GROUPS[column], code, locale)

    def chunks():
        with db.sessions(app)() as session:
            for chunk in exports.csv_chunks(session, filters, now=now, tz=tz, order=query.order, headers=headers,
                                            words=words):
                # No transaction is held while the client reads: SQLite's lock and PostgreSQL's
                # snapshot last one batch, not the whole download.
                session.rollback()
                yield chunk

    name = f"items-{now.astimezone(tz):%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(chunks()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


class SummaryQuery(Query):
    kind: KindArg | None = None
    unit: UnitArg | None = None
    location: LocationArg | None = None


class Summary(Answer):
    """Held items per policy status (every status, zeros too) and how many are overdue."""

    counts: dict[str, int]
    overdue: int
    held: int


@operation("GET", "/supervisor/summary", summary="Held items per policy status, at a glance",
           permission="list_items", query=SummaryQuery, answers={200: Summary}, tag="supervisor")
def summary(actor, query: SummaryQuery):
    filters = overdue.Filters(kind=query.kind, unit=query.unit, location=query.location)
    counts = overdue.summary(db.session(), filters, now=clock(), tz=site_zone())
    return Summary(counts=counts, overdue=sum(counts[s] for s in overdue.OVERDUE), held=sum(counts.values()))


class ChartQuery(Query):
    days: Literal["30", "90"] = "30"


class KindSeries(Answer):
    held: list[int]
    overdue: list[int]


class HeldChart(Answer):
    """Items held at the end of each local day, and of those overdue by the time rules, per kind."""

    days: list[str]
    kinds: dict[str, KindSeries]


@operation("GET", "/supervisor/charts/held", summary="Items held and overdue per day over the last 30 or 90 days, "
                                                     "by kind", permission="list_items", query=ChartQuery,
           answers={200: HeldChart}, tag="supervisor")
def held_chart(actor, query: ChartQuery):
    chart = charts.held_per_day(db.session(), days=int(query.days), now=clock(), tz=site_zone())
    return HeldChart(days=[day.isoformat() for day in chart.days],
                     kinds={kind: KindSeries(held=chart.held[kind], overdue=chart.overdue[kind])
                            for kind in policy.KINDS})


class TrafficChart(Answer):
    """Deposits and hand-outs per local hour of the day (0–23) over the window."""

    days: int
    deposits: list[int]
    releases: list[int]


@operation("GET", "/supervisor/charts/traffic", summary="Deposits and releases per hour of the day (to staff the "
                                                        "desk)", permission="list_items", query=ChartQuery,
           answers={200: TrafficChart}, tag="supervisor")
def traffic_chart(actor, query: ChartQuery):
    chart = charts.per_hour(db.session(), days=int(query.days), now=clock(), tz=site_zone())
    return TrafficChart(days=chart.days, deposits=chart.deposits, releases=chart.releases)
