"""The security screen: alerts as they happen (a revoked stub presented, code floods, keys
overdue), resolved with a note; the audit trail of an item; the audit chain checked on demand."""
from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kiosk import alerts, audit
from kiosk.db import unit_of_work
from kiosk.errors import KioskError
from kiosk.models import AuditEvent, Item

from .. import db
from ..api.alerts import check_trail
from ..messages import message
from . import blueprint
from .forms import EmptyForm
from .supervision import ResolveForm, clock, only, texts_for_pages

bp = blueprint("security_desk")

ALERTS_SHOWN = 200


def security_page(status: int = 200, *, verdict=None, resolve: ResolveForm | None = None,
                  failed_alert: int | None = None):
    session = db.session()
    ticket = (request.args.get("ticket") or "").strip()[:32]
    item, trail = None, []
    if ticket:
        item = session.query(Item).filter(Item.ticket_no == ticket.upper()).one_or_none()
        trail = audit.events_for(session, item.id) if item is not None else []
    rows = alerts.list_alerts(session, open_only=request.args.get("alerts") != "all", limit=ALERTS_SHOWN)
    tickets = {i.id: i.ticket_no for i in session.query(Item).filter(Item.id.in_({a.item_id for a in rows}))}
    notes = resolution_notes(session, [a for a in rows if a.resolved_at is not None])
    texts = texts_for_pages()
    return render_template(
        "security.html", alerts=rows, tickets=tickets, details={a.id: json.loads(a.details) for a in rows},
        notes=notes, show_all=request.args.get("alerts") == "all", ticket=ticket, item=item, trail=trail, verdict=verdict,
        resolve=resolve or ResolveForm(formdata=None), failed_alert=failed_alert, verify=EmptyForm(formdata=None),
        live_texts={"kinds": texts["alert_names"], "resolve": _("Resolve"), "note": _("What was done"),
                    "new": _("New")},
        **texts), status


def resolution_notes(session, resolved: list) -> dict[int, str]:
    """What whoever resolved each alert wrote: it is kept in the trail's ``alert_resolved`` row
    (the alert itself only says who and when). Read by the items' index; an alert about no item
    shows no note."""
    ids = {a.item_id for a in resolved if a.item_id is not None}
    if not ids:
        return {}
    notes = {}
    for details in session.scalars(select(AuditEvent.details).where(AuditEvent.item_id.in_(ids),
                                                                    AuditEvent.event == "alert_resolved")):
        data = json.loads(details)
        if data.get("note"):
            notes[data.get("alert_id")] = data["note"]
    return notes


@bp.get("/security")
@only("alerts")
def screen():
    return security_page()


@bp.post("/security/alerts/<int:alert_id>/resolve")
@only("alerts")
def resolve(alert_id: int):
    form = ResolveForm()
    if not form.validate_on_submit():
        return security_page(422, resolve=form, failed_alert=alert_id)
    session = db.session()
    try:
        with unit_of_work(session):
            alerts.resolve_alert(session, current_user.actor(), alert_id, form.note.data or "", now=clock())
    except KioskError as error:
        flash(message(error.code, **error.params), "error")
        return redirect(url_for("security_desk.screen"), code=303)
    flash(_("The alert is resolved."), "info")
    return redirect(url_for("security_desk.screen"), code=303)


@bp.post("/security/verify")
@only("audit")
def verify():
    """Run the chain verification now and show what it found (read-only: nothing is written)."""
    if not EmptyForm().validate_on_submit():
        return security_page(400)
    verdict = check_trail(db.session())
    return security_page(verdict=verdict)
