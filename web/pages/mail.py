"""Mail and parcels at the desk (issue 13): take one in for a resident, see the owner notified.

The checks are the domain's (kiosk.mail): someone not living here is refused
(``not_a_resident``) unless a postal letter is registered for return; a private
courier's parcel needs the owner's consent. The notice goes into the outbox in the
same transaction as the intake; the notify worker sends it. The page lists the mail
held, the letters to take back to the post office, and each item's notices on its
own page.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from kiosk import mail, printjobs
from kiosk.db import unit_of_work
from kiosk.errors import KioskError
from kiosk.models import Item
from kiosk.privacy import mask_name
from kiosk.values import Collector, Consent, MailForm

from .. import db
from ..auth import desk
from ..errors import ApiError
from ..labels import printer
from ..messages import message
from ..security import now as clock_now
from . import blueprint
from .desk import desk_staff, item_action, item_page, place_error, problem
from .forms import (
    CARRIERS,
    MAIL_CLASS_NAMES,
    MAIL_KIND_NAMES,
    MailPage,
    MailPickupForm,
    ReturnToPostForm,
    UndeliverableForm,
)

bp = blueprint("mail")

FIELDS = {"unit": "unit", "name": "name", "carrier": "carrier", "consent": "consent_by",
          "consent.given_by": "consent_by", "return_to_post": "return_to_post"}


def mail_page(status: int = 200, *, form: MailPage | None = None, refusal: dict | None = None):
    session = db.session()
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    held = list(session.scalars(select(Item).where(Item.kind.in_(("parcel", "mail")), Item.status == "held",
                                                   Item.undeliverable_at.is_(None))
                                .order_by(Item.id.desc()).limit(100)))
    returns = mail.for_return(session, now=clock_now(), limit=100)
    return render_template("desk_mail.html", form=form or MailPage(formdata=None), refusal=refusal,
                           carriers=CARRIERS, held=held, returns=returns, zone=zone, mask_name=mask_name,
                           kinds=MAIL_KIND_NAMES, classes=MAIL_CLASS_NAMES), status


@bp.get("/desk/mail")
@desk_staff
def mail_desk():
    return mail_page()


@bp.post("/desk/mail")
@desk_staff
def intake():
    form = MailPage()
    if not form.validate_on_submit():
        return mail_page(422, form=form)
    session = db.session()
    try:
        with unit_of_work(session):
            actor, target = current_user.actor(), printer(None)
            result = mail.intake(session, desk(), actor, MailForm(
                kind=form.kind.data, unit=form.unit.data, name=form.name.data, carrier=form.carrier.data,
                mail_class=form.mail_class.data, description=form.description.data or "",
                perishable=bool(form.perishable.data),
                consent=Consent(form.consent_by.data, form.consent_channel.data) if form.consent_by.data else None,
                return_to_post=bool(form.return_to_post.data), shelf_slot=form.shelf_slot.data or None),
                now=clock_now())
            # The parcel's tag and the pickup notice for the mailbox (《邮件接收通知单》); a letter
            # going back to the post office gets its tag only.
            job = printjobs.enqueue(session, actor, result.item, target.name, target.url,
                                    part="tag" if result.resident is None else None)
            item_id, job_id = result.item.id, job.id
    except KioskError as error:
        name = FIELDS.get(error.field or "")
        refusal = place_error(form, error) if name is None else None
        if name is not None:
            field = getattr(form, name)
            field.errors = [_field_message(error, field)]
        return mail_page(422, form=form, refusal=refusal)
    except ApiError as error:
        return mail_page(422, form=form, refusal=problem(error))
    return redirect(url_for("desk.taken_in", item_id=item_id, job=job_id), code=303)


def _field_message(error: KioskError, field) -> str:
    return message(error.code, **{**error.params, "field": field.label.text})


@bp.post("/desk/mail/<int:item_id>/pickup")
@desk_staff
def pickup(item_id: int):
    def work(session, form):
        collector = None
        if form.collector_name.data:
            collector = Collector(name=form.collector_name.data, id_type=form.id_type.data or "",
                                  id_last4=(form.id_last4.data or "").upper())
        mail.pickup(session, desk(), current_user.actor(), item_id, tag_code=form.tag_code.data,
                    signature=form.signature.data, pickup_code=form.pickup_code.data or None, collector=collector,
                    now=clock_now())

    form = MailPickupForm()
    if len(form.id_last4.data or "") > 4:
        # More than the last four characters typed: never an ID number back on the page.
        form.id_last4.data, form.id_last4.raw_data = "", None
        form.id_last4.errors = [message("invalid_id_last4", field=form.id_last4.label.text)]
        return item_page(item_id, 422, pickup=form)
    return item_action(item_id, form, work, "picked_up", "pickup")


@bp.post("/desk/mail/<int:item_id>/undeliverable")
@desk_staff
def undeliverable(item_id: int):
    def work(session, form):
        mail.mark_undeliverable(session, current_user.actor(), item_id, form.undeliverable_reason.data,
                                now=clock_now())

    return item_action(item_id, UndeliverableForm(), work, "undeliverable", "undeliverable")


@bp.post("/desk/mail/<int:item_id>/return-to-post")
@desk_staff
def return_to_post(item_id: int):
    def work(session, form):
        mail.return_to_post(session, current_user.actor(), item_id, form.post_worker.data, now=clock_now())

    return item_action(item_id, ReturnToPostForm(), work, "returned_to_post", "to_post")
