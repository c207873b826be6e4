"""One held item as the supervisor follows it up: where it stands by the desk's rules, who tried
to reach the owner and when to try next, and what may be done with it — remind the owner,
move it to the storeroom, send mail back to the post office, or ask for disposal, which a
second supervisor approves. Every action is the API's domain operation, in one transaction.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kiosk import audit, contacts, ledger, mail, outbox, overdue, policy, unclaimed
from kiosk.db import unit_of_work
from kiosk.errors import KioskError
from kiosk.models import DisposalRequest, Item
from kiosk.privacy import mask_name, mask_phone

from .. import db
from ..api.answers import notification_view
from ..auth import site_zone
from ..messages import message
from . import blueprint
from .wording import refusal as refusal_of
from .forms import EmptyForm
from .supervision import (
    ContactForm,
    DecisionForm,
    DisposalForm,
    NotifyForm,
    ReturnToPostForm,
    UndeliverableForm,
    clock,
    held_for,
    only,
    texts_for_pages,
)

bp = blueprint("supervisor_item")


def item_page(item_id: int, status: int = 200, *, refusal: dict | None = None, **forms):
    session, now, tz = db.session(), clock(), site_zone()
    try:
        item = ledger.get_item(session, item_id)
    except KioskError:
        abort(404)
    standing = overdue.status_of(session, item, now=now, tz=tz)
    log = contacts.contacts_for(session, item.id)
    mail_item = item.kind in policy.NOTICE_KINDS
    pending = unclaimed.disposal_requests(session, state="pending", item_id=item.id, limit=1)
    decided = unclaimed.disposal_requests(session, state=None, item_id=item.id, limit=10)
    defaults = {
        "contact": ContactForm(formdata=None), "notify": NotifyForm(formdata=None, mail_item=mail_item),
        "disposal": DisposalForm(formdata=None), "decision": DecisionForm(formdata=None),
        "undeliverable": UndeliverableForm(formdata=None), "to_post": ReturnToPostForm(formdata=None),
        "move": EmptyForm(formdata=None),
    }
    return render_template(
        "supervisor_item.html", item=item, standing=standing, overdue_now=standing.status in overdue.OVERDUE,
        log=log, upcoming=contacts.next_contact(item, log, now=now, tz=tz), held=held_for(item.deposited_at, now),
        owner_name=mask_name(item.owner_name), owner_phone=mask_phone(item.owner_phone), mail_item=mail_item,
        pending=pending[0] if pending else None, decided=[r for r in decided if r.state != "pending"],
        messages_sent=[notification_view(m) for m in outbox.for_item(session, item.id)],
        trail=audit.events_for(session, item.id), refusal=refusal, mine=_mine,
        **{**defaults, **forms}, **texts_for_pages()), status


def _mine(request) -> bool:
    return request.requested_by_id == current_user.user_id


def act(item_id: int, form, name: str, work, done):
    """Check the form, run ``work(session, form)`` in its own transaction, and go back to the item
    (303) saying what was done (``done``, or ``done(result)``); a refusal shows on the item's page
    beside the form."""
    if not form.validate_on_submit():
        return item_page(item_id, 422, **{name: form})
    session = db.session()
    try:
        with unit_of_work(session):
            result = work(session, form)
    except KioskError as error:
        return item_page(item_id, 409 if error.status == 409 else 403 if error.status == 403 else 422,
                         refusal=refusal_of(error), **{name: form})
    flash(done(result) if callable(done) else done, "info")
    return redirect(url_for("supervisor_item.show", item_id=item_id), code=303)


@bp.get("/supervisor/items/<int:item_id>")
@only("list_items")
def show(item_id: int):
    return item_page(item_id)


@bp.post("/supervisor/items/<int:item_id>/contacts")
@only("list_items")
def log_contact(item_id: int):
    def work(session, form):
        promised = form.promised_at.data.replace(tzinfo=site_zone()) if form.promised_at.data else None
        contacts.log_contact(session, current_user.actor(), item_id, method=form.method.data,
                             outcome=form.outcome.data, note=form.note.data or "", promised_at=promised, now=clock())

    return act(item_id, ContactForm(), "contact", work, _("The contact attempt is in the log."))


@bp.post("/supervisor/items/<int:item_id>/notify")
@only("list_items")
def notify(item_id: int):
    item = db.session().get(Item, item_id) or abort(404)

    def work(session, form):
        return unclaimed.notify_owner(session, current_user.actor(), item_id, form.channel.data, now=clock())

    def done(notified) -> str:
        if notified.queued:
            return _("The reminder is queued; the notify worker sends it.")
        return _("A reminder on this channel is already waiting to be sent; nothing new was queued.")

    return act(item_id, NotifyForm(mail_item=item.kind in policy.NOTICE_KINDS), "notify", work, done)


@bp.post("/supervisor/items/<int:item_id>/move")
@only("list_items")
def to_storeroom(item_id: int):
    def work(session, form):
        ledger.move(session, current_user.actor(), item_id, "storeroom", now=clock())

    return act(item_id, EmptyForm(), "move", work, _("Moved to the basement storeroom."))


@bp.post("/supervisor/items/<int:item_id>/undeliverable")
@only("list_items")
def undeliverable(item_id: int):
    def work(session, form):
        mail.mark_undeliverable(session, current_user.actor(), item_id, form.reason.data, now=clock())

    return act(item_id, UndeliverableForm(), "undeliverable", work,
               _("Marked undeliverable: it goes back to the post office within three days."))


@bp.post("/supervisor/items/<int:item_id>/return-to-post")
@only("list_items")
def return_to_post(item_id: int):
    def work(session, form):
        mail.return_to_post(session, current_user.actor(), item_id, form.post_worker.data, now=clock())

    return act(item_id, ReturnToPostForm(), "to_post", work, _("Returned to the post office."))


@bp.post("/supervisor/items/<int:item_id>/disposal-requests")
@only("list_items")
def request_disposal(item_id: int):
    def work(session, form):
        unclaimed.request_disposal(session, current_user.actor(), item_id, form.action.data, form.reason.data,
                                   now=clock(), tz=site_zone())

    return act(item_id, DisposalForm(), "disposal", work,
               _("Asked. Another supervisor must approve before the item leaves the desk."))


@bp.post("/supervisor/disposal-requests/<int:request_id>/<any(approve, decline):decision>")
@only("list_items")
def decide(request_id: int, decision: str):
    request = db.session().get(DisposalRequest, request_id) or abort(404)

    def work(session, form):
        operation = unclaimed.approve_disposal if decision == "approve" else unclaimed.decline_disposal
        operation(session, current_user.actor(), request_id, form.note.data or "", now=clock())

    done = _("Approved: the item has left the desk.") if decision == "approve" else _("Declined: the item stays.")
    return act(request.item_id, DecisionForm(), "decision", work, done)
