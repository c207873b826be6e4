"""The supervisor's pages: what is overdue at a glance, the list to print or take away, the charts.

The list is the API's list (kiosk/overdue.py's one SQL rule set), read with the same
filters as ``GET /api/v1/items``, so the page, the CSV it links to and the print-out
never disagree.
"""
from __future__ import annotations

from itertools import islice
from urllib.parse import urlencode

from flask import render_template, request
from flask_babel import gettext as _

from kiosk import charts, complaints, contacts, exports, overdue, policy, unclaimed
from kiosk.errors import KioskError
from kiosk.models import Item
from kiosk.privacy import mask_name

from .. import db
from ..api.items import ItemsQuery
from ..auth import site_zone
from ..errors import ApiError
from ..messages import message, word
from ..schema import parse_query
from . import blueprint
from .supervision import clock, held_for, only, texts_for_pages

bp = blueprint("supervisor")

PAGE_SIZE = 50
# The printed list is for a meeting: more than this is a CSV's job.
PRINT_LIMIT = 1000
FILTERS = ("status", "kind", "unit", "location", "policy", "overdue", "order")
STATUS_CHOICES = ("held", "lent", "in_custody", "released", "returned", "disposed", "lost_and_found", "all")


def page_query() -> tuple[ItemsQuery, dict, dict | None]:
    """The list's filters from the address (blank fields dropped), as the API reads them;
    the filters to carry into links; and what is wrong with them, if anything."""
    args = {key: value.strip() for key, value in request.args.items() if key in (*FILTERS, "cursor") and value.strip()}
    args.setdefault("order", "urgency")
    try:
        query = parse_query(ItemsQuery, args)
        query.filters().checked()
    except (ApiError, KioskError) as error:
        problem = {"code": error.code, "text": message(error.code, **error.params)}
        return parse_query(ItemsQuery, {"order": "urgency"}), {"order": "urgency"}, problem
    kept = {key: value for key, value in args.items() if key != "cursor"}
    return query, kept, None


def listed_rows(page_rows: list[overdue.Listed], now) -> list[dict]:
    """Each row of the list, with its last contact and the next one due."""
    logs = contacts.contacts_by_item(db.session(), [row.item.id for row in page_rows])
    tz = site_zone()
    rows = []
    for row in page_rows:
        item: Item = row.item
        log = logs[item.id]
        last = log[-1] if log else None
        upcoming = contacts.next_contact(item, log, now=now, tz=tz)
        rows.append({"item": item, "status": row.status, "since": row.since, "owner": mask_name(item.owner_name),
                     "age": held_for(item.deposited_at, now), "in_status": held_for(row.since, now),
                     "last": last, "next": upcoming})
    return rows


@bp.get("/supervisor")
@only("list_items")
def overview():
    query, kept, problem = page_query()
    session, now, tz = db.session(), clock(), site_zone()
    try:
        page = overdue.list_items(session, query.filters(), now=now, tz=tz, order=query.order, limit=PAGE_SIZE,
                                  after=query.cursor)
    except KioskError as error:     # a cursor of the other order, or edited by hand: the first page
        problem = {"code": error.code, "text": message(error.code, **error.params)}
        page = overdue.list_items(session, query.filters(), now=now, tz=tz, order=query.order, limit=PAGE_SIZE)
    glance = overdue.Filters(kind=query.kind, unit=query.unit, location=query.location)
    counts = overdue.summary(session, glance, now=now, tz=tz)
    pending = unclaimed.disposal_requests(session, state="pending", limit=50)
    # Complaint replies past their promise (issue 15): the count here, the list on the complaints desk.
    late_replies = len(complaints.overdue_replies(session, now))
    tickets = {item.id: item.ticket_no for item in
               session.query(Item).filter(Item.id.in_([r.item_id for r in pending]))} if pending else {}
    return render_template(
        "supervisor.html", rows=listed_rows(page.rows, now), next_cursor=page.next_cursor, query=query, kept=kept,
        problem=problem, counts=counts, overdue_total=sum(counts[s] for s in overdue.OVERDUE),
        held_total=sum(counts.values()), statuses=overdue.STATUSES, overdue_statuses=overdue.OVERDUE,
        pending=pending, tickets=tickets, choices=filter_choices(), late_replies=late_replies,
        csv_url="/api/v1/items.csv?" + urlencode(kept), print_url="/supervisor/print?" + urlencode(kept),
        next_url="/supervisor?" + urlencode({**kept, "cursor": page.next_cursor}) if page.next_cursor else None,
        **texts_for_pages()), 422 if problem else 200


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "status": [(s, _("held or lent out") if s == "in_custody" else _("any") if s == "all" else word("status", s))
                   for s in STATUS_CHOICES],
        "kind": [(k, word("kind", k)) for k in policy.KINDS],
        "location": [(p, word("location", p)) for p in policy.LOCATIONS],
        "policy": [(s, word("policy", s)) for s in overdue.STATUSES],
        "order": [("urgency", _("most urgent first")), ("newest", _("newest first"))],
    }


@bp.get("/supervisor/print")
@only("list_items")
def printable():
    """The list on paper for the morning meeting: the page's filters (the unclaimed list: overdue
    ones), every row up to a limit, with a column to tick off."""
    query, kept, problem = page_query()
    now, tz = clock(), site_zone()
    filters = query.filters()
    batches = exports.records(db.session(), filters, now=now, tz=tz, order=query.order, batch=500)
    records = list(islice((record for batch in batches for record in batch), PRINT_LIMIT + 1))
    return render_template("supervisor_print.html", records=records[:PRINT_LIMIT], cut=len(records) > PRINT_LIMIT,
                           limit=PRINT_LIMIT, problem=problem, kept=kept, printed_at=now, filters=filters, mask_name=mask_name,
                           back_url="/supervisor?" + urlencode(kept), **texts_for_pages()), 422 if problem else 200


@bp.get("/supervisor/charts")
@only("list_items")
def chart_page():
    """Held and overdue per day by kind; deposits and hand-outs per hour. Drawn by Chart.js from the
    figures in the page, which are also there as tables for whoever does not see the drawing."""
    days = 90 if request.args.get("days") == "90" else 30
    session, now, tz = db.session(), clock(), site_zone()
    held = charts.held_per_day(session, days=days, now=now, tz=tz)
    traffic = charts.per_hour(session, days=days, now=now, tz=tz)
    kinds = {kind: word("kind", kind) for kind in policy.KINDS}
    overdue_total = [sum(held.overdue[kind][i] for kind in policy.KINDS) for i in range(len(held.days))]
    data = {
        "days": [day.isoformat() for day in held.days],
        "kinds": [{"kind": kind, "label": kinds[kind], "held": held.held[kind]} for kind in policy.KINDS],
        "overdue": overdue_total,
        "hours": [f"{hour:02d}:00" for hour in range(24)],
        "deposits": traffic.deposits, "releases": traffic.releases,
        "labels": {"overdue": _("overdue (all kinds)"), "deposits": _("taken in"), "releases": _("handed out"),
                   "items": _("items"), "day": _("day"), "hour": _("hour of the day")},
    }
    return render_template("supervisor_charts.html", days=days, held=held, traffic=traffic, kinds=kinds,
                           overdue_total=overdue_total, data=data, **texts_for_pages())
